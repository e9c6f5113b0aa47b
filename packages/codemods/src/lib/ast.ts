import type { JsxExpression, SourceFile } from 'ts-morph';
import { IndentationText, NewLineKind, Node, Project, QuoteKind, SyntaxKind, ts } from 'ts-morph';
import { CodemodError } from '../errors.js';
import type { EditContext } from './types.js';

let project: Project | undefined;

/**
 * One in-memory ts-morph project for the whole process: no tsconfig, no file-system
 * scan, no dependency resolution. Only the files a transform touches are ever added.
 */
function getProject(): Project {
  project ??= new Project({
    useInMemoryFileSystem: true,
    skipAddingFilesFromTsConfig: true,
    skipFileDependencyResolution: true,
    skipLoadingLibFiles: true,
    compilerOptions: { jsx: ts.JsxEmit.Preserve, allowJs: true },
    manipulationSettings: {
      indentationText: IndentationText.TwoSpaces,
      quoteKind: QuoteKind.Single,
      newLineKind: NewLineKind.LineFeed,
      usePrefixAndSuffixTextForRename: false,
      useTrailingCommas: true,
    },
  });
  return project;
}

/** Parses `text` as TSX; fails with ERR_CODEMOD_SYNTAX_ERROR when it does not parse. */
export function parse(text: string, ctx: EditContext): SourceFile {
  const p = getProject();
  const name = `/${ctx.file.replace(/[^\w./-]/g, '_')}`;
  const sf = p.createSourceFile(name.endsWith('.tsx') || name.endsWith('.ts') ? name : `${name}.tsx`, text, {
    overwrite: true,
  });
  const errors = (sf.compilerNode as unknown as { parseDiagnostics?: readonly ts.Diagnostic[] }).parseDiagnostics ?? [];
  if (errors.length > 0) {
    const first = errors[0];
    const msg = first ? ts.flattenDiagnosticMessageText(first.messageText, ' ') : 'parse error';
    throw new CodemodError(
      'ERR_CODEMOD_SYNTAX_ERROR',
      `${ctx.slug}: ${ctx.file} (Dify ${ctx.version}) does not parse: ${msg}`,
      ctx,
    );
  }
  return sf;
}

/** Checks that `text` parses; returns it unchanged. */
export function assertParses(text: string, ctx: EditContext): string {
  parse(text, ctx);
  return text;
}

/** JSX opening or self-closing elements whose tag name is `tag`. */
export function jsxElementsByTag(sf: SourceFile | Node, tag: string): Node[] {
  const out: Node[] = [
    ...sf.getDescendantsOfKind(SyntaxKind.JsxOpeningElement),
    ...sf.getDescendantsOfKind(SyntaxKind.JsxSelfClosingElement),
  ].filter((n) => n.getTagNameNode().getText() === tag);
  return out.sort((a, b) => a.getStart() - b.getStart());
}

/** The nearest `{ ... }` JSX expression container around `node`. */
export function enclosingJsxExpression(node: Node): JsxExpression | undefined {
  return node.getFirstAncestorByKind(SyntaxKind.JsxExpression);
}

/** Strips parentheses. */
export function unparen(node: Node): Node {
  let n = node;
  while (Node.isParenthesizedExpression(n)) n = n.getExpression();
  return n;
}

/** Operands of a `a && b && c` chain (parentheses stripped), or `[expr]`. */
export function conjuncts(node: Node): Node[] {
  const n = unparen(node);
  if (Node.isBinaryExpression(n) && n.getOperatorToken().getKind() === SyntaxKind.AmpersandAmpersandToken)
    return [...conjuncts(n.getLeft()), ...conjuncts(n.getRight())];
  return [n];
}

/** JSX expression containers `{cond && <jsx/>}` (conditional rendering blocks). */
export function conditionalBlocks(sf: SourceFile): JsxExpression[] {
  return sf.getDescendantsOfKind(SyntaxKind.JsxExpression).filter((e) => {
    const expr = e.getExpression();
    if (!expr) return false;
    const parts = conjuncts(expr);
    const last = parts[parts.length - 1];
    return (
      parts.length >= 2 &&
      last !== undefined &&
      (Node.isJsxElement(last) || Node.isJsxSelfClosingElement(last) || Node.isJsxFragment(last))
    );
  });
}

/** The condition operands of a conditional block (all but the rendered JSX). */
export function blockConditions(block: JsxExpression): Node[] {
  const expr = block.getExpression();
  if (!expr) return [];
  const parts = conjuncts(expr);
  return parts.slice(0, -1);
}

/** The rendered JSX of a conditional block. */
export function blockBody(block: JsxExpression): Node | undefined {
  const expr = block.getExpression();
  if (!expr) return undefined;
  const parts = conjuncts(expr);
  return parts[parts.length - 1];
}

/** A text replacement on the original text. */
export type TextEdit = { start: number; end: number; text: string };

/** Applies non-overlapping edits (any order). */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start);
  let out = text;
  let lastStart = Number.POSITIVE_INFINITY;
  for (const e of sorted) {
    if (e.end > lastStart) throw new Error('overlapping edits');
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
    lastStart = e.start;
  }
  return out;
}

/** Leading whitespace of the line that contains `pos`. */
export function lineIndent(text: string, pos: number): string {
  const lineStart = text.lastIndexOf('\n', pos - 1) + 1;
  const m = /^[ \t]*/.exec(text.slice(lineStart));
  return m ? m[0] : '';
}

