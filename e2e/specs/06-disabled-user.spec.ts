import { test, expect, signIn, startSignIn, whoAmI, consoleStatus, escapeRe, notApplicable } from '../fixtures.js';

// Scenario 6: disabling the user at the IdP — no new session can start, and the existing one
// ends at the next liveness check (the local stack checks every 2 s; against a deployment the
// check interval is E2E_LIVENESS_SECONDS).
const livenessSeconds = (stackSeconds: number | undefined): number =>
  Number(process.env.E2E_LIVENESS_SECONDS ?? stackSeconds ?? 0);

test.describe('disabled user', () => {
  test('a disabled user cannot start a session and loses the existing one at the next liveness check', async ({
    newContext,
    target,
    idp,
  }) => {
    const interval = livenessSeconds(target.stack?.livenessSeconds);
    notApplicable(interval <= 0, 'the deployment has no liveness check configured (E2E_LIVENESS_SECONDS)');
    test.setTimeout(60_000 + interval * 1000);
    await using person = await idp.createUser({ groups: ['dify-editors'] });
    await using ctxOld = await newContext();
    const old = await ctxOld.newPage();
    await signIn(old, target, person);
    expect((await whoAmI(old, target)).status).toBe(200);

    await idp.setEnabled(person.id, false);

    // No new session: the IdP refuses the login and the console stays locked.
    await using ctxNew = await newContext();
    const fresh = await ctxNew.newPage();
    await startSignIn(fresh, target, person);
    await expect(fresh).not.toHaveURL(new RegExp(`^${escapeRe(target.baseUrl)}/apps`));
    await expect(fresh.getByText(/disabled|invalid username or password/i)).toBeVisible();
    expect((await whoAmI(fresh, target)).status).toBe(401);

    // The existing session ends at the next liveness check.
    await expect
      .poll(() => consoleStatus(old, target), { timeout: (interval + 5) * 1000, intervals: [250, 500] })
      .toBe(401);
  });
});
