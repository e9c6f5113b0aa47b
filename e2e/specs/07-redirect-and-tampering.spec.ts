import type { BrowserContext, Page } from '@playwright/test';
import {
  test,
  expect,
  signIn,
  idpLogin,
  whoAmI,
  consoleStatus,
  csrfHeader,
  escapeRe,
  type Target,
} from '../fixtures.js';

// Scenario 7: open redirect and tampering — `redirect` payloads, a replayed callback URL, a
// forged state (transaction) cookie, a foreign Dify access cookie and a stolen Dify access
// cookie without the kit session are all refused.

/** Where the browser ends after /sso/login?redirect=<payload> with a live IdP session. */
async function landAfterLogin(page: Page, target: Target, payload: string): Promise<URL> {
  const url = `${target.baseUrl}/sso/login?redirect=${encodeURIComponent(payload)}`;
  const offConsole = (err: Error): never => {
    throw new Error(`redirect=${payload} sent the browser off the console: ${err.message.split('\n')[0]}`);
  };
  await page.goto(url).catch(async (err: Error) => {
    // Dify's console may still be navigating itself (client-side redirect after load), which
    // cancels this navigation (ERR_ABORTED) while the page stays on the console: go again.
    if (!/ERR_ABORTED/.test(err.message) || new URL(page.url()).origin !== target.baseUrl) offConsole(err);
    await page.goto(url).catch(offConsole);
  });
  await expect(page).toHaveURL(new RegExp(`^${escapeRe(target.baseUrl)}/`));
  return new URL(page.url());
}

const payloads = [
  'https://evil.example/steal',
  '//evil.example/steal',
  '/\\evil.example/steal',
  '\\\\evil.example/steal',
  '/%2F%2Fevil.example/steal',
  '/%5Cevil.example/steal',
  'https:evil.example',
  'javascript:alert(document.domain)',
  'data:text/html,<script>alert(1)</script>',
  'http://127.0.0.1.evil.example/',
  '/\t/evil.example/steal',
  '@evil.example',
];

/** The sealed transaction cookie the sidecar sets on /sso/login. */
async function transactionCookie(context: BrowserContext, target: Target) {
  const cookies = await context.cookies(target.baseUrl);
  const tx =
    cookies.find((c) => /dify_sso/.test(c.name) && /tx|txn|transaction|state/i.test(c.name)) ??
    cookies.find((c) => /dify_sso/.test(c.name));
  if (!tx) throw new Error(`no transaction cookie among ${cookies.map((c) => c.name).join(', ')}`);
  return tx;
}

/** Goes to /sso/login and stops at the IdP's login form; returns the authorize URL. */
async function startAtIdp(page: Page, target: Target): Promise<string> {
  await page.goto(`${target.baseUrl}/sso/login`);
  await expect(page).toHaveURL(new RegExp(`^${escapeRe(target.issuer)}/`));
  await expect(page.getByLabel('Password', { exact: true })).toBeVisible();
  return page.url();
}

