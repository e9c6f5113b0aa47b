import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  clearingCookies,
  cookieDomain,
  isSecure,
  parseCookieHeader,
  realCookieName,
  sessionCookies,
} from '../src/lib/cookies.js';
import { versionFeatures } from '../src/version.js';

describe('cookie naming rule (api/libs/token.py)', () => {
  const table: [
    string,
    { api: string; web: string; domain: string; version: string },
    string,
    string | null,
    boolean,
  ][] = [
    // name, inputs, expected access-token name, expected Domain, Secure
    ['defaults (empty URLs)', { api: '', web: '', domain: '', version: '1.16.1' }, 'access_token', null, false],
    [
      'both https',
      { api: 'https://d.example.com', web: 'https://d.example.com', domain: '', version: '1.16.1' },
      '__Host-access_token',
      null,
      true,
    ],
    [
      'only the API URL https',
      { api: 'https://d.example.com', web: '', domain: '', version: '1.16.1' },
      'access_token',
      null,
      false,
    ],
    [
      'only the web URL https',
      { api: 'http://d.example.com', web: 'https://d.example.com', domain: '', version: '1.16.1' },
      'access_token',
      null,
      false,
    ],
    [
      'http URLs',
      { api: 'http://d.example.com', web: 'http://d.example.com', domain: '', version: '1.16.1' },
      'access_token',
      null,
      false,
    ],
    [
      'https + COOKIE_DOMAIN',
      { api: 'https://a.example.com', web: 'https://w.example.com', domain: 'example.com', version: '1.16.1' },
      'access_token',
      'example.com',
      true,
    ],
    [
      'leading dot stripped',
      { api: 'https://a.example.com', web: 'https://w.example.com', domain: '.example.com', version: '1.10.0' },
      'access_token',
      'example.com',
      true,
    ],
    [
      'whitespace-only domain = none',
      { api: 'https://a', web: 'https://a', domain: '   ', version: '1.16.1' },
      '__Host-access_token',
      null,
      true,
    ],
    [
      'COOKIE_DOMAIN ignored before 1.10.0',
      { api: 'https://a.example.com', web: 'https://a.example.com', domain: 'example.com', version: '1.9.2' },
      '__Host-access_token',
      null,
      true,
    ],
    [
      'http + COOKIE_DOMAIN',
      { api: '', web: '', domain: 'example.com', version: '1.16.1' },
      'access_token',
      'example.com',
      false,
    ],
  ];
  for (const [title, i, name, domain, secure] of table) {
    it(title, () => {
      const rule = {
        consoleApiUrl: i.api,
        consoleWebUrl: i.web,
        cookieDomain: i.domain,
        features: versionFeatures(i.version),
      };
      assert.equal(realCookieName('access_token', rule), name);
      assert.equal(cookieDomain(rule), domain);
      assert.equal(isSecure(rule), secure);
      const set = sessionCookies(
        { accessToken: 'A', refreshToken: 'R', csrfToken: 'C' },
        rule,
        { accessTokenExpireMinutes: 60, refreshTokenExpireDays: 30 },
        0,
      );
      assert.equal(set.length, 3);
      for (const c of set) {
        assert.equal(c.includes('; Secure'), secure);
        assert.equal(c.includes('; Domain='), domain !== null);
        assert.ok(c.includes('; Path=/'));
        assert.ok(c.endsWith('; SameSite=Lax'));
      }
    });
  }

  it("writes the three cookies with Dify's attributes (Werkzeug order)", () => {
    const rule = {
      consoleApiUrl: 'https://x',
      consoleWebUrl: 'https://x',
      cookieDomain: '',
      features: versionFeatures('1.16.1'),
    };
    const [csrf, access, refresh] = sessionCookies(
      { accessToken: 'A', refreshToken: 'R', csrfToken: 'C' },
      rule,
      { accessTokenExpireMinutes: 60, refreshTokenExpireDays: 30 },
      0,
    );
    assert.equal(
      csrf,
      '__Host-csrf_token=C; Expires=Thu, 01 Jan 1970 01:00:00 GMT; Max-Age=3600; Secure; Path=/; SameSite=Lax',
    );
    assert.equal(
      access,
      '__Host-access_token=A; Expires=Thu, 01 Jan 1970 01:00:00 GMT; Max-Age=3600; Secure; HttpOnly; Path=/; SameSite=Lax',
    );
    assert.equal(
      refresh,
      '__Host-refresh_token=R; Expires=Sat, 31 Jan 1970 00:00:00 GMT; Max-Age=2592000; Secure; HttpOnly; Path=/; SameSite=Lax',
    );
  });

  it('clears the three cookies with an epoch Expires', () => {
    const rule = { consoleApiUrl: '', consoleWebUrl: '', cookieDomain: '', features: versionFeatures('1.16.1') };
    const cleared = clearingCookies(rule, 123);
    assert.deepEqual(
      cleared.map((c) => c.split(';')[0]),
      ['access_token=', 'refresh_token=', 'csrf_token='],
    );
    for (const c of cleared) assert.ok(c.includes('Expires=Thu, 01 Jan 1970 00:00:00 GMT'));
    assert.ok(!cleared[2]?.includes('HttpOnly'), 'csrf cookie stays readable');
  });

  it('parses a Cookie header, first occurrence wins', () => {
    const m = parseCookieHeader('a=1; b="2"; a=3; junk; c=');
    assert.equal(m.get('a'), '1');
    assert.equal(m.get('b'), '2');
    assert.equal(m.get('c'), '');
    assert.equal(m.has('junk'), false);
  });
});
