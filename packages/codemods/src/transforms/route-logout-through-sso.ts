import { Node, SyntaxKind } from 'ts-morph';
import { targetNotFound, unexpectedShape } from '../errors.js';
import type { TextEdit } from '../lib/ast.js';
import {
  applyEdits,
  countReferences,
  ensureNamedImport,
  parse,
  removeNodeEdit,
  removeUnusedImports,
} from '../lib/ast.js';
import { ACCOUNT_AVATAR, ACCOUNT_DROPDOWN, PLUGIN_IMPORT } from '../lib/dify-paths.js';
import type { EditContext, FileEdit, Transform } from '../lib/types.js';

const AWAIT_LOGOUT = /^await logout\(\);?$/;
const PUSH_SIGNIN = /^router\.(?:push|replace)\((['"`])\/signin\1\);?$/;

/** Removes `const { mutateAsync: logout } = useLogout()` (or `const router = useRouter()`) when its binding is no longer used. */
function dropUnusedHook(text: string, binding: string, hook: string, ctx: EditContext): string {
  const sf = parse(text, ctx);
  if (countReferences(sf, binding) !== 1) return text;
  const stmt = sf.getDescendantsOfKind(SyntaxKind.VariableStatement).find((s) => {
    const decls = s.getDeclarations();
    const d = decls.length === 1 ? decls[0] : undefined;
    const init = d?.getInitializer();
    if (!d || !init || !Node.isCallExpression(init) || init.getExpression().getText() !== hook) return false;
    const name = d.getNameNode();
    if (Node.isIdentifier(name)) return name.getText() === binding;
    return (
      Node.isObjectBindingPattern(name) &&
      name.getElements().length === 1 &&
      name.getElements()[0]?.getNameNode().getText() === binding
    );
  });
  if (!stmt) return text;
  return removeUnusedImports(applyEdits(text, [removeNodeEdit(text, stmt)]), [hook], ctx);
}

/**
 * In `handleLogout`, drops `await logout()` (Dify-only logout) and replaces
 * `router.push('/signin')` with `ssoLogout()`, which POSTs to `/sso/logout`: the sidecar ends
 * the kit session, Dify's tokens and the IdP session, then lands on the sign-in page.
 */
function rewriteLogout(text: string, ctx: EditContext): string {
  const sf = parse(text, ctx);
  const decl = sf.getDescendantsOfKind(SyntaxKind.VariableDeclaration).find((d) => d.getName() === 'handleLogout');
  if (!decl) throw targetNotFound('the handleLogout handler', ctx);
  const fn = decl.getInitializer();
  if (!fn || !(Node.isArrowFunction(fn) || Node.isFunctionExpression(fn)))
    throw unexpectedShape('handleLogout is not a function expression', ctx);
  const body = fn.getBody();
  if (!Node.isBlock(body)) throw unexpectedShape('handleLogout has no block body', ctx);
  const statements = body.getStatements();
  let out = text;
  if (!statements.some((s) => /^ssoLogout\(/.test(s.getText()))) {
    const awaitStmt = statements.find((s) => AWAIT_LOGOUT.test(s.getText()));
    const pushStmt = statements.find((s) => PUSH_SIGNIN.test(s.getText()));
    if (!awaitStmt || !pushStmt)
      throw targetNotFound("`await logout()` and `router.push('/signin')` in handleLogout", ctx);
    const edits: TextEdit[] = [
      removeNodeEdit(text, awaitStmt),
      { start: pushStmt.getStart(), end: pushStmt.getEnd(), text: 'ssoLogout()' },
    ];
    out = applyEdits(text, edits);
    out = dropUnusedHook(out, 'logout', 'useLogout', ctx);
    out = dropUnusedHook(out, 'router', 'useRouter', ctx);
  }
  return ensureNamedImport(out, PLUGIN_IMPORT, ['ssoLogout'], ctx);
}

const edits: FileEdit[] = [
  { key: 'account-dropdown', path: ACCOUNT_DROPDOWN, edit: rewriteLogout },
  { key: 'avatar', path: ACCOUNT_AVATAR, edit: rewriteLogout },
];

/** Routes the console's logout actions (account menu, account page) through `/sso/logout`. */
export const routeLogoutThroughSso: Transform = {
  slug: 'route-logout-through-sso',
  description:
    'Make the account-menu and account-page logout end at /sso/logout (kit session, Dify tokens and IdP session)',
  edits,
};
