import { NORMAL_FORM } from '../lib/dify-paths.js';
import { blockConditions } from '../lib/ast.js';
import { removeBlocksWithMarker } from '../lib/signin.js';
import type { Transform } from '../lib/types.js';

/** Removes the "no login method configured" panel: the SSO button is always offered. */
export const removeNoLoginMethodNotice: Transform = {
  slug: 'remove-no-login-method-notice',
  description: 'Remove the "no login method" panel (the SSO button is always shown)',
  edits: [
    {
      key: 'normal-form',
      path: NORMAL_FORM,
      edit(text, ctx) {
        return removeBlocksWithMarker(
          text,
          ctx,
          'the "no login method" block ({allMethodsAreDisabled && ...})',
          (b) => {
            const conds = blockConditions(b);
            return conds.length === 1 && conds[0]?.getText() === 'allMethodsAreDisabled';
          },
          () => true,
          ['RiDoorLockLine'],
        );
      },
    },
  ],
};
