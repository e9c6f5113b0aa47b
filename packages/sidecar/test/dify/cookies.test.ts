import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessTokenUserId } from '../../src/dify/contract/access-token.js';
import {
  difyClearCookies,
  difyCookieName,
  parseCookieHeader,
  readCookie,
  readDifyAuthCookies,
  removeCookies,
} from '../../src/dify/contract/cookies.js';

const rule: [string, string, string, string][] = [
  ['', '', '', 'access_token'],
  ['https://d.example', 'https://d.example', '', '__Host-access_token'],
  ['https://d.example', '', '', 'access_token'],
  ['', 'https://d.example', '', 'access_token'],
  ['http://d.example', 'https://d.example', '', 'access_token'],
  ['https://d.example', 'https://d.example', '.example', 'access_token'],
];
for (const [api, web, domain, want] of rule) {
  test(`Dify cookie name with CONSOLE_API_URL=${api || '""'} CONSOLE_WEB_URL=${web || '""'} COOKIE_DOMAIN=${domain || '""'}`, () => {
    assert.equal(
      difyCookieName('access_token', { consoleApiUrl: api, consoleWebUrl: web, cookieDomain: domain }),
      want,
    );
  });
}

test('clearing cookies carry Dify attributes', () => {
  const [a, r, c] = difyClearCookies({ consoleApiUrl: 'https://x', consoleWebUrl: 'https://x', cookieDomain: '' });
  assert.match(a as string, /^__Host-access_token=; .*Path=\/; SameSite=Lax; HttpOnly; Secure$/);
  assert.match(r as string, /^__Host-refresh_token=/);
  assert.doesNotMatch(c as string, /HttpOnly/);
  const [d] = difyClearCookies({
    consoleApiUrl: 'https://x',
    consoleWebUrl: 'https://x',
    cookieDomain: '.example.com',
  });
  assert.match(d as string, /^access_token=; .*Domain=example\.com$/);
});

test('readCookie takes the first occurrence (werkzeug)', () => {
  assert.equal(readCookie('a=1; access_token=first; access_token=second', 'access_token'), 'first');
  assert.equal(readCookie('xaccess_token=1', 'access_token'), undefined);
  assert.equal(readCookie(undefined, 'a'), undefined);
});

