import type { JsxExpression, SourceFile } from 'ts-morph';
import { Node } from 'ts-morph';
import { targetNotFound } from '../errors.js';
import type { TextEdit } from './ast.js';
import {
  applyEdits,
  blockBody,
  blockConditions,
  conditionalBlocks,
  jsxElementsByTag,
  parse,
  removeNodeEdit,
  removeUnusedImports,
  replaceNodeEdit,
} from './ast.js';
import type { EditContext } from './types.js';

/** True when any condition operand of the block matches `flag` (an identifier or `x.flag`). */
export function blockHasFlag(block: JsxExpression, flag: RegExp): boolean {
  return blockConditions(block).some((c) => flag.test(c.getText()));
}

/** True when the block's JSX contains an element with the tag. */
export function blockRendersTag(block: JsxExpression, tag: string): boolean {
  const body = blockBody(block);
  if (!body) return false;
  const self =
    (Node.isJsxSelfClosingElement(body) || Node.isJsxElement(body)) &&
    (Node.isJsxElement(body) ? body.getOpeningElement() : body).getTagNameNode().getText() === tag;
  if (self) return true;
  return jsxElementsByTag(body, tag).length > 0;
}

/** Outermost blocks only: drops blocks nested in another selected block. */
function outermost(blocks: JsxExpression[]): JsxExpression[] {
  return blocks.filter((b) => !blocks.some((o) => o !== b && o.getStart() <= b.getStart() && o.getEnd() >= b.getEnd()));
}

/** The JSX comment a removal transform leaves where it removed a block (makes re-runs no-ops). */
export function marker(slug: string): string {
  return `{/* dify-sso: ${slug} */}`;
}

/** True when `node` is a comment-only JSX container (a comment and no expression). */
function isCommentOnly(node: Node): boolean {
  return Node.isJsxExpression(node) && node.getExpression() === undefined;
}

/**
 * Removes the conditional JSX blocks `{cond && ...}` selected by `select` (outermost ones
 * only): the `primary` one becomes the slug's marker comment, the others disappear. Then removes
 * the named imports that became unused. With the marker already present and nothing left
 * to remove, returns the text unchanged; with neither, throws ERR_CODEMOD_TARGET_NOT_FOUND.
 */
export function removeBlocksWithMarker(
  text: string,
  ctx: EditContext,
  what: string,
  select: (block: JsxExpression, sf: SourceFile) => boolean,
  primary: (block: JsxExpression) => boolean,
  unusedImports: readonly string[],
): string {
  const sf = parse(text, ctx);
  requireSignInForm(sf, ctx);
  const mark = marker(ctx.slug);
  const hasMarker = text.includes(mark);
  const blocks = outermost(conditionalBlocks(sf).filter((b) => select(b, sf))).sort(
    (a, b) => a.getStart() - b.getStart(),
  );
  if (blocks.length === 0) {
    if (hasMarker) return text;
    throw targetNotFound(what, ctx);
  }
  const main = hasMarker ? undefined : blocks.find(primary);
  if (!hasMarker && main === undefined) throw targetNotFound(what, ctx);
  const edits: TextEdit[] = blocks.map((b) => (b === main ? replaceNodeEdit(text, b, mark) : removeNodeEdit(text, b)));
  const next = applyEdits(text, edits);
  return removeUnusedImports(next, unusedImports, ctx);
}

/**
 * After the e-mail forms are gone, the `{(code || password) && (<> <Split/> </>)}` wrapper
 * renders only the divider: replace it with the marker comments it holds.
 */
export function removeEmptyEmailWrapper(text: string, ctx: EditContext): string {
  const sf = parse(text, ctx);
  const wrappers = conditionalBlocks(sf).filter((block) => {
    const body = blockBody(block);
    if (!body || !Node.isJsxFragment(body)) return false;
    const children = body
      .getJsxChildren()
      .filter((c) => !(Node.isJsxText(c) && c.containsOnlyTriviaWhiteSpaces()) && !isCommentOnly(c));
    if (children.length !== 1) return false;
    const only = children[0];
    return only !== undefined && Node.isJsxSelfClosingElement(only) && only.getTagNameNode().getText() === 'Split';
  });
  if (wrappers.length === 0) return text;
  const edits = wrappers.map((w) => {
    const body = blockBody(w);
    const comments =
      body && Node.isJsxFragment(body)
        ? body
            .getJsxChildren()
            .filter(isCommentOnly)
            .map((c) => c.getText())
        : [];
    return comments.length > 0 ? replaceNodeEdit(text, w, comments.join('\n')) : removeNodeEdit(text, w);
  });
  return removeUnusedImports(applyEdits(text, edits), ['Split'], ctx);
}

/** Fails with ERR_CODEMOD_TARGET_NOT_FOUND unless the file renders the sign-in buttons area. */
export function requireSignInForm(sf: SourceFile, ctx: EditContext): void {
  if (jsxElementsByTag(sf, 'SSOAuth').length === 0 && jsxElementsByTag(sf, 'SsoSignInButton').length === 0)
    throw targetNotFound('the sign-in form (<SSOAuth> or <SsoSignInButton>)', ctx);
}
