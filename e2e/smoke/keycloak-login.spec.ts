import { test, expect } from '@playwright/test';
import { startMinimalRp, type MinimalRp } from './minimal-rp.js';
import { ports, urls } from '../../scripts/lib/ports.js';

// Plumbing smoke test: Chromium opens Keycloak's own login page for the realm, alice logs in
// through Keycloak's form, and lands back at a minimal relying party, authenticated.
let rp: MinimalRp;
// The plumbing smoke test belongs to the local stack; a deployment run reports it as not applicable.
test.skip(!!process.env.E2E_BASE_URL, 'local-stack plumbing check: not applicable against a deployment (E2E_BASE_URL)');
test.beforeAll(async () => {
  rp = await startMinimalRp({ issuer: urls.keycloakIssuer, port: ports.smokeRp });
});
test.afterAll(async () => {
  await rp?.close();
});

test('alice logs in through Keycloak and lands back authenticated', async ({ page }) => {
  await page.goto(`${rp.url}/login`);
  await expect(page).toHaveURL(new RegExp(`^${urls.keycloakIssuer}/protocol/openid-connect/auth`));
  await page.getByLabel('Username or email').fill('alice');
  await page.getByLabel('Password', { exact: true }).fill('alice-password');
  await page.getByRole('button', { name: 'Sign In' }).click();
  await expect(page).toHaveURL(new RegExp(`^${rp.url}/callback`));
  await expect(page.getByRole('heading', { name: 'Signed in' })).toBeVisible();
  await expect(page.getByText('Signed in as alice@example.com')).toBeVisible();
});

test('a wrong password is refused by Keycloak and nobody is signed in', async ({ page }) => {
  await page.goto(`${rp.url}/login`);
  await page.getByLabel('Username or email').fill('alice');
  await page.getByLabel('Password', { exact: true }).fill('not-her-password');
  await page.getByRole('button', { name: 'Sign In' }).click();
  await expect(page.getByText('Invalid username or password.')).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`^${urls.keycloak}/`));
});