/**
 * The range to delete for a node: whole lines when the node stands alone on its lines,
 * otherwise exactly the node.
 */
export function removalRange(text: string, start: number, end: number): { start: number; end: number } {
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const before = text.slice(lineStart, start);
  let lineEnd = text.indexOf('\n', end);
  if (lineEnd === -1) lineEnd = text.length;
  const after = text.slice(end, lineEnd);
  if (!(/^[ \t]*$/.test(before) && /^[ \t]*$/.test(after))) return { start, end };
  let rangeEnd = Math.min(lineEnd + 1, text.length);
  // Keep at most one blank line where the removed lines were.
  const prevLineStart = text.lastIndexOf('\n', lineStart - 2) + 1;
  const prevBlank = lineStart > 0 && /^[ \t]*$/.test(text.slice(prevLineStart, lineStart - 1));
  let nextLineEnd = text.indexOf('\n', rangeEnd);
  if (nextLineEnd === -1) nextLineEnd = text.length;
  const nextBlank = rangeEnd < text.length && /^[ \t]*$/.test(text.slice(rangeEnd, nextLineEnd));
  const prevOpens = lineStart > 0 && /[{(]\s*$/.test(text.slice(prevLineStart, lineStart - 1));
  if ((prevBlank || prevOpens) && nextBlank) rangeEnd = Math.min(nextLineEnd + 1, text.length);
  return { start: lineStart, end: rangeEnd };
}

/** Edit that removes `node` (whole lines when it stands alone). */
export function removeNodeEdit(text: string, node: Node): TextEdit {
  const r = removalRange(text, node.getStart(), node.getEnd());
  return { ...r, text: '' };
}

/** Edit that replaces `node` with `replacement` (lines 2..n re-indented to the node's line). */
export function replaceNodeEdit(text: string, node: Node, replacement: string): TextEdit {
  const indent = lineIndent(text, node.getStart());
  const lines = replacement.split('\n');
  const body = lines.map((l, i) => (i === 0 || l === '' ? l : indent + l)).join('\n');
  return { start: node.getStart(), end: node.getEnd(), text: body };
}

/** Counts identifier uses of `name` outside import declarations (walks compiler nodes: no wrapping). */
export function countReferences(sf: SourceFile, name: string): number {
  let n = 0;
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) return;
    if (ts.isIdentifier(node) && node.text === name) n++;
    ts.forEachChild(node, visit);
  };
  visit(sf.compilerNode);
  return n;
}

/**
 * Removes the import bindings in `names` that are no longer referenced; drops an import
 * declaration that becomes empty. Other imports are untouched.
 */
export function removeUnusedImports(text: string, names: readonly string[], ctx: EditContext): string {
  const unused = (sf: SourceFile, n: string) => names.includes(n) && countReferences(sf, n) === 0;
  // Pass 1: whole declarations whose every binding is unused go, as text (keeps blank lines tidy).
  let sf = parse(text, ctx);
  const whole: TextEdit[] = [];
  for (const decl of sf.getImportDeclarations()) {
    const bindings = [
      ...(decl.getDefaultImport() ? [decl.getDefaultImport()!.getText()] : []),
      ...decl.getNamedImports().map((s) => (s.getAliasNode() ?? s.getNameNode()).getText()),
    ];
    if (decl.getNamespaceImport() === undefined && bindings.length > 0 && bindings.every((b) => unused(sf, b)))
      whole.push(removeNodeEdit(text, decl));
  }
  let out = whole.length > 0 ? applyEdits(text, whole) : text;
  // Pass 2: single unused bindings inside a declaration that stays.
  sf = parse(out, ctx);
  let changed = false;
  for (const decl of sf.getImportDeclarations()) {
    for (const spec of decl.getNamedImports()) {
      if (unused(sf, (spec.getAliasNode() ?? spec.getNameNode()).getText())) {
        spec.remove();
        changed = true;
      }
    }
    const d = decl.getDefaultImport();
    if (d && unused(sf, d.getText()) && decl.getNamedImports().length > 0) {
      decl.removeDefaultImport();
      changed = true;
    }
  }
  if (changed) out = sf.getFullText();
  return out;
}

/** Adds `import { name } from 'module'` (or the name to an existing import of that module) if missing. */
export function ensureNamedImport(
  text: string,
  moduleSpecifier: string,
  names: readonly string[],
  ctx: EditContext,
): string {
  const sf = parse(text, ctx);
  const existing = new Set<string>();
  for (const decl of sf.getImportDeclarations()) {
    for (const s of decl.getNamedImports()) existing.add((s.getAliasNode() ?? s.getNameNode()).getText());
    const d = decl.getDefaultImport();
    if (d) existing.add(d.getText());
  }
  const missing = names.filter((n) => !existing.has(n));
  if (missing.length === 0) return text;
  const target = sf
    .getImportDeclarations()
    .find(
      (d) => d.getModuleSpecifierValue() === moduleSpecifier && d.getNamespaceImport() === undefined && !d.isTypeOnly(),
    );
  if (target) {
    target.addNamedImports(missing);
  } else {
    // Inserted as text so the file's own style (no semicolons, single quotes) is kept.
    const decls = sf.getImportDeclarations();
    const last = decls[decls.length - 1];
    const line = `import { ${missing.join(', ')} } from '${moduleSpecifier}'`;
    if (last) return applyEdits(text, [{ start: last.getEnd(), end: last.getEnd(), text: `\n${line}` }]);
    return `${line}\n${text}`;
  }
  return sf.getFullText();
}
