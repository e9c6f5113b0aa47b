import { test } from 'node:test'
import assert from 'node:assert/strict'
import { accessTokenUserId, difyClearCookies, difyCookieName, readCookie } from '../../src/dify/cookies.js'

const rule: [string, string, string, string][] = [
  ['', '', '', 'access_token'],
  ['https://d.example', 'https://d.example', '', '__Host-access_token'],
  ['https://d.example', '', '', 'access_token'],
  ['', 'https://d.example', '', 'access_token'],
  ['http://d.example', 'https://d.example', '', 'access_token'],
  ['https://d.example', 'https://d.example', '.example', 'access_token'],
]
for (const [api, web, domain, want] of rule) {
  test(`Dify cookie name with CONSOLE_API_URL=${api || '""'} CONSOLE_WEB_URL=${web || '""'} COOKIE_DOMAIN=${domain || '""'}`, () => {
    assert.equal(difyCookieName('access_token', { consoleApiUrl: api, consoleWebUrl: web, cookieDomain: domain }), want)
  })
}

test('clearing cookies carry Dify attributes', () => {
  const [a, r, c] = difyClearCookies({ consoleApiUrl: 'https://x', consoleWebUrl: 'https://x', cookieDomain: '' })
  assert.match(a as string, /^__Host-access_token=; .*Path=\/; SameSite=Lax; HttpOnly; Secure$/)
  assert.match(r as string, /^__Host-refresh_token=/)
  assert.doesNotMatch(c as string, /HttpOnly/)
  const [d] = difyClearCookies({ consoleApiUrl: 'https://x', consoleWebUrl: 'https://x', cookieDomain: '.example.com' })
  assert.match(d as string, /^access_token=; .*Domain=example\.com$/)
})

test('readCookie takes the first occurrence (werkzeug)', () => {
  assert.equal(readCookie('a=1; access_token=first; access_token=second', 'access_token'), 'first')
  assert.equal(readCookie('xaccess_token=1', 'access_token'), undefined)
  assert.equal(readCookie(undefined, 'a'), undefined)
})

const jwt = (payload: object) => `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`
test('accessTokenUserId reads user_id and rejects web-app tokens and garbage', () => {
  assert.equal(accessTokenUserId(jwt({ user_id: 'u1', exp: 1 })), 'u1')
  assert.equal(accessTokenUserId(jwt({ user_id: 'u1', token_source: 'webapp' })), undefined)
  assert.equal(accessTokenUserId(jwt({ sub: 'u1' })), undefined)
  assert.equal(accessTokenUserId('not-a-jwt'), undefined)
  assert.equal(accessTokenUserId('a.!!!.b'), undefined)
})