test.describe('open redirect and tampering', () => {
  test('redirect payloads never leave the console origin', async ({ page, target, user, blockedRequests }) => {
    await signIn(page, target, user('alice'));
    for (const payload of payloads) {
      const landed = await landAfterLogin(page, target, payload);
      expect(landed.origin, `redirect=${payload}`).toBe(target.baseUrl);
      expect(landed.pathname, `redirect=${payload}`).not.toMatch(/evil|^\/\/|\\/i);
    }
    expect(blockedRequests, 'no request left for evil.example').toEqual([]);
    // A same-origin path is honoured (the check is not "always /apps").
    const ok = await landAfterLogin(page, target, '/apps?tab=all');
    expect(`${ok.pathname}${ok.search}`).toBe('/apps?tab=all');
  });

  test('a replayed callback URL is refused', async ({ page, target, user, newContext }) => {
    let callbackUrl = '';
    page.on('request', (r) => {
      if (r.url().startsWith(`${target.baseUrl}/sso/callback?`)) callbackUrl = r.url();
    });
    await signIn(page, target, user('alice'));
    expect(callbackUrl).toContain('code=');

    // Same browser, same URL again: the transaction is spent.
    const again = await page.request.get(callbackUrl, { maxRedirects: 0 });
    expect(again.status()).toBe(302);
    expect(again.headers()['location'] ?? '').toMatch(/\/signin\?(?:.*&)?message=/);
    expect(again.headers()['set-cookie'] ?? '', 'no new Dify session').not.toMatch(/access_token=[^;]/);

    // Another browser (the attacker holding a leaked URL): refused, nobody signed in.
    await using attacker = await newContext();
    const p = await attacker.newPage();
    await p.goto(callbackUrl);
    await expect(p).toHaveURL(new RegExp(`^${escapeRe(target.signinUrl)}\\?(?:.*&)?message=`));
    expect((await whoAmI(p, target)).status).toBe(401);
  });

  test('a tampered transaction cookie is refused', async ({ page, context, target, user }) => {
    await startAtIdp(page, target);
    const tx = await transactionCookie(context, target);
    const flipped = tx.value.slice(0, -6) + (tx.value.slice(-6, -5) === 'A' ? 'B' : 'A') + tx.value.slice(-5);
    await context.addCookies([{ ...tx, value: flipped }]);
    await idpLogin(page, user('alice'));
    await expect(page).toHaveURL(new RegExp(`^${escapeRe(target.signinUrl)}\\?(?:.*&)?message=`));
    expect((await whoAmI(page, target)).status).toBe(401);
  });

  test("another login's (validly sealed) transaction cookie is refused", async ({
    page,
    context,
    target,
    user,
    newContext,
  }) => {
    // The attacker starts a login of their own and plants that transaction cookie in the victim's browser.
    await using attacker = await newContext();
    const ap = await attacker.newPage();
    await startAtIdp(ap, target);
    const foreign = await transactionCookie(attacker, target);

    await startAtIdp(page, target);
    const own = await transactionCookie(context, target);
    await context.addCookies([{ ...own, value: foreign.value }]);
    await idpLogin(page, user('alice'));
    await expect(page).toHaveURL(new RegExp(`^${escapeRe(target.signinUrl)}\\?(?:.*&)?message=`));
    expect((await whoAmI(page, target)).status).toBe(401);
  });

  test('a foreign Dify access cookie in a signed-in browser is refused', async ({ newContext, target, user }) => {
    await using ctxAlice = await newContext();
    await using ctxBob = await newContext();
    const a = await ctxAlice.newPage();
    const b = await ctxBob.newPage();
    await signIn(a, target, user('alice'));
    await signIn(b, target, user('bob'));
    // Alice's Dify access token and its CSRF token (so dify-api itself would accept them), Bob's kit session.
    const aliceDify = (await ctxAlice.cookies(target.baseUrl)).filter((c) => /(access_token|csrf_token)$/.test(c.name));
    expect(aliceDify).toHaveLength(2);
    expect(await consoleStatus(b, target), "Bob's own console works").toBe(200);
    await ctxBob.addCookies(aliceDify);
    const res = await b.request.get(`${target.baseUrl}/console/api/account/profile`, {
      headers: await csrfHeader(ctxBob, target),
      maxRedirects: 0,
    });
    expect([401, 403]).toContain(res.status());
    expect(await res.text()).not.toContain(user('alice').email);
    // Alice's own browser is unaffected.
    expect(await consoleStatus(a, target)).toBe(200);
  });

  test('a stolen Dify access cookie without the kit session is refused', async ({ newContext, target, user }) => {
    await using victim = await newContext();
    const v = await victim.newPage();
    await signIn(v, target, user('alice'));
    const stolen = (await victim.cookies(target.baseUrl)).filter((c) =>
      /(access_token|refresh_token|csrf_token)$/.test(c.name),
    );
    expect(stolen.length).toBeGreaterThanOrEqual(2);

    await using thief = await newContext();
    await thief.addCookies(stolen);
    const t = await thief.newPage();
    expect(await consoleStatus(t, target)).toBe(401);
    // Dify's own refresh with the stolen refresh cookie does not bring the session back.
    const csrf = stolen.find((c) => /csrf_token$/.test(c.name))?.value ?? '';
    await t.request.post(`${target.baseUrl}/console/api/refresh-token`, {
      headers: { 'x-csrf-token': csrf },
      maxRedirects: 0,
    });
    expect(await consoleStatus(t, target)).toBe(401);
    // The victim is still signed in (the thief's attempts did not end her session).
    expect(await consoleStatus(v, target)).toBe(200);
  });
});
