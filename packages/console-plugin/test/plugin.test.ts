import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import {
  BreakGlassLink,
  buildLoginUrl,
  buildLogoutUrl,
  GENERIC_SSO_ERROR,
  messageForCode,
  resolvePostLoginPath,
  SSO_ERROR_MESSAGES,
  SsoErrorBanner,
  ssoLogout,
  SsoSignInButton,
} from '../src/index.js';

test('buildLoginUrl encodes the post-login path', () => {
  assert.equal(buildLoginUrl({ redirect: '/apps?x=1' }), '/sso/login?redirect=%2Fapps%3Fx%3D1');
  assert.equal(buildLoginUrl({}), '/sso/login?redirect=%2Fapps');
  assert.equal(buildLoginUrl({ ssoPrefix: '/auth/' }), '/auth/login?redirect=%2Fapps');
});

test('post-login path comes from redirect_url, never from another origin', () => {
  const origin = 'https://dify.example.com';
  assert.equal(resolvePostLoginPath({ search: '?redirect_url=%2Fapp%2F1%2Fworkflow', origin }), '/app/1/workflow');
  assert.equal(
    resolvePostLoginPath({ search: '?redirect_url=https%3A%2F%2Fdify.example.com%2Fdatasets', origin }),
    '/datasets',
  );
  assert.equal(resolvePostLoginPath({ search: '?redirect_url=https%3A%2F%2Fevil.example%2Fx', origin }), '/apps');
  assert.equal(resolvePostLoginPath({ search: '?redirect_url=%2F%2Fevil.example', origin }), '/apps');
  assert.equal(resolvePostLoginPath({ search: '?redirect_url=%2F%5Cevil.example', origin }), '/apps');
  assert.equal(resolvePostLoginPath({ search: '?oauth_redirect_url=%2Ftools', origin }), '/tools');
  assert.equal(resolvePostLoginPath({ redirect: 'javascript:alert(1)', origin }), '/apps');
});

test('base path is prefixed exactly once', () => {
  assert.equal(resolvePostLoginPath({ basePath: '/dify/' }), '/dify/apps');
  assert.equal(resolvePostLoginPath({ basePath: 'dify', redirect: '/dify/apps' }), '/dify/apps');
  assert.equal(resolvePostLoginPath({ basePath: '/dify', redirect: '/difyx' }), '/dify/difyx');
  assert.equal(buildLoginUrl({ basePath: '/dify' }), '/sso/login?redirect=%2Fdify%2Fapps');
});

test('an invitation token on the sign-in page is forwarded, anything odd is not', () => {
  assert.equal(
    buildLoginUrl({ search: '?invite_token=abc-123_x' }),
    '/sso/login?redirect=%2Fapps&invite_token=abc-123_x',
  );
  assert.equal(buildLoginUrl({ search: '?invite_token=null' }), '/sso/login?redirect=%2Fapps');
  assert.equal(buildLoginUrl({ search: '?invite_token=a%26b%3Dc' }), '/sso/login?redirect=%2Fapps');
});

test('logout URL', () => {
  assert.equal(buildLogoutUrl(), '/sso/logout');
  assert.equal(buildLogoutUrl('/x/'), '/x/logout');
});

test('reason codes map to fixed text; unknown values never echo', () => {
  for (const code of [
    'access_denied',
    'idp_unavailable',
    'issuer_mismatch',
    'dify_unsupported_version',
    'not_provisioned',
    'sso_required',
    'session_expired',
    'invalid_state',
    'no_role',
    'email_not_verified',
  ] as const)
    assert.equal(messageForCode(code), SSO_ERROR_MESSAGES[code]);
  assert.equal(messageForCode('<b>Call +1 555</b>'), GENERIC_SSO_ERROR);
  assert.equal(messageForCode(''), undefined);
  assert.equal(messageForCode(undefined), undefined);
});

test('SsoSignInButton has the accessible name "Sign in with <idp>"', () => {
  const html = renderToStaticMarkup(createElement(SsoSignInButton, { idpName: 'Acme ID' }));
  assert.match(html, /^<button type="button" aria-label="Sign in with Acme ID"/);
  assert.match(html, />Sign in with Acme ID<\/button>$/);
  const plain = renderToStaticMarkup(createElement(SsoSignInButton, { label: 'Continue' }));
  assert.match(plain, /aria-label="Sign in with SSO"/);
  assert.match(plain, />Continue<\/button>$/);
});

test('SsoErrorBanner renders role=alert for a code and nothing without one', () => {
  const html = renderToStaticMarkup(createElement(SsoErrorBanner, { code: 'access_denied' }));
  assert.match(html, /role="alert"/);
  assert.ok(html.includes(SSO_ERROR_MESSAGES.access_denied.replace(/'/g, '&#x27;')));
  assert.equal(renderToStaticMarkup(createElement(SsoErrorBanner, {})), '');
});

test('BreakGlassLink renders only when configured', () => {
  assert.equal(renderToStaticMarkup(createElement(BreakGlassLink, {})), '');
  assert.equal(renderToStaticMarkup(createElement(BreakGlassLink, { href: '  ' })), '');
  assert.match(
    renderToStaticMarkup(createElement(BreakGlassLink, { href: '/sso/break-glass' })),
    /href="\/sso\/break-glass"/,
  );
});

test('ssoLogout submits a POST form to /sso/logout and never settles', async () => {
  const submitted: { method: string; action: string }[] = [];
  const form = {
    method: '',
    action: '',
    style: { display: '' },
    submit() {
      submitted.push({ method: this.method, action: this.action });
    },
  };
  const g = globalThis as unknown as { document?: unknown };
  g.document = { createElement: () => form, body: { appendChild: () => {} } };
  try {
    const p = ssoLogout();
    let settled = false;
    p.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    await Promise.resolve();
    assert.equal(settled, false);
    assert.deepEqual(submitted, [{ method: 'POST', action: '/sso/logout' }]);
  } finally {
    delete g.document;
  }
});
