import {
  test,
  expect,
  signIn,
  whoAmI,
  escapeRe,
  openSignin,
  ssoButton,
  notApplicable,
  clickLogout,
  defaultVariant,
} from '../fixtures.js';

// Scenario 4: logout ends the IdP session too — the next sign-in asks for credentials again.
test.describe('logout', () => {
  test("the console plugin's logout ends the console and the IdP session", async ({ page, target, user }) => {
    notApplicable(!target.variants.includes('plugin'), 'the console has no plugin logout (E2E_PLUGIN_BUTTON)');
    const alice = user('alice');
    await signIn(page, target, alice, 'plugin');
    await clickLogout(page);
    await expect(page).toHaveURL(new RegExp(`^${escapeRe(target.signinUrl)}`));
    expect((await whoAmI(page, target)).status).toBe(401);
    await ssoButton(page, 'plugin').click();
    await expect(page.getByLabel('Password', { exact: true }), 'the IdP asks for credentials again').toBeVisible();
    await expect(page).toHaveURL(new RegExp(`^${escapeRe(target.issuer)}/`));
  });

  test('/sso/logout asks first, then ends the console and the IdP session', async ({ page, target, user }) => {
    const alice = user('alice');
    await signIn(page, target, alice);
    // Visiting /sso/logout (e.g. from a link) changes nothing: it shows a form that POSTs.
    await page.goto(`${target.baseUrl}/sso/logout`);
    await expect(page.getByRole('heading', { name: 'Log out' })).toBeVisible();
    expect((await whoAmI(page, target)).status, 'still signed in after the GET').toBe(200);
    await page.getByRole('button', { name: 'Log out' }).click();
    await expect(page).toHaveURL(new RegExp(`^${escapeRe(target.signinUrl)}`));
    expect((await whoAmI(page, target)).status).toBe(401);
    await openSignin(page, target);
    await ssoButton(page, defaultVariant(target)).click();
    await expect(page.getByLabel('Password', { exact: true }), 'the IdP asks for credentials again').toBeVisible();
  });

  test('a cross-site logout (foreign Origin) leaves the session alive', async ({ page, target, user }) => {
    const alice = user('alice');
    await signIn(page, target, alice);
    // The browser context's cookies with another site's Origin, as a cross-site form would send them.
    const res = await page.request.post(`${target.baseUrl}/sso/logout`, {
      headers: { origin: 'https://evil.example' },
      maxRedirects: 0,
    });
    expect(res.status()).toBe(403);
    expect(((await res.json()) as { code: string }).code).toBe('cross_site_request');
    expect((await whoAmI(page, target)).status).toBe(200);
  });

  test("the stock console's logout ends the console session and returns the IdP logout URL", async ({
    page,
    target,
    user,
  }) => {
    notApplicable(
      !target.variants.includes('stock'),
      'the console is patched: its logout is the plugin logout (E2E_PLUGIN_BUTTON)',
    );
    const alice = user('alice');
    await signIn(page, target, alice, 'stock');
    // Read the logout answer on its way to the page (the page navigates right after it).
    let status = 0;
    let body: { result?: string; redirect_url?: string } = {};
    await page.route(`${target.baseUrl}/console/api/logout`, async (route) => {
      const response = await route.fetch();
      status = response.status();
      body = (await response.json().catch(() => ({}))) as typeof body;
      await route.fulfill({ response });
    });
    await clickLogout(page);
    await expect.poll(() => status).toBe(200);
    expect(body.result).toBe('success');
    expect(body.redirect_url ?? '', 'end-session URL of the IdP').toMatch(new RegExp(`^${escapeRe(target.issuer)}/`));
    await expect(page).toHaveURL(new RegExp(`^${escapeRe(target.signinUrl)}`));
    expect((await whoAmI(page, target)).status).toBe(401);
  });

  test("the stock console's logout ends the IdP session too (server-side end-session)", async ({
    page,
    target,
    user,
  }) => {
    // The stock page never visits the IdP on logout; the sidecar ends the IdP session itself with
    // id_token_hint. OPs that only know their session from the browser cookie cannot do that.
    notApplicable(
      !target.variants.includes('stock'),
      'the console is patched: its logout is the plugin logout (E2E_PLUGIN_BUTTON)',
    );
    notApplicable(
      !target.issuer.includes('/realms/'),
      'server-side end-session needs an OP that ends the session named by id_token_hint (Keycloak)',
    );
    const alice = user('alice');
    await signIn(page, target, alice, 'stock');
    await clickLogout(page);
    await expect(page).toHaveURL(new RegExp(`^${escapeRe(target.signinUrl)}`));
    expect((await whoAmI(page, target)).status).toBe(401);
    await openSignin(page, target, 'stock');
    await ssoButton(page, 'stock').click();
    await expect(page.getByLabel('Password', { exact: true }), 'the IdP asks for credentials again').toBeVisible();
    await expect(page).toHaveURL(new RegExp(`^${escapeRe(target.issuer)}/`));
  });
});
