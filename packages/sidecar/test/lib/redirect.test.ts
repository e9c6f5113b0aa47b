/**
 * Open-redirect corpus for `redirect` (oauth2-proxy advisories GHSA-qqxw-m5fj-f7gv,
 * GHSA-j7px-6hwj-hpjg, GHSA-5m6c-jp6f-2vcv, GHSA-pxq7-h93f-9jrg and more): none leaves the origin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalRedirect } from '../../src/lib/redirect.js';
import { HostileOp } from '../helpers/hostile-op.js';
import { login, makeApp } from '../helpers/harness.js';

const ORIGIN = 'https://dify.example.com';
const HOME = '/apps';

const rejected: string[] = [
  // scheme-relative and backslash variants (GHSA-qqxw)
  '//evil.com',
  '///evil.com',
  '////evil.com',
  '/\\evil.com',
  '\\\\evil.com',
  '\\/evil.com',
  '/\\/evil.com',
  '/.\\evil.com',
  // encoded whitespace / control characters between slashes (GHSA-j7px)
  '/%09/evil.com',
  '/%0a/evil.com',
  '/%0b/evil.com',
  '/%0d/evil.com',
  '/%20/evil.com',
  '/\t/evil.com',
  '/\n/evil.com',
  '/\r/evil.com',
  '/ /evil.com',
  '/%09%09/evil.com',
  '/%0D%0A/evil.com',
  '/%E2%80%8B/evil.com',
  '/\u200b/evil.com',
  '/\u3000/evil.com',
  // encoded slashes and backslashes
  '/%2fevil.com',
  '/%2F%2Fevil.com',
  '/%5cevil.com',
  '/%5Cevil.com',
  '/%252f%252fevil.com',
  '/%25252f/evil.com',
  // absolute URLs and schemes
  'https://evil.com',
  'http://evil.com/apps',
  'https:evil.com',
  'http:/evil.com',
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'vbscript:msgbox(1)',
  'https://dify.example.com.evil.com/',
  'https://dify.example.com@evil.com/',
  'evil.com',
  'apps',
  '.',
  '',
  // fragments (GHSA-pxq7)
  '/apps#//evil.com',
  '/apps%23/evil',
  '/#',
  // dot segments
  '/../evil',
  '/apps/../../evil',
  '/apps/./x',
  '/%2e%2e/evil',
  '/%2E%2E%2Fevil',
  '/apps/%2e/x',
  // userinfo / weird
  '/\u0000/evil.com',
  '/\u007f/evil.com',
  '/%00/evil.com',
  '/%ZZ',
  '/sso/logout',
  '/sso/login?redirect=//evil.com',
  '/SSO/callback',
  `/${'a'.repeat(3000)}`,
];

const accepted: [string, string][] = [
  ['/apps', '/apps'],
  ['/apps/123', '/apps/123'],
  ['/apps?x=1&y=2', '/apps?x=1&y=2'],
  ['/app/abc/workflow', '/app/abc/workflow'],
  ['/datasets?category=all', '/datasets?category=all'],
  ['/', '/'],
  ['/a-b_c~d', '/a-b_c~d'],
  ['/apps?next=%2Fexplore', '/apps?next=%2Fexplore'],
  ['/ssoish', '/ssoish'],
  ['/@evil.com', '/@evil.com'],
];

for (const input of rejected) {
  test(`rejects ${JSON.stringify(input)}`, () => {
    const out = canonicalRedirect(input, ORIGIN, HOME);
    assert.equal(out, HOME);
    assert.equal(new URL(out, ORIGIN).origin, ORIGIN);
  });
}

for (const [input, expected] of accepted) {
  test(`accepts ${JSON.stringify(input)}`, () => {
    const out = canonicalRedirect(input, ORIGIN, HOME);
    assert.equal(out, expected);
    assert.equal(new URL(out, ORIGIN).origin, ORIGIN);
  });
}

test('non-string inputs fall back', () => {
  for (const v of [undefined, null, 42, ['/apps'], { a: 1 }]) assert.equal(canonicalRedirect(v, ORIGIN, HOME), HOME);
});

test('end to end: after a real login through the OP, every corpus value lands on the console home', async (t) => {
  const op = await HostileOp.start();
  t.after(() => op.close());
  const { app } = await makeApp(op);
  t.after(() => app.close());
  for (const input of rejected) {
    const r = await login(app, op, { redirect: input });
    assert.equal(r.callbackRes.headers.location, HOME, JSON.stringify(input));
  }
  const ok = await login(app, op, { redirect: '/apps/7?x=1' });
  assert.equal(ok.callbackRes.headers.location, '/apps/7?x=1');
});

test('fuzz (seeded): no generated input ever yields a target off the origin', () => {
  let seed = 0x5eed;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const atoms = [
    '/',
    '\\',
    '.',
    '..',
    '%2f',
    '%5c',
    '%2e',
    '%09',
    '%0a',
    '%00',
    '%25',
    '#',
    '%23',
    '?',
    '&',
    '@',
    ':',
    'evil.com',
    'apps',
    'http:',
    'javascript:',
    ' ',
    '\t',
    '\u200b',
    '%E2%80%8B',
    '//',
    'a',
  ];
  for (let i = 0; i < 20000; i++) {
    let s = rand() < 0.8 ? '/' : '';
    const n = 1 + Math.floor(rand() * 8);
    for (let j = 0; j < n; j++) s += atoms[Math.floor(rand() * atoms.length)];
    const out = canonicalRedirect(s, ORIGIN, HOME);
    assert.ok(out === HOME || out === s, s);
    const u = new URL(out, ORIGIN);
    assert.equal(u.origin, ORIGIN, s);
    assert.ok(out.startsWith('/') && !out.startsWith('//') && !out.includes('\\') && !out.includes('#'), s);
  }
});
