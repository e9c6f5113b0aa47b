import { SyntaxKind } from 'ts-morph';
import { blockBody } from '../lib/ast.js';
import { NORMAL_FORM } from '../lib/dify-paths.js';
import { removeBlocksWithMarker } from '../lib/signin.js';
import type { Transform } from '../lib/types.js';

/** Removes the "no account? sign up" link from the sign-in form. */
export const removeSignup: Transform = {
  slug: 'remove-signup',
  description: 'Remove the sign-up link from the sign-in form',
  edits: [
    {
      key: 'normal-form',
      path: NORMAL_FORM,
      edit(text, ctx) {
        return removeBlocksWithMarker(
          text,
          ctx,
          'the sign-up link block (<Link href="/signup">)',
          (b) => {
            const body = blockBody(b);
            return (
              body
                ?.getDescendantsOfKind(SyntaxKind.JsxAttribute)
                .some(
                  (d) => d.getNameNode().getText() === 'href' && /signup/i.test(d.getInitializer()?.getText() ?? ''),
                ) ?? false
            );
          },
          () => true,
          ['Link'],
        );
      },
    },
  ],
};
