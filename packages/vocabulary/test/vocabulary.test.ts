import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  COOKIE_NAMES,
  IDENTITY_HEADERS,
  IDENTITY_HEADER_PREFIXES,
  CLIENT_RESERVED_HEADERS,
  REASON_CODES,
  SSO_PATHS,
  SSO_PREFIX,
  isReasonCode,
  kitCookieName,
} from '../src/index.js';

test('reason codes are unique lower-case words and the guard accepts exactly them', () => {
  assert.equal(new Set(REASON_CODES).size, REASON_CODES.length);
  for (const c of REASON_CODES) {
    assert.match(c, /^[a-z][a-z_]{1,63}$/);
    assert.equal(isReasonCode(c), true);
  }
  for (const v of ['', 'No_Role', 'state_mismatch', 'login_failed', '<b>x</b>', undefined, 1, 'toString'])
    assert.equal(isReasonCode(v), false, String(v));
});

test('every /sso/* path lives under the prefix nginx routes to the sidecar', () => {
  for (const p of Object.values(SSO_PATHS)) assert.ok(p.startsWith(`${SSO_PREFIX}/`), p);
});

test('kit cookies carry __Host- over https only', () => {
  for (const purpose of Object.keys(COOKIE_NAMES) as Array<keyof typeof COOKIE_NAMES>) {
    assert.equal(kitCookieName(purpose, true), `__Host-${kitCookieName(purpose, false)}`);
  }
  assert.equal(kitCookieName('session', true), '__Host-dify_sso');
});

test('identity headers are normalised and the client-settable ones are few', () => {
  for (const h of IDENTITY_HEADERS) assert.match(h, /^[a-z0-9-]+$/);
  for (const h of CLIENT_RESERVED_HEADERS)
    assert.ok(
      IDENTITY_HEADER_PREFIXES.some((p) => h.startsWith(p)),
      h,
    );
  assert.deepEqual([...CLIENT_RESERVED_HEADERS], ['x-sso-token']);
});
