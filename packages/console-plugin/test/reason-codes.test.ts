/**
 * The banner's message table and the sidecar's reason codes are one list: the type-level checks
 * below fail `tsc -p .` when a reason code has no message or a message has no reason code (the
 * plugin's sources are copied into Dify's `web/`, so they cannot import the vocabulary package
 * themselves), and the test checks the same at run time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REASON_CODES, type ReasonCode } from '@dify-sso-kit/vocabulary';
import { SSO_ERROR_MESSAGES, type SsoErrorCode } from '../src/index.js';

/** `true` only when A and B are the same union. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

// A reason code the sidecar can emit that the banner cannot show, or a message for a code the
// sidecar never emits, makes one of these lines a type error.
const everyCodeHasAMessage: Record<ReasonCode, string> = SSO_ERROR_MESSAGES;
const sameUnion: Same<SsoErrorCode, ReasonCode> = true;

test('the banner has exactly one message per sidecar reason code', () => {
  assert.equal(sameUnion, true);
  assert.deepEqual(Object.keys(SSO_ERROR_MESSAGES).sort(), [...REASON_CODES].sort());
  for (const code of REASON_CODES) assert.ok(everyCodeHasAMessage[code].length > 0, code);
});

test("the plugin links to the sidecar's own /sso/* paths", async () => {
  const { DEFAULT_SSO_PREFIX } = await import('../src/lib/redirect.js');
  const { SSO_PREFIX, SSO_PATHS } = await import('@dify-sso-kit/vocabulary');
  assert.equal(DEFAULT_SSO_PREFIX, SSO_PREFIX);
  const { buildLoginUrl, buildLogoutUrl } = await import('../src/index.js');
  assert.equal(buildLogoutUrl(), SSO_PATHS.logout);
  assert.ok(buildLoginUrl({}).startsWith(`${SSO_PATHS.login}?`));
});
