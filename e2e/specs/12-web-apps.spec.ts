import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from '@playwright/test';
import { test, expect, idpLogin, auditEvents, requireLocal, escapeRe, type Target } from '../fixtures.js';

// Published web apps behind SSO (issue 12), on the local stack (policy: e2e/webapps-policy.json):
// AssistAlpha00001 / AssistBeta000002 need a signed-in person, FinanceBot000003 the group
// dify-admins, PublicHelp000004 is public.
const ALPHA = 'AssistAlpha00001';
const BETA = 'AssistBeta000002';
const FINANCE = 'FinanceBot000003';
const PUBLIC = 'PublicHelp000004';

// The embedding site of the iframe case is 127.0.0.2 (the network fence admits it too).
test.use({ allowedHosts: ['127.0.0.1', '127.0.0.2'] });

/** Opens a web app; signs in at the IdP when the gate sends the browser there. */
async function openApp(
  page: Page,
  target: Target,
  path: string,
  user?: { username: string; password: string },
): Promise<void> {
  await page.goto(`${target.baseUrl}${path}`);
  if (user && new URL(page.url()).origin !== new URL(target.baseUrl).origin) {
    await idpLogin(page, user);
    await expect(page).toHaveURL(new RegExp(`^${escapeRe(target.baseUrl + path)}$`));
  }
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByRole('list', { name: 'Conversations' }).getByText(text)).toBeVisible();
}

test('alice signs in once, uses two apps, and finds her conversations in a second browser', async ({
  page,
  target,
  user,
  newContext,
}) => {
  requireLocal(target);
  await openApp(page, target, `/chat/${ALPHA}`, user('alice'));
  await expect(page.getByRole('status')).toHaveText('Ready');
  await send(page, 'alpha question from browser one');
  await openApp(page, target, `/chatbot/${BETA}`);
  await expect(page.getByRole('status')).toHaveText('Ready');
  await send(page, 'beta question');

  await using second = await newContext();
  const p2 = await second.newPage();
  await openApp(p2, target, `/chat/${ALPHA}`, user('alice'));
  await expect(
    p2.getByRole('list', { name: 'Conversations' }).getByText('alpha question from browser one'),
  ).toBeVisible();
  await expect(p2.getByRole('list', { name: 'Conversations' }).getByText('beta question')).toHaveCount(0);
});

test("bob cannot use alice's passport (403, audited)", async ({ page, target, user, newContext }) => {
  const stack = requireLocal(target);
  await openApp(page, target, `/chat/${ALPHA}`, user('alice'));
  await expect(page.getByRole('status')).toHaveText('Ready');
  const passport = await page.evaluate((code) => localStorage.getItem(`standin-webapp-passport-${code}`), ALPHA);
  expect(passport).toBeTruthy();

  await using bobs = await newContext();
  const bob = await bobs.newPage();
  await openApp(bob, target, `/chat/${ALPHA}`, user('bob'));
  await expect(bob.getByRole('status')).toHaveText('Ready');
  const before = auditEvents(stack.logs['sidecar'], 'webapp.access').filter(
    (e) => e['reason'] === 'passport_not_owned',
  ).length;
  const status = await bob.evaluate(
    async ([code, tk]) =>
      (await fetch('/api/conversations', { headers: { 'X-App-Code': code as string, 'X-App-Passport': tk as string } }))
        .status,
    [ALPHA, passport],
  );
  expect(status).toBe(403);
  await expect
    .poll(
      () =>
        auditEvents(stack.logs['sidecar'], 'webapp.access').filter(
          (e) => e['reason'] === 'passport_not_owned' && e['app_code'] === ALPHA,
        ).length,
    )
    .toBeGreaterThan(before);
});

test('carol is refused the group-restricted app with the clear page', async ({ page, target, user }) => {
  requireLocal(target);
  await page.goto(`${target.baseUrl}/chat/${FINANCE}`);
  await idpLogin(page, user('carol'));
  await expect(page.getByRole('heading', { name: 'You cannot use this app' })).toBeVisible();
  await expect(page.getByText(FINANCE)).toBeVisible();
  await expect(page.getByText(/specific groups/)).toBeVisible();
  await expect(page.getByText(/dify-admins@example\.com/)).toBeVisible();
  await expect(page.getByText(/^\s*\{.*"code"/)).toHaveCount(0);
});

test('a public app works without a session', async ({ page, target }) => {
  requireLocal(target);
  await page.goto(`${target.baseUrl}/chat/${PUBLIC}`);
  await expect(page).toHaveURL(`${target.baseUrl}/chat/${PUBLIC}`);
  await expect(page.getByRole('status')).toHaveText('Ready');
  await send(page, 'anonymous question');
});

test('an app embedded on another site offers "open in a new tab" instead of a broken sign-in', async ({
  page,
  target,
  user,
}) => {
  requireLocal(target);
  // Signed in at the top level: the Lax kit cookie still is not sent into a cross-site frame.
  await openApp(page, target, `/chat/${ALPHA}`, user('alice'));
  await expect(page.getByRole('status')).toHaveText('Ready');
  // The embedding page on another site (127.0.0.2 is not the same site as 127.0.0.1), served
  // from loopback like the front door (Chromium's local-network checks refuse a public page
  // framing a loopback one).
  const body = `<!doctype html><title>Intranet</title><h1>Intranet</h1><iframe title="Assistant" src="${target.baseUrl}/chatbot/${ALPHA}" width="600" height="400"></iframe>`;
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(body));
  await new Promise<void>((r) => server.listen(0, '127.0.0.2', r));
  try {
    await page.goto(`http://127.0.0.2:${(server.address() as AddressInfo).port}/`);
    const frame = page.frameLocator('iframe[title="Assistant"]');
    await expect(frame.getByRole('heading', { name: 'Sign-in needed' })).toBeVisible();
    const link = frame.getByRole('link', { name: 'Open the app in a new tab' });
    await expect(link).toHaveAttribute('target', '_blank');
    const [tab] = await Promise.all([page.context().waitForEvent('page'), link.click()]);
    await expect(tab).toHaveURL(`${target.baseUrl}/chatbot/${ALPHA}`);
    await expect(tab.getByRole('status')).toHaveText('Ready');
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
