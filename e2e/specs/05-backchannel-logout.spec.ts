import { test, expect, signIn, whoAmI, consoleStatus, escapeRe, auditEvents } from '../fixtures.js';

// Scenario 5: ending the user's sessions through the IdP's admin API makes the very next
// console request fail within one second (no waiting for Dify's 60-minute access token).
test.describe('back-channel logout', () => {
  test("ending the user's IdP sessions locks the console within one second", async ({ page, target, idp }) => {
    await using person = await idp.createUser({ groups: ['dify-editors'] });
    await signIn(page, target, person);
    expect((await whoAmI(page, target)).status).toBe(200);
    expect(await idp.sessionCount(person.id)).toBeGreaterThan(0);

    await idp.logoutUser(person.id);
    await expect.poll(() => consoleStatus(page, target), { timeout: 1_000, intervals: [50, 100, 100, 200] }).toBe(401);
    // It was the back-channel logout (not the liveness check) that ended it.
    if (target.stack)
      expect(
        auditEvents(target.stack.logs['sidecar'], 'auth.backchannel').some(
          (e) => e['sub'] === person.id && Number(e['count']) >= 1,
        ),
      ).toBe(true);

    // The console page itself sends the user back to sign in.
    await page.goto(`${target.baseUrl}/apps`);
    await expect(page).toHaveURL(new RegExp(`^${escapeRe(target.signinUrl)}`));
  });

  test("another user's sessions are not touched", async ({ newContext, target, idp }) => {
    await using victim = await idp.createUser({ groups: ['dify-editors'] });
    await using bystander = await idp.createUser({ groups: ['dify-editors'] });
    await using ctxA = await newContext();
    await using ctxB = await newContext();
    const a = await ctxA.newPage();
    const b = await ctxB.newPage();
    await signIn(a, target, victim);
    await signIn(b, target, bystander);
    await idp.logoutUser(victim.id);
    await expect.poll(() => consoleStatus(a, target), { timeout: 1_000, intervals: [50, 100, 100, 200] }).toBe(401);
    expect(await consoleStatus(b, target)).toBe(200);
  });
});
