import {
  test,
  expect,
  signinAlert,
  signIn,
  startSignIn,
  whoAmI,
  standinAccounts,
  escapeRe,
  notApplicable,
} from '../fixtures.js';

// Scenario 2: JIT provisioning with the role from IdP groups; a role change at the IdP applies
// at the next login; a user without a mapped group is denied with a readable message and gets
// no Dify account; an unverified e-mail is never linked to an existing account; a disabled IdP
// user cannot log in.
test.describe('provisioning and role mapping', () => {
  test('a new IdP user in dify-editors is provisioned on first login as editor', async ({ page, target, idp }) => {
    await using person = await idp.createUser({ groups: ['dify-editors'] });
    if (target.stack) expect(await standinAccounts(target, person.email)).toEqual([]);
    await signIn(page, target, person);
    const me = await whoAmI(page, target);
    expect(me).toMatchObject({ status: 200, email: person.email, role: 'editor' });
    if (target.stack) {
      const accounts = await standinAccounts(target, person.email);
      expect(accounts).toHaveLength(1);
      expect(accounts[0]?.status).toBe('active');
      expect(accounts[0]?.memberships.map((m) => m.role)).toEqual(['editor']);
    }
  });

  test('a role change at the IdP applies at the next login', async ({ newContext, target, idp }) => {
    await using person = await idp.createUser({ groups: ['dify-editors'] });
    {
      await using context = await newContext();
      const page = await context.newPage();
      await signIn(page, target, person);
      expect((await whoAmI(page, target)).role).toBe('editor');
    }
    await idp.setGroups(person.id, ['dify-admins']);
    await idp.logoutUser(person.id);
    {
      await using context = await newContext();
      const page = await context.newPage();
      await signIn(page, target, person);
      expect((await whoAmI(page, target)).role).toBe('admin');
    }
  });

  test('carol (no mapped group) is denied with a readable message and gets no Dify account', async ({
    page,
    target,
    user,
  }) => {
    notApplicable(!target.variants.includes('plugin'), `the console has no plugin banner (E2E_PLUGIN_BUTTON)`);
    const carol = user('carol');
    await startSignIn(page, target, carol, 'plugin');
    await expect(page).toHaveURL(
      new RegExp(`^${escapeRe(target.signinUrl)}\\?(?:.*&)?message=(no_role|access_denied|not_provisioned)(&|$)`),
    );
    // A sentence that tells the person why, not a code and not the generic "did not complete".
    await expect(signinAlert(page)).toContainText(/role|access|not allowed|administrator/i);
    await expect(signinAlert(page)).not.toContainText(/did not complete|no_role|access_denied/);
    expect((await whoAmI(page, target)).status).toBe(401);
    if (target.stack) expect(await standinAccounts(target, carol.email)).toEqual([]);
  });

  test('carol is denied on the stock sign-in page too, with the reason shown', async ({ page, target, user }) => {
    notApplicable(
      !target.variants.includes('stock'),
      'the console is patched: no stock sign-in page (E2E_PLUGIN_BUTTON)',
    );
    const carol = user('carol');
    await startSignIn(page, target, carol, 'stock');
    await expect(page).toHaveURL(new RegExp(`^${escapeRe(target.signinUrl)}\\?(?:.*&)?message=`));
    await expect(signinAlert(page)).toBeVisible();
    await expect(page.getByRole('button', { name: 'Continue with SSO' })).toBeVisible();
    expect((await whoAmI(page, target)).status).toBe(401);
  });

  test('dave (e-mail not verified) is not linked to the existing Dify account with his e-mail', async ({
    page,
    target,
    user,
  }) => {
    const dave = user('dave');
    const before = target.stack ? await standinAccounts(target, dave.email) : [];
    await startSignIn(page, target, dave);
    await expect(page).toHaveURL(
      new RegExp(`^${escapeRe(target.signinUrl)}\\?(?:.*&)?message=(email_not_verified|access_denied)(&|$)`),
    );
    await expect(signinAlert(page)).toBeVisible();
    expect((await whoAmI(page, target)).status).toBe(401);
    if (target.stack) {
      // The seeded Dave account is untouched: not signed in, role unchanged, no second account.
      expect(await standinAccounts(target, dave.email)).toEqual(before);
    }
  });

  test('eve (disabled at the IdP) cannot log in', async ({ page, target, user }) => {
    const eve = user('eve');
    await startSignIn(page, target, eve);
    await expect(page).not.toHaveURL(new RegExp(`^${escapeRe(target.baseUrl)}/apps`));
    await expect(page.getByText(/disabled|invalid username or password/i)).toBeVisible();
    expect((await whoAmI(page, target)).status).toBe(401);
    if (target.stack) expect(await standinAccounts(target, eve.email)).toEqual([]);
  });
});
