import { NORMAL_FORM } from '../lib/dify-paths.js';
import { blockRendersTag, removeBlocksWithMarker } from '../lib/signin.js';
import type { Transform } from '../lib/types.js';

/** Removes the GitHub/Google social sign-in buttons from the sign-in form. */
export const removeSocialLogin: Transform = {
  slug: 'remove-social-login',
  description: 'Remove the social (GitHub/Google) sign-in buttons from the sign-in form',
  edits: [
    {
      key: 'normal-form',
      path: NORMAL_FORM,
      edit(text, ctx) {
        return removeBlocksWithMarker(
          text,
          ctx,
          'the social sign-in block (<SocialAuth>)',
          (b) => blockRendersTag(b, 'SocialAuth'),
          () => true,
          ['SocialAuth'],
        );
      },
    },
  ],
};
