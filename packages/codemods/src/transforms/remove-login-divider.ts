import { NORMAL_FORM } from '../lib/dify-paths.js';
import { blockConditions } from '../lib/ast.js';
import { removeBlocksWithMarker } from '../lib/signin.js';
import type { Transform } from '../lib/types.js';

/** Removes the "or" divider between SSO and the e-mail forms. */
export const removeLoginDivider: Transform = {
  slug: 'remove-login-divider',
  description: 'Remove the "or" divider between the SSO button and the (removed) e-mail forms',
  edits: [
    {
      key: 'normal-form',
      path: NORMAL_FORM,
      edit(text, ctx) {
        return removeBlocksWithMarker(
          text,
          ctx,
          'the "or" divider block ({showORLine && ...})',
          (b) => {
            const conds = blockConditions(b);
            return conds.length === 1 && conds[0]?.getText() === 'showORLine';
          },
          () => true,
          [],
        );
      },
    },
  ],
};
