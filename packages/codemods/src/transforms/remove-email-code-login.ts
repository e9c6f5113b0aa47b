import { unexpectedShape } from '../errors.js';
import { jsxElementsByTag, parse } from '../lib/ast.js';
import { NORMAL_FORM } from '../lib/dify-paths.js';
import { blockHasFlag, blockRendersTag, removeBlocksWithMarker, removeEmptyEmailWrapper } from '../lib/signin.js';
import type { Transform } from '../lib/types.js';

const CODE_FLAG = /^(?:[\w$]+\.)*enable_email_code_login$|^hasEmailCodeLogin$/;

/** Removes the e-mail verification-code form and the "use verification code" switch. */
export const removeEmailCodeLogin: Transform = {
  slug: 'remove-email-code-login',
  description: 'Remove the e-mail verification-code form and the switch to it from the sign-in form',
  edits: [
    {
      key: 'normal-form',
      path: NORMAL_FORM,
      edit(text, ctx) {
        const out = removeBlocksWithMarker(
          text,
          ctx,
          'the e-mail code sign-in block (<MailAndCodeAuth>)',
          (b) => blockHasFlag(b, CODE_FLAG),
          (b) => blockRendersTag(b, 'MailAndCodeAuth'),
          ['MailAndCodeAuth'],
        );
        if (jsxElementsByTag(parse(out, ctx), 'MailAndCodeAuth').length > 0)
          throw unexpectedShape('<MailAndCodeAuth> is rendered outside an e-mail-code condition', ctx);
        return removeEmptyEmailWrapper(out, ctx);
      },
    },
  ],
};
