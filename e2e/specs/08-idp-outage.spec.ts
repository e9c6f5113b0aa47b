import { readFileSync } from 'node:fs';
import {
  test,
  expect,
  signinAlert,
  signIn,
  requireLocal,
  consoleStatus,
  openSignin,
  ssoButton,
  escapeRe,
  type Target,
} from '../fixtures.js';
import { startThrowawayKit, type ThrowawayKit } from '../support/throwaway.js';
import { createStore } from '../../packages/sidecar/src/store/index.js';
import { issueBreakGlassToken } from '../../packages/sidecar/src/break-glass/store.js';

// Scenario 8: IdP outage. A throwaway IdP (the embedded OP, started here and killed by the test)
// with its own sidecar and nginx next to the shared Dify stand-in, so the outage cannot disturb
// the other specs or the shared Keycloak (see e2e/README.md for why). With the IdP down:
// sign-in says "identity provider unavailable", existing sessions keep working, and break-glass
// reopens password login for the one client that redeemed the token, audited.
let kit: ThrowawayKit | undefined;
let outage: Target;

test.beforeAll(async ({ target }) => {
  test.setTimeout(120_000);
  const stack = requireLocal(target);
  kit = await startThrowawayKit(stack, { name: 'outage', mode: 'authrequest' });
  const { idpAdmin: _sharedIdp, ...rest } = target;
  outage = { ...rest, baseUrl: kit.publicUrl, signinUrl: `${kit.publicUrl}/signin`, issuer: kit.issuer };
});

test.afterAll(async () => {
  await kit?.stop();
});

/** The outage: the throwaway IdP is killed (idempotent). */
const idpDown = async (): Promise<void> => kit!.idpDown();

// Runs first in the file: it needs the IdP up to open the session, then takes it down.
test('a session opened before the IdP went down keeps working', async ({ newContext, user }) => {
  const alice = user('alice');
  await using ctxAlice = await newContext();
  const a = await ctxAlice.newPage();
  await signIn(a, outage, alice, 'stock');
  expect(await consoleStatus(a, outage)).toBe(200);

  await idpDown();

  expect(await consoleStatus(a, outage)).toBe(200);
  await a.goto(`${outage.baseUrl}/apps`);
  await expect(a.getByText(`Signed in as ${alice.name}`)).toBeVisible();
});

test('with the IdP down, sign-in says the identity provider is unavailable', async ({ page }) => {
  await idpDown();
  // The sidecar probes the IdP before sending a browser there and may reuse a probe result for a
  // few seconds, so the first attempts right after the outage may still be sent to the dead IdP.
  await expect(async () => {
    await openSignin(page, outage, 'plugin');
    await ssoButton(page, 'plugin').click();
    await expect(page).toHaveURL(new RegExp(`^${escapeRe(outage.signinUrl)}\\?(?:.*&)?message=idp_unavailable`), {
      timeout: 2_000,
    });
  }).toPass({ timeout: 15_000 });
  await expect(signinAlert(page)).toContainText(/unavailable/i);

  // The stock SSO button (system-features path) gets the same answer from the compatibility endpoint.
  await openSignin(page, outage, 'stock');
  await ssoButton(page, 'stock').click();
  await expect(signinAlert(page)).toContainText(/unavailable|not available/i);
  await expect(page).toHaveURL(new RegExp(`^${escapeRe(outage.signinUrl)}`));
});

test('break-glass reopens password login for the one client that redeemed the token, audited', async ({
  newContext,
  target,
}) => {
  const stack = requireLocal(target);
  await idpDown();
  const owner = { email: 'owner@example.com', password: Buffer.from('owner-local-password').toString('base64') };
  await using ctxOther = await newContext();
  const other = await ctxOther.newPage();
  expect(
    (await other.request.post(`${outage.baseUrl}/console/api/login`, { data: owner, maxRedirects: 0 })).status(),
  ).toBe(403);

  // The operator issues a one-time token (what `dify-sso break-glass issue` does) ...
  const store = createStore({ store: 'redis', redis: { url: stack.redisUrl, keyPrefix: kit!.keyPrefix } });
  const { token } = await issueBreakGlassToken(store.kv, 600);
  await store.close();

  // ... and redeems it in the browser of an allowlisted client.
  await using ctxOp = await newContext();
  const o = await ctxOp.newPage();
  await o.goto(`${outage.baseUrl}/sso/break-glass`);
  await o.getByLabel('Token').fill(token);
  await o.getByRole('button', { name: 'Reopen password login' }).click();
  await expect(o).toHaveURL(new RegExp(`^${escapeRe(outage.signinUrl)}`));
  const opened = await o.request.post(`${outage.baseUrl}/console/api/login`, { data: owner, maxRedirects: 0 });
  expect(opened.status()).toBe(200);
  expect(await consoleStatus(o, outage)).toBe(200);

  // Only for that client: the other browser is still refused, and the token is single-use.
  expect(
    (await other.request.post(`${outage.baseUrl}/console/api/login`, { data: owner, maxRedirects: 0 })).status(),
  ).toBe(403);
  await using ctxReuse = await newContext();
  const r = await ctxReuse.newPage();
  const reuse = await r.request.post(`${outage.baseUrl}/sso/break-glass`, { form: { token }, maxRedirects: 0 });
  expect(reuse.status()).toBe(403);

  // Audited, without the token.
  const log = readFileSync(kit!.sidecar.logFile, 'utf8');
  expect(log).toMatch(/"event":"break_glass\.used"/);
  expect(log).not.toContain(token);
});
