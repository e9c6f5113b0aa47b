import type { Node as TsNode } from 'ts-morph';
import { Node, SyntaxKind } from 'ts-morph';
import { targetNotFound } from '../errors.js';
import type { TextEdit } from '../lib/ast.js';
import {
  applyEdits,
  ensureNamedImport,
  jsxElementsByTag,
  lineIndent,
  parse,
  removeNodeEdit,
  removeUnusedImports,
} from '../lib/ast.js';
import { NORMAL_FORM, PLUGIN_IMPORT } from '../lib/dify-paths.js';
import { requireSignInForm } from '../lib/signin.js';
import type { EditContext, Transform } from '../lib/types.js';

const TOAST_CALLS = new Set(['Toast.notify', 'toast.error', 'Toast.error']);

/** The statement that shows `?message=` as a toast, or the whole `useEffect` holding only it. */
function findMessageToast(text: string, ctx: EditContext): TsNode | undefined {
  const sf = parse(text, ctx);
  for (const stmt of sf.getDescendantsOfKind(SyntaxKind.IfStatement)) {
    if (stmt.getExpression().getText() !== 'message' || stmt.getElseStatement() !== undefined) continue;
    const then = stmt.getThenStatement();
    const inner = Node.isBlock(then) ? then.getStatements() : [then];
    const only = inner.length === 1 ? inner[0] : undefined;
    if (only === undefined || !Node.isExpressionStatement(only)) continue;
    const call = only.getExpression();
    if (!Node.isCallExpression(call) || !TOAST_CALLS.has(call.getExpression().getText())) continue;
    // `useEffect(() => { if (message) toast.error(message) }, [message])` → drop the effect.
    const fn = stmt.getParent()?.getParent();
    const effect = fn?.getParent();
    const effectStmt = effect?.getParent();
    if (
      fn &&
      Node.isArrowFunction(fn) &&
      effect &&
      Node.isCallExpression(effect) &&
      effect.getExpression().getText() === 'useEffect' &&
      effectStmt &&
      Node.isExpressionStatement(effectStmt)
    ) {
      const body = fn.getBody();
      if (Node.isBlock(body) && body.getStatements().length === 1) return effectStmt;
    }
    return stmt;
  }
  return undefined;
}

/**
 * Puts `<SsoErrorBanner />` (reads `?message=` and shows the sidecar's reason code as text)
 * at the top of the sign-in button column, and removes the stock toast that echoed `?message=`.
 */
export const addSsoErrorBanner: Transform = {
  slug: 'add-sso-error-banner',
  description: 'Show SSO errors (?message=<reason code>) in a banner above the SSO button instead of a raw toast',
  edits: [
    {
      key: 'normal-form',
      path: NORMAL_FORM,
      edit(text, ctx) {
        const sf = parse(text, ctx);
        requireSignInForm(sf, ctx);
        const hasBanner = jsxElementsByTag(sf, 'SsoErrorBanner').length > 0;
        const toast = findMessageToast(text, ctx);
        if (!toast && !hasBanner)
          throw targetNotFound('the ?message= toast (if (message) Toast.notify/toast.error)', ctx);
        const edits: TextEdit[] = [];
        if (toast) edits.push(removeNodeEdit(text, toast));
        if (!hasBanner) {
          const anchor = [...jsxElementsByTag(sf, 'SsoSignInButton'), ...jsxElementsByTag(sf, 'SSOAuth')][0];
          const column = anchor
            ?.getAncestors()
            .find(
              (a) =>
                Node.isJsxElement(a) &&
                /\bflex-col\b/.test(a.getOpeningElement().getAttribute('className')?.getText() ?? ''),
            );
          if (column === undefined || !Node.isJsxElement(column))
            throw targetNotFound('the sign-in button column (<div className="... flex-col ...">)', ctx);
          const open = column.getOpeningElement();
          const indent = lineIndent(text, column.getStart());
          edits.push({ start: open.getEnd(), end: open.getEnd(), text: `\n${indent}  <SsoErrorBanner />` });
        }
        let out = applyEdits(text, edits);
        out = removeUnusedImports(out, ['Toast', 'toast', 'useEffect'], ctx);
        return ensureNamedImport(out, PLUGIN_IMPORT, ['SsoErrorBanner'], ctx);
      },
    },
  ],
};
