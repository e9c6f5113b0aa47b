import { test, expect, signIn, requireLocal, consoleStatus, expectChunksOneByOne, type Target } from '../fixtures.js';
import { startThrowawayKit, type ThrowawayKit } from '../support/throwaway.js';

// Reverse-proxy mode (no nginx): the sidecar forwards every request itself. Same guarantees as
// the auth_request gate — sign-in lands in the console, local login is closed, a stolen Dify
// cookie without the kit session is refused — and SSE chunks leave as they arrive.
let kit: ThrowawayKit | undefined;
let proxied: Target;

test.beforeAll(async ({ target }) => {
  test.setTimeout(120_000);
  const stack = requireLocal(target);
  kit = await startThrowawayKit(stack, { name: 'proxy', mode: 'proxy' });
  const { idpAdmin: _sharedIdp, ...rest } = target;
  proxied = { ...rest, baseUrl: kit.publicUrl, signinUrl: `${kit.publicUrl}/signin`, issuer: kit.issuer };
});

test.afterAll(async () => {
  await kit?.stop();
});

test('reverse-proxy mode: sign-in, lockdown and stolen-cookie refusal', async ({ page, newContext, user }) => {
  await signIn(page, proxied, user('alice'), 'stock');
  await expect(page.getByText(`Signed in as ${user('alice').name}`)).toBeVisible();
  expect(await consoleStatus(page, proxied)).toBe(200);

  const login = await page.request.post(`${proxied.baseUrl}/console/api/login`, {
    data: { email: 'owner@example.com', password: Buffer.from('owner-local-password').toString('base64') },
    maxRedirects: 0,
  });
  expect(login.status()).toBe(403);
  expect(((await login.json()) as { code?: string }).code).toBe('sso_required');

  const stolen = (await page.context().cookies(proxied.baseUrl)).filter((c) =>
    /(access_token|refresh_token|csrf_token)$/.test(c.name),
  );
  await using thief = await newContext();
  await thief.addCookies(stolen);
  expect(await consoleStatus(await thief.newPage(), proxied)).toBe(401);
});

test('reverse-proxy mode: SSE chunks arrive one by one', async ({ page, target, user }) => {
  const stack = requireLocal(target);
  const gate = `e2e-proxy-${test.info().testId}`;
  await signIn(page, proxied, user('alice'), 'stock');
  await expectChunksOneByOne(page, proxied.baseUrl, stack, gate);
});
