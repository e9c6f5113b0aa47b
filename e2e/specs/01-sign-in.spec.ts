import {
  test,
  expect,
  signIn,
  whoAmI,
  expectDifyCookiesHttpOnly,
  expectNoAuthArtifacts,
  notApplicable,
} from '../fixtures.js';

// Scenario 1: sign-in through the stock SSO button (system-features path) and through the
// console plugin's button (codemod path) lands on /apps as the right person with the right role;
// Dify's cookies are httpOnly; no token, code or state stays in the URL or in web storage.
for (const variant of ['stock', 'plugin'] as const) {
  test.describe(`sign-in through the ${variant === 'stock' ? 'stock SSO button' : "console plugin's button"}`, () => {
    test.beforeEach(({ target }) => {
      notApplicable(
        !target.variants.includes(variant),
        `the console under test has no ${variant} sign-in button (E2E_PLUGIN_BUTTON)`,
      );
    });

    test(`alice lands on /apps as herself with her mapped role (${variant})`, async ({
      page,
      target,
      user,
      blockedRequests,
    }) => {
      const alice = user('alice');
      await signIn(page, target, alice, variant);
      const me = await whoAmI(page, target);
      expect(me.status).toBe(200);
      expect(me.email).toBe(alice.email);
      if (alice.role) expect(me.role).toBe(alice.role);
      if (target.kind === 'local')
        await expect(page.getByText(`Signed in as ${alice.name} (${alice.role})`)).toBeVisible();
      await expectDifyCookiesHttpOnly(page);
      await expectNoAuthArtifacts(page);
      const kitCookies = (await page.context().cookies(target.baseUrl)).filter((c) => /dify_sso/.test(c.name));
      expect(kitCookies.length, 'kit session cookie').toBeGreaterThan(0);
      for (const c of kitCookies) expect(c.httpOnly, `${c.name} is httpOnly`).toBe(true);
      expect(blockedRequests, 'requests to hosts outside the deployment').toEqual([]);
    });

    test(`bob lands on /apps as an editor (${variant})`, async ({ page, target, user }) => {
      const bob = user('bob');
      await signIn(page, target, bob, variant);
      const me = await whoAmI(page, target);
      expect(me.email).toBe(bob.email);
      if (bob.role) expect(me.role).toBe(bob.role);
      await expectNoAuthArtifacts(page);
    });
  });
}
