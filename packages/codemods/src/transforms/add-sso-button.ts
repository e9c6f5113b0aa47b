import { targetNotFound, unexpectedShape } from '../errors.js';
import {
  applyEdits,
  conjuncts,
  enclosingJsxExpression,
  ensureNamedImport,
  jsxElementsByTag,
  parse,
  removeUnusedImports,
  replaceNodeEdit,
} from '../lib/ast.js';
import { NORMAL_FORM, PLUGIN_IMPORT } from '../lib/dify-paths.js';
import type { Transform } from '../lib/types.js';

/** Build-time variable (optional) that makes the break-glass link appear under the button. */
export const BREAK_GLASS_ENV = 'NEXT_PUBLIC_DIFY_SSO_BREAK_GLASS_URL';

const BUTTON_BLOCK = [
  '<div className="w-full">',
  '  <SsoSignInButton basePath={basePath} />',
  `  <BreakGlassLink href={process.env.${BREAK_GLASS_ENV}} />`,
  '</div>',
].join('\n');

/**
 * Replaces the stock, feature-flag-dependent `<SSOAuth>` block of the sign-in form with the
 * plugin's always-shown `<SsoSignInButton>` (which starts `/sso/login`).
 */
export const addSsoButton: Transform = {
  slug: 'add-sso-button',
  description: "Replace the stock SSO block of the sign-in form with the kit's always-shown SSO button",
  edits: [
    {
      key: 'normal-form',
      path: NORMAL_FORM,
      edit(text, ctx) {
        const sf = parse(text, ctx);
        const stock = jsxElementsByTag(sf, 'SSOAuth');
        const ours = jsxElementsByTag(sf, 'SsoSignInButton');
        let out = text;
        if (ours.length > 0) {
          if (stock.length > 0) throw unexpectedShape('both <SSOAuth> and <SsoSignInButton> are rendered', ctx);
        } else {
          const first = stock[0];
          if (first === undefined) throw targetNotFound('the SSO sign-in block (<SSOAuth>)', ctx);
          if (stock.length > 1) throw unexpectedShape(`<SSOAuth> is rendered ${stock.length} times`, ctx);
          const block = enclosingJsxExpression(first);
          const expr = block?.getExpression();
          if (block === undefined || expr === undefined || conjuncts(expr).length < 2)
            throw unexpectedShape('<SSOAuth> is not inside a {condition && (...)} block', ctx);
          out = applyEdits(text, [replaceNodeEdit(text, block, BUTTON_BLOCK)]);
          out = removeUnusedImports(out, ['SSOAuth'], ctx);
        }
        out = ensureNamedImport(out, PLUGIN_IMPORT, ['BreakGlassLink', 'SsoSignInButton'], ctx);
        out = ensureNamedImport(out, '@/utils/var', ['basePath'], ctx);
        return out;
      },
    },
  ],
};
