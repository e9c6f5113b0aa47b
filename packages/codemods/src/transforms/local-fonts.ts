import { readFileSync } from 'node:fs';
import { Node, SyntaxKind } from 'ts-morph';
import { targetNotFound, unexpectedShape } from '../errors.js';
import type { TextEdit } from '../lib/ast.js';
import { applyEdits, parse, replaceNodeEdit } from '../lib/ast.js';
import { FONT_DIR, ROOT_LAYOUT } from '../lib/dify-paths.js';
import type { Transform } from '../lib/types.js';

/** Google fonts the kit ships an OFL replacement for: next/font/google export → font files. */
const LOCAL_FONTS: Record<string, { dir: string; files: { file: string; weight: string; style: string }[] }> = {
  Instrument_Serif: {
    dir: 'instrument-serif',
    files: [
      { file: 'instrument-serif-latin-400-normal.woff2', weight: '400', style: 'normal' },
      { file: 'instrument-serif-latin-400-italic.woff2', weight: '400', style: 'italic' },
    ],
  },
};

const ASSETS = new URL('../../assets/fonts/', import.meta.url);
/** Name of the package the font files ship in (this one). */
const ownPackage = () =>
  (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string }).name;
/** Path of the font folder as seen from web/app/layout.tsx. */
const FROM_LAYOUT = `./${FONT_DIR.replace(/^web\/app\//, '')}`;

function localFontCall(name: string, variable: string | undefined): string {
  const font = LOCAL_FONTS[name];
  if (!font) throw new Error(`no local font for ${name}`);
  const src = font.files.map(
    (f) => `    { path: '${FROM_LAYOUT}/${f.file}', weight: '${f.weight}', style: '${f.style}' },`,
  );
  return [
    'localFont({',
    '  src: [',
    ...src,
    '  ],',
    ...(variable ? [`  variable: ${variable},`] : []),
    "  display: 'swap',",
    '})',
  ].join('\n');
}

/**
 * Replaces `next/font/google` in the root layout with `next/font/local` and vendored OFL
 * font files, so the build needs no font-service download and the console makes no
 * third-party font requests. The font's CSS variable is kept, so styles are unchanged.
 */
export const localFonts: Transform = {
  slug: 'local-fonts',
  description:
    'Replace next/font/google with next/font/local and vendored OFL font files (offline build, no third-party font requests)',
  edits: [
    {
      key: 'layout',
      path: ROOT_LAYOUT,
      edit(text, ctx) {
        const sf = parse(text, ctx);
        const google = sf.getImportDeclarations().filter((d) => d.getModuleSpecifierValue() === 'next/font/google');
        if (google.length === 0) {
          if (text.includes(`from 'next/font/local'`) && text.includes(FROM_LAYOUT)) return text;
          throw targetNotFound('the next/font/google import', ctx);
        }
        const edits: TextEdit[] = [];
        for (const decl of google) {
          if (decl.getDefaultImport() || decl.getNamespaceImport())
            throw unexpectedShape('next/font/google is not imported by name', ctx);
          for (const spec of decl.getNamedImports()) {
            const name = spec.getNameNode().getText();
            const local = (spec.getAliasNode() ?? spec.getNameNode()).getText();
            if (!LOCAL_FONTS[name]) throw unexpectedShape(`Google font ${name} has no bundled local replacement`, ctx);
            const calls = sf
              .getDescendantsOfKind(SyntaxKind.CallExpression)
              .filter((c) => c.getExpression().getText() === local);
            if (calls.length === 0) throw targetNotFound(`the ${local}({...}) call`, ctx);
            for (const call of calls) {
              const arg = call.getArguments()[0];
              if (!arg || !Node.isObjectLiteralExpression(arg))
                throw unexpectedShape(`${local}() is not called with an object literal`, ctx);
              const weight = arg.getProperty('weight');
              if (weight && !/^weight:\s*(?:\[\s*)?'400'(?:\s*,?\s*\])?$/.test(weight.getText().replace(/"/g, "'")))
                throw unexpectedShape(`${local}() asks for weights other than 400`, ctx);
              const variable = arg.getProperty('variable');
              const value =
                variable && Node.isPropertyAssignment(variable) ? variable.getInitializer()?.getText() : undefined;
              edits.push(replaceNodeEdit(text, call, localFontCall(name, value)));
            }
          }
          edits.push({ start: decl.getStart(), end: decl.getEnd(), text: "import localFont from 'next/font/local'" });
        }
        return applyEdits(text, edits);
      },
    },
  ],
  sources() {
    const files = new Map<string, string>();
    const pkg = ownPackage();
    for (const font of Object.values(LOCAL_FONTS)) {
      for (const f of font.files) files.set(`${FONT_DIR}/${f.file}`, `${pkg}/assets/fonts/${font.dir}/${f.file}`);
      files.set(`${FONT_DIR}/${font.dir}-OFL.txt`, `${pkg}/assets/fonts/${font.dir}/OFL.txt`);
    }
    return files;
  },
  adds() {
    const files = new Map<string, Uint8Array>();
    for (const font of Object.values(LOCAL_FONTS)) {
      for (const f of font.files)
        files.set(`${FONT_DIR}/${f.file}`, readFileSync(new URL(`${font.dir}/${f.file}`, ASSETS)));
      files.set(`${FONT_DIR}/${font.dir}-OFL.txt`, readFileSync(new URL(`${font.dir}/OFL.txt`, ASSETS)));
    }
    return files;
  },
};