const jwt = (payload: object) =>
  `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;
test('accessTokenUserId reads user_id and rejects web-app tokens and garbage', () => {
  assert.equal(accessTokenUserId(jwt({ user_id: 'u1', exp: 1 })), 'u1');
  assert.equal(accessTokenUserId(jwt({ user_id: 'u1', token_source: 'webapp' })), undefined);
  assert.equal(accessTokenUserId(jwt({ sub: 'u1' })), undefined);
  assert.equal(accessTokenUserId('not-a-jwt'), undefined);
  assert.equal(accessTokenUserId('a.!!!.b'), undefined);
});

// ---- werkzeug's cookie parser (issue 9 finding 2) -----------------------------------------------
// Expectations produced by werkzeug 3.1.6 (the version dify `api/uv.lock` pins), reading each
// header as Flask does: `Request(environ).cookies.items(multi=True)` with HTTP_COOKIE = header.
// `request.cookies.get(name)` (what dify-api calls) is the first pair of that name.
const WERKZEUG_3_1_6: [string, [string, string][]][] = [
  [
    'a=1; b=2',
    [
      ['a', '1'],
      ['b', '2'],
    ],
  ],
  [
    'a=1;b=2',
    [
      ['a', '1'],
      ['b', '2'],
    ],
  ],
  [
    '  a = 1 ;  b=2  ',
    [
      ['a', '1'],
      ['b', '2'],
    ],
  ],
  [
    'a=1; a=2',
    [
      ['a', '1'],
      ['a', '2'],
    ],
  ],
  [
    'access_token=first; access_token=second',
    [
      ['access_token', 'first'],
      ['access_token', 'second'],
    ],
  ],
  [
    'a=1; x="; access_token=A"; access_token=B',
    [
      ['a', '1'],
      ['x', '; access_token=A'],
      ['access_token', 'B'],
    ],
  ],
  [
    'x="a;b"; y=2',
    [
      ['x', 'a;b'],
      ['y', '2'],
    ],
  ],
  [
    'x="a\\"; access_token=A"; access_token=B',
    [
      ['x', 'a"; access_token=A'],
      ['access_token', 'B'],
    ],
  ],
  [
    'x="a\\\\"; access_token=A',
    [
      ['x', 'a\\'],
      ['access_token', 'A'],
    ],
  ],
  ['x="\\101\\102C"', [['x', 'ABC']]],
  ['x="\\303\\251"', [['x', '\u00e9']]],
  ['x="\\377"', [['x', '\ufffd']]],
  ['x="\\q\\;"', [['x', 'q;']]],
  [
    'x="unterminated; access_token=A',
    [
      ['x', '"unterminated'],
      ['access_token', 'A'],
    ],
  ],
  ['x=""', [['x', '']]],
  ['x="', [['x', '"']]],
  ['x', [['x', '']]],
  [
    'x; access_token=A',
    [
      ['x', ''],
      ['access_token', 'A'],
    ],
  ],
  ['=x; access_token=A', [['access_token', 'A']]],
  ['; ; access_token=A;;', [['access_token', 'A']]],
  ['a=1,access_token=A', [['a', '1,access_token=A']]],
  [
    'a=1\tb; c=2',
    [
      ['a', '1\tb'],
      ['c', '2'],
    ],
  ],
  [
    'a=b=c; d=e',
    [
      ['a', 'b=c'],
      ['d', 'e'],
    ],
  ],
  [
    'a="b"c; d=e',
    [
      ['a', '"b"c'],
      ['d', 'e'],
    ],
  ],
  [
    'a="b" ; d=e',
    [
      ['a', 'b'],
      ['d', 'e'],
    ],
  ],
  [
    'a = "x;y" ; access_token=A',
    [
      ['a', 'x;y'],
      ['access_token', 'A'],
    ],
  ],
  [
    '\u001ca=1\u001f; b=2',
    [
      ['a', '1'],
      ['b', '2'],
    ],
  ],
  [
    'a=\u00a0v\u00a0; b=2',
    [
      ['a', 'v'],
      ['b', '2'],
    ],
  ],
  ['\u00ff\u00fe=\u00e9', [['\u00ff\u00fe', '\u00e9']]],
  [
    'a=x\u0085; b=y',
    [
      ['a', 'x'],
      ['b', 'y'],
    ],
  ],
  [
    'a=1\u000bb=2; c=3',
    [
      ['a', '1\u000bb=2'],
      ['c', '3'],
    ],
  ],
  [
    'x="a\\\nb"; c=1',
    [
      ['"a\\\nb"', ''],
      ['c', '1'],
    ],
  ],
  [
    '__Host-access_token=A; access_token=B',
    [
      ['__Host-access_token', 'A'],
      ['access_token', 'B'],
    ],
  ],
  [
    'Access_Token=A; access_token=B',
    [
      ['Access_Token', 'A'],
      ['access_token', 'B'],
    ],
  ],
  [
    'a="x" "y"; b=1',
    [
      ['a', 'x" "y'],
      ['b', '1'],
    ],
  ],
  [
    'dify_sso=s; a="k; dify_sso=t"; dify_sso_tx=u; b=2',
    [
      ['dify_sso', 's'],
      ['a', 'k; dify_sso=t'],
      ['dify_sso_tx', 'u'],
      ['b', '2'],
    ],
  ],
  [
    'a=1; dify_sso=s',
    [
      ['a', '1'],
      ['dify_sso', 's'],
    ],
  ],
  [
    'dify_sso=s; a=1',
    [
      ['dify_sso', 's'],
      ['a', '1'],
    ],
  ],
  ['dify_sso=s', [['dify_sso', 's']]],
];

for (const [header, want] of WERKZEUG_3_1_6) {
  test(`werkzeug 3.1.6 parse_cookie(${JSON.stringify(header)})`, () => {
    assert.deepEqual(
      parseCookieHeader(header).pairs.map((p) => [p.name, p.value]),
      want,
    );
    const firstAccess = want.find(([n]) => n === 'access_token')?.[1];
    assert.equal(readCookie(header, 'access_token'), firstAccess);
  });
}

test('a header werkzeug reads only partly (a value runs into a newline) is not tiled', () => {
  assert.equal(parseCookieHeader('x="a\\\nb"; c=1').tiled, false);
  assert.equal(parseCookieHeader('a=1; b="x;y"').tiled, true);
});

const kit = (n: string) => /^(__Host-)?dify_sso(_tx|_bg)?$/.test(n);
test('removeCookies cuts kit cookies out without changing how werkzeug reads the rest', () => {
  for (const [header, want] of WERKZEUG_3_1_6) {
    if (!parseCookieHeader(header).tiled) {
      assert.equal(removeCookies(header, kit), undefined, 'a header werkzeug skips text of is dropped');
      continue;
    }
    const out = removeCookies(header, kit);
    const kept = want.filter(([n]) => !kit(n));
    assert.deepEqual(out === undefined ? [] : parseCookieHeader(out).pairs.map((p) => [p.name, p.value]), kept, header);
  }
  assert.equal(
    removeCookies('dify_sso=s; a="k; dify_sso=t"; __Host-dify_sso_tx=u; b=2', kit),
    'a="k; dify_sso=t"; b=2',
  );
  assert.equal(removeCookies('dify_sso=s', kit), undefined);
  assert.equal(removeCookies('a=1; b=2', kit), 'a=1; b=2');
});

// ---- ambiguity: refused where another reader could see other credentials ---------------------
const settings = { consoleApiUrl: '', consoleWebUrl: '', cookieDomain: '' };
const ambiguous: [string, string | string[]][] = [
  ['a quoted value hides an access_token (issue 9 reproduction)', 'a=1; x="; access_token=A"; access_token=B'],
  ['an escaped quote inside a quoted value', 'x="a\\"; access_token=A"; access_token=B'],
  ['access_token twice', 'access_token=A; access_token=B'],
  ['refresh_token twice', 'refresh_token=ab; refresh_token=cd'],
  ['csrf_token twice', 'csrf_token=A; csrf_token=B'],
  ['__Host-access_token twice', '__Host-access_token=A; __Host-access_token=B'],
  ['access_token inside an unquoted value', 'a=1,access_token=A'],
  ['refresh_token spelled with an octal escape inside a quoted value', 'x="\\162efresh_token=cd"'],
  ['a look-alike name (case)', 'Access_Token=A; access_token=B'],
  ['a look-alike name (lower-case __host-)', '__host-access_token=A'],
  ['a look-alike name (quote in front)', '"access_token=A'],
  ['a quoted auth value', 'access_token="A"'],
  ['an auth value with an escape', 'csrf_token="A\\101"'],
  ['an auth value with a space', 'access_token=A B'],
  ['text werkzeug skips', 'x="a\\\nb"; access_token=A'],
  ['several Cookie header lines', ['access_token=A', 'x=1']],
];
for (const [what, header] of ambiguous) {
  test(`readDifyAuthCookies refuses: ${what}`, () => {
    const r = readDifyAuthCookies(header, settings);
    assert.equal(r.ok, false, JSON.stringify(r));
  });
}

test('readDifyAuthCookies reads plain headers as werkzeug does', () => {
  const r = readDifyAuthCookies(
    'locale=en-US; access_token=eyJ.a-b_c.d; refresh_token=abcdef0123; csrf_token=eyJ.x.y; theme="dark; mode"',
    settings,
  );
  assert.deepEqual(r, { ok: true, access: 'eyJ.a-b_c.d', refresh: 'abcdef0123', csrf: 'eyJ.x.y' });
  const https = readDifyAuthCookies('access_token=old; __Host-access_token=new', {
    consoleApiUrl: 'https://d',
    consoleWebUrl: 'https://d',
    cookieDomain: '',
  });
  assert.deepEqual(https, { ok: true, access: 'new', refresh: undefined, csrf: undefined });
  assert.deepEqual(readDifyAuthCookies(undefined, settings), {
    ok: true,
    access: undefined,
    refresh: undefined,
    csrf: undefined,
  });
  assert.equal(
    readDifyAuthCookies('oauth_access_token_hint=1; x=2', settings).ok,
    true,
    'a longer cookie name is another cookie',
  );
});
