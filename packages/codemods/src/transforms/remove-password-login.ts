import { unexpectedShape } from '../errors.js';
import { jsxElementsByTag, parse } from '../lib/ast.js';
import { NORMAL_FORM } from '../lib/dify-paths.js';
import { blockHasFlag, blockRendersTag, removeBlocksWithMarker, removeEmptyEmailWrapper } from '../lib/signin.js';
import type { Transform } from '../lib/types.js';

const PASSWORD_FLAG = /^(?:[\w$]+\.)*enable_email_password_login$|^hasEmailPasswordLogin$/;

/** Removes the e-mail + password form and the "use password" switch from the sign-in form. */
export const removePasswordLogin: Transform = {
  slug: 'remove-password-login',
  description: 'Remove the e-mail + password form and the switch to it from the sign-in form',
  edits: [
    {
      key: 'normal-form',
      path: NORMAL_FORM,
      edit(text, ctx) {
        const out = removeBlocksWithMarker(
          text,
          ctx,
          'the password sign-in block (<MailAndPasswordAuth>)',
          (b) => blockHasFlag(b, PASSWORD_FLAG),
          (b) => blockRendersTag(b, 'MailAndPasswordAuth'),
          ['MailAndPasswordAuth'],
        );
        if (jsxElementsByTag(parse(out, ctx), 'MailAndPasswordAuth').length > 0)
          throw unexpectedShape('<MailAndPasswordAuth> is rendered outside a password-login condition', ctx);
        return removeEmptyEmailWrapper(out, ctx);
      },
    },
  ],
};
