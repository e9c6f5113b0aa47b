/** The differential assertion itself: each rule catches what it is meant to (negative controls). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCorpus, render } from './corpus.js';
import { violations } from './invariant.js';
import type { Person, UpstreamRecord } from './stack.js';

const A: Person = {
  kit: 'dify_sso=ka',
  access: 'a.b.c',
  refresh: 'ra',
  csrf: 'ca',
  account: 'acc-a',
  refreshFp: 'fp-ra',
};
const B: Person = {
  kit: 'dify_sso=kb',
  access: 'd.e.f',
  refresh: 'rb',
  csrf: 'cb',
  account: 'acc-b',
  refreshFp: 'fp-rb',
};
const ctx = { names: { access: 'access_token', refresh: 'refresh_token' }, filesGated: true };
const rec = (over: Partial<UpstreamRecord>): UpstreamRecord => ({
  kind: 'flask',
  endpoint: 'console.account_profile',
  method: 'GET',
  path: '/console/api/account/profile',
  rawUri: '/console/api/account/profile',
  marker: '1',
  cookies: {},
  headers: ['host'],
  signedFile: false,
  upgrade: null,
  preflight: false,
  ...over,
});

test('a console route with the presented session and its own access cookie is clean', () => {
  assert.deepEqual(violations(rec({ cookies: { access_token: { fp: 'x', account: 'acc-a' } } }), [A], ctx), []);
});

test('each rule reports its violation', () => {
  const cases: [string, UpstreamRecord, Person[], RegExp][] = [
    ['locked route', rec({ endpoint: 'locked.login' }), [A], /locked route executed/],
    ['console without session', rec({}), [], /without a kit session/],
    [
      'engineio without session',
      rec({ kind: 'engineio', endpoint: 'engineio' }),
      [],
      /socketio route reached without a kit session/,
    ],
    [
      'access cookie of another account',
      rec({ cookies: { access_token: { fp: 'x', account: 'acc-b' } } }),
      [A],
      /account acc-b, not of the kit session/,
    ],
    [
      'refresh cookie of another account',
      rec({ endpoint: 'refresh.refresh_token', cookies: { refresh_token: { fp: 'fp-rb' } } }),
      [A],
      /refresh_token that is not the presented/,
    ],
    [
      'web-app API without session',
      rec({ endpoint: 'webapp.parameters' }),
      [],
      /web-app API reached without a kit session/,
    ],
    ['unsigned file without session', rec({ endpoint: 'files.file_preview' }), [], /unsigned file route/],
    [
      'identity header, underscore spelling normalised',
      rec({ endpoint: 'public.ping', headers: ['host', 'x-forwarded-user'] }),
      [],
      /identity header\(s\) x-forwarded-user/,
    ],
    ['reserved prefix', rec({ endpoint: 'mcp.server', headers: ['x-sso-anything'] }), [], /x-sso-anything/],
  ];
  for (const [name, r, people, re] of cases) {
    const v = violations(r, people, ctx);
    assert.equal(v.length, 1, `${name}: ${JSON.stringify(v)}`);
    assert.match(v[0] as string, re, name);
  }
});

test('exempt: signed files, ungated files in nginx mode, Flask OPTIONS answers, public routes', () => {
  assert.deepEqual(violations(rec({ endpoint: 'files.file_preview', signedFile: true }), [], ctx), []);
  assert.deepEqual(violations(rec({ endpoint: 'files.file_preview' }), [], { ...ctx, filesGated: false }), []);
  assert.deepEqual(violations(rec({ method: 'OPTIONS', preflight: true }), [], ctx), []);
  assert.deepEqual(violations(rec({ endpoint: 'public.ping' }), [], ctx), []);
  assert.deepEqual(violations(rec({ endpoint: null }), [B], ctx), []);
});

test('the corpus loads, every case renders to bytes, and presented sessions come from the placeholders', () => {
  const corpus = loadCorpus();
  assert.ok(corpus.length >= 400);
  for (const c of corpus)
    if (c.request) assert.ok(render(c.request, { A, B }, '127.0.0.1:1', '1').bytes.length > 0, c.id);
  const r = render({ target: '/x', headers: [['Cookie', '{kitB}; access_token={accessA}']] }, { A, B }, 'h:1', '2');
  assert.deepEqual(r.presented, ['B']);
  assert.match(
    r.bytes.toString('latin1'),
    /^GET \/x HTTP\/1\.1\r\nHost: h:1\r\nCookie: dify_sso=kb; access_token=a\.b\.c\r\nX-Diff-Req: 2\r\n\r\n$/,
  );
});

test('reserved-prefix headers: refused on gated routes in both modes; on ungated nginx locations only listed names count', () => {
  const withHeaders = (endpoint: string, headers: string[]) => rec({ endpoint, headers });
  const nginx = { ...ctx, ungatedPrefixesPass: ['service', 'mcp', 'triggers', 'unmatched'] as const };
  assert.equal(violations(withHeaders('service.info', ['x-dify-sso-account']), [], nginx).length, 0);
  assert.equal(
    violations(withHeaders('service.info', ['x-dify-sso-account']), [], ctx).length,
    1,
    'proxy mode decides on every route',
  );
  assert.equal(
    violations(withHeaders('service.info', ['x-forwarded-user']), [], nginx).length,
    1,
    'a listed name never passes',
  );
  assert.equal(
    violations(withHeaders('service.info', ['x-sso-upstream-authorization']), [], nginx).length,
    1,
    "the kit's own listed names never pass",
  );
});
