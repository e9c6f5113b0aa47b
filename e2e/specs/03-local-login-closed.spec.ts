import { test, expect, openSignin, ssoButton, notApplicable } from '../fixtures.js';

// Scenario 3: local login is closed. The sign-in page offers only SSO, and dify-api's local
// login, e-mail-code, registration, password-reset and social routes answer `sso_required`
// even when called directly (with a correct local password), whatever the path spelling.
test.describe('local login is closed', () => {
  for (const variant of ['stock', 'plugin'] as const) {
    test(`the ${variant} sign-in page has no password, code or registration form`, async ({ page, target }) => {
      notApplicable(!target.variants.includes(variant), `no ${variant} sign-in page`);
      await openSignin(page, target, variant);
      await expect(ssoButton(page, variant)).toBeVisible();
      await expect(page.getByLabel('Password', { exact: true })).toHaveCount(0);
      await expect(page.getByLabel(/email address/i)).toHaveCount(0);
      await expect(
        page.getByRole('button', { name: /^(sign in|log in|send verification code|use verification code)$/i }),
      ).toHaveCount(0);
      await expect(page.getByRole('link', { name: /sign up|register|forgot/i })).toHaveCount(0);
    });
  }

  test('system-features tells the console that SSO is enforced', async ({ request, target }) => {
    const res = await request.get(`${target.baseUrl}/console/api/system-features`);
    expect(res.status()).toBe(200);
    const f = (await res.json()) as Record<string, unknown>;
    expect(f).toMatchObject({
      sso_enforced_for_signin: true,
      sso_enforced_for_signin_protocol: 'oidc',
      enable_email_password_login: false,
      enable_email_code_login: false,
      is_allow_register: false,
    });
  });

  // A real local password of a seeded account: the stand-in would accept it without the gate.
  const owner = { email: 'owner@example.com', password: 'owner-local-password' };
  const encoded = (s: string): string => Buffer.from(s).toString('base64');
  const calls: Array<{ what: string; method: 'POST' | 'GET'; path: string; body?: unknown }> = [
    {
      what: 'password login',
      method: 'POST',
      path: '/console/api/login',
      body: { email: owner.email, password: encoded(owner.password), remember_me: true },
    },
    {
      what: 'e-mail code login',
      method: 'POST',
      path: '/console/api/email-code-login',
      body: { email: owner.email, language: 'en-US' },
    },
    {
      what: 'e-mail code validity',
      method: 'POST',
      path: '/console/api/email-code-login/validity',
      body: { email: owner.email, code: 'MTIzNDU2', token: 'x' },
    },
    {
      what: 'registration',
      method: 'POST',
      path: '/console/api/email-register/send-email',
      body: { email: 'new@example.com', language: 'en-US' },
    },
    {
      what: 'forgot password',
      method: 'POST',
      path: '/console/api/forgot-password',
      body: { email: owner.email, language: 'en-US' },
    },
    {
      what: 'reset password',
      method: 'POST',
      path: '/console/api/forgot-password/resets',
      body: { token: 'x', new_password: 'Aa1aaaaaaa', password_confirm: 'Aa1aaaaaaa' },
    },
    { what: 'social OAuth login', method: 'GET', path: '/console/api/oauth/login/github' },
    {
      what: 'password login, doubled slash',
      method: 'POST',
      path: '/console/api//login',
      body: { email: owner.email, password: encoded(owner.password) },
    },
    {
      what: 'password login, trailing slash',
      method: 'POST',
      path: '/console/api/login/',
      body: { email: owner.email, password: encoded(owner.password) },
    },
    {
      what: 'password login, dot segment',
      method: 'POST',
      path: '/console/api/./login',
      body: { email: owner.email, password: encoded(owner.password) },
    },
    {
      what: 'password login, percent-encoded',
      method: 'POST',
      path: '/console/api/%6cogin',
      body: { email: owner.email, password: encoded(owner.password) },
    },
  ];
  for (const call of calls) {
    test(`direct API call is refused with sso_required: ${call.what}`, async ({ request, target }) => {
      const res = await request.fetch(`${target.baseUrl}${call.path}`, {
        method: call.method,
        ...(call.body ? { data: call.body } : {}),
        maxRedirects: 0,
      });
      expect(res.status(), `${call.method} ${call.path}`).toBe(403);
      expect(((await res.json()) as { code?: string }).code).toBe('sso_required');
      expect(res.headers()['set-cookie'] ?? '', 'no Dify session cookie handed out').not.toMatch(/access_token=[^;]/);
    });
  }
});
