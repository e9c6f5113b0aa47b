/**
 * The suite's extended `test`: the target (local stack or deployment), an IdP admin client
 * for specs that change IdP state, a browser context that cannot leave the loopback / the
 * target's hosts, and helpers for signing in and for checking that no OAuth artefact is left
 * in the URL or in web storage.
 */
/// <reference lib="esnext.disposable" />
import { test as base, expect, type BrowserContext, type Page } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { IdpAdmin } from './support/idp-admin.js';
import { loadTarget, type E2eUser, type Target, type UserName } from './support/target.js';

export { expect } from '@playwright/test';
export type { E2eUser, Target, UserName } from './support/target.js';
export type { TestUser } from './support/idp-admin.js';

export type SignInVariant = 'stock' | 'plugin';

export interface Fixtures {
  /** Hosts the browser may reach; every other request is aborted (no third-party calls). */
  allowedHosts: string[];
  /** Every request the page tried to send to a host outside `allowedHosts`. */
  blockedRequests: string[];
  /** IdP admin client; using it declares that the test needs IdP admin rights (not applicable without). */
  idp: IdpAdmin;
  /** A second, third … browser context with the same network fence as `context` (closed with `await using`). */
  newContext: () => Promise<BrowserContext>;
  /** A fixed test user, or "not applicable" when the deployment does not provide it. */
  user: (name: UserName) => E2eUser;
}

export interface WorkerFixtures {
  target: Target;
}

/**
 * Reports a scenario as not applicable to the target (skipped, with the reason printed and kept
 * as the skip annotation). Only a deployment may lack a prerequisite: on the local stack a
 * missing one is a failure, never a skip.
 */
export function notApplicable(condition: boolean, reason: string): void {
  if (!condition) return;
  if (loadTarget().kind === 'local') throw new Error(`the local stack lacks a prerequisite it must have: ${reason}`);
  process.stdout.write(`[not applicable] ${base.info().titlePath.slice(1).join(' › ')}: ${reason}\n`);
  base.skip(true, `not applicable: ${reason}`);
}

/** Aborts every request of the context to a host outside `allowedHosts` and records it. */
async function fence(context: BrowserContext, allowedHosts: string[], blocked: string[]): Promise<void> {
  await context.route(
    () => true,
    async (route) => {
      const url = new URL(route.request().url());
      if (url.protocol === 'data:' || url.protocol === 'blob:' || allowedHosts.includes(url.hostname))
        return route.fallback();
      blocked.push(`${url.protocol}//${url.host}`);
      return route.abort('blockedbyclient');
    },
  );
}

export const test = base.extend<Fixtures, WorkerFixtures>({
  target: [async ({}, use) => use(loadTarget()), { scope: 'worker' }],

  allowedHosts: async ({ target }, use) => {
    const hosts = new Set(['127.0.0.1', new URL(target.baseUrl).hostname, new URL(target.issuer).hostname]);
    await use([...hosts]);
  },

  blockedRequests: async ({}, use) => use([]),

  context: async ({ context, allowedHosts, blockedRequests }, use) => {
    await fence(context, allowedHosts, blockedRequests);
    await use(context);
  },

  newContext: async ({ browser, allowedHosts, blockedRequests }, use) => {
    await use(async () => {
      const context = await browser.newContext();
      await fence(context, allowedHosts, blockedRequests);
      return context;
    });
  },

  idp: async ({ target }, use) => {
    if (!target.idpAdmin) {
      notApplicable(
        true,
        'needs IdP admin access (E2E_IDP_ADMIN_URL + E2E_IDP_ADMIN_USER/PASSWORD or E2E_IDP_ADMIN_TOKEN)',
      );
      return;
    }
    await use(new IdpAdmin(target.idpAdmin));
  },

  user: async ({ target }, use) => {
    await use((name) => {
      const u = target.users[name];
      if (!u) {
        notApplicable(true, `test user ${name} is not configured (E2E_USER_${name.toUpperCase()}_USERNAME/PASSWORD)`);
        throw new Error('unreachable');
      }
      return u;
    });
  },
});

/** Marks a spec that only makes sense on the local stack (stand-in introspection, logs, throwaway services). */
export function requireLocal(target: Target): NonNullable<Target['stack']> {
  notApplicable(!target.stack, 'needs the local stack (throwaway services or stand-in introspection)');
  return target.stack as NonNullable<Target['stack']>;
}

/**
 * The sign-in button a test uses when it does not ask for one: the stock button on the local
 * stack (whose console double renders both), the console's only button on a deployment (a
 * patched console has the plugin's button instead of the stock one).
 */
export const defaultVariant = (target: Target): SignInVariant => target.variants[0] ?? 'stock';

/** Opens the console sign-in page in the given variant. */
export async function openSignin(
  page: Page,
  target: Target,
  variant: SignInVariant = defaultVariant(target),
  query = '',
): Promise<void> {
  const url = new URL(target.signinUrl);
  if (target.kind === 'local') url.searchParams.set('variant', variant);
  for (const [k, v] of new URLSearchParams(query)) url.searchParams.set(k, v);
  await page.goto(url.href);
}

/** The SSO button of the sign-in page variant. */
export function ssoButton(page: Page, variant: SignInVariant) {
  return variant === 'stock'
    ? page.getByRole('button', { name: 'Continue with SSO' })
    : page.getByRole('button', { name: /^Sign in with / });
}

/** Fills the IdP's login form (Keycloak and the embedded demo OP label it the same way). */
export async function idpLogin(page: Page, user: { username: string; password: string }): Promise<void> {
  await page.getByLabel('Username or email').fill(user.username);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Sign In' }).click();
}

/** Sign-in page → SSO button → IdP form; does not assert where the browser ends up. */
export async function startSignIn(
  page: Page,
  target: Target,
  user: { username: string; password: string },
  variant: SignInVariant = defaultVariant(target),
): Promise<void> {
  await openSignin(page, target, variant);
  await ssoButton(page, variant).click();
  await idpLogin(page, user);
}

/** Full sign-in that must land in the console. */
export async function signIn(
  page: Page,
  target: Target,
  user: { username: string; password: string },
  variant: SignInVariant = defaultVariant(target),
): Promise<void> {
  await startSignIn(page, target, user, variant);
  await expect(page).toHaveURL(new RegExp(`^${escapeRe(target.baseUrl)}/apps(?:[?#]|$)`));
}

/**
 * The sign-in page's message banner. Next.js also renders an empty `role="alert"` live region
 * (its route announcer) on Dify's console, so only alerts with text count.
 */
export const signinAlert = (page: Page) => page.getByRole('alert').filter({ hasText: /\S/ });

/**
 * Clicks the console's "Log out": a button on the console double, an item of the account menu
 * (button "Account") in Dify's console.
 */
export async function clickLogout(page: Page): Promise<void> {
  const button = page.getByRole('button', { name: 'Log out' });
  const accountMenu = page.getByRole('button', { name: 'Account', exact: true });
  await expect(button.or(accountMenu).first()).toBeVisible();
  if (!(await button.isVisible())) await accountMenu.click();
  await button
    .or(page.getByRole('menuitem', { name: 'Log out' }))
    .first()
    .click();
}

export const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Parameters that must never stay in a console URL after the login. */
const URL_SECRETS = ['code', 'state', 'session_state', 'id_token', 'access_token', 'refresh_token', 'iss', 'token'];

/** No token, code or state in the URL, localStorage or sessionStorage. */
export async function expectNoAuthArtifacts(page: Page): Promise<void> {
  const url = new URL(page.url());
  for (const key of URL_SECRETS) expect(url.searchParams.has(key), `URL has ?${key}`).toBe(false);
  expect(url.hash, 'URL fragment carries OAuth parameters').not.toMatch(/(code|state|token)=/);
  const storage = await page.evaluate(() => {
    const dump = (s: Storage): Record<string, string> => {
      const out: Record<string, string> = {};
      for (let i = 0; i < s.length; i += 1) {
        const k = s.key(i);
        if (k !== null) out[k] = s.getItem(k) ?? '';
      }
      return out;
    };
    return { local: dump(localStorage), session: dump(sessionStorage) };
  });
  for (const [area, entries] of Object.entries(storage)) {
    for (const [k, v] of Object.entries(entries)) {
      expect(k, `${area}Storage key ${k}`).not.toMatch(/token|code|state|oidc|sso/i);
      expect(v, `${area}Storage ${k} holds a JWT`).not.toMatch(/eyJ[\w-]{8,}\.[\w-]{8,}/);
    }
  }
}

/** Dify's console cookies must be httpOnly (access and refresh token at least). */
export async function expectDifyCookiesHttpOnly(page: Page): Promise<void> {
  const cookies = await page.context().cookies();
  const tokens = cookies.filter((c) => /(^|_)(access_token|refresh_token)$/.test(c.name));
  expect(tokens.map((c) => c.name).sort(), 'Dify access/refresh token cookies').toEqual(
    expect.arrayContaining([expect.stringMatching(/access_token$/), expect.stringMatching(/refresh_token$/)]),
  );
  for (const c of tokens) expect(c.httpOnly, `${c.name} is httpOnly`).toBe(true);
}

/** Dify's CSRF token (double-submit cookie) of a browser context, for console API calls. */
export async function csrfHeader(context: BrowserContext, target: Target): Promise<Record<string, string>> {
  const csrf = (await context.cookies(target.baseUrl)).find((c) => /csrf_token$/.test(c.name))?.value;
  return csrf ? { 'x-csrf-token': csrf } : {};
}

/** Whom Dify's console API thinks the browser is (works against real Dify too). */
export async function whoAmI(
  page: Page,
  target: Target,
): Promise<{ status: number; email?: string; name?: string; role?: string }> {
  const api = `${target.baseUrl}/console/api`;
  const headers = await csrfHeader(page.context(), target);
  const profile = await page.request.get(`${api}/account/profile`, { headers, maxRedirects: 0 });
  if (!profile.ok()) return { status: profile.status() };
  const p = (await profile.json()) as { id: string; email: string; name: string };
  // The role as every Dify version allows (the stand-in's ROLE_SOURCE): the caller's entry of the
  // members list. POST /workspaces/current also answered it up to 1.16.1; upstream main removed it.
  const list = await page.request.get(`${api}/workspaces/current/members`, { headers, maxRedirects: 0 });
  const members = list.ok()
    ? (((await list.json()) as { accounts?: Array<{ id: string; role?: string }> }).accounts ?? [])
    : [];
  const role = members.find((m) => m.id === p.id)?.role;
  return { status: profile.status(), email: p.email, name: p.name, ...(role ? { role } : {}) };
}

/** Status of a console API call made with the browser's cookies and CSRF token. */
export async function consoleStatus(page: Page, target: Target, path = '/account/profile'): Promise<number> {
  const res = await page.request.get(`${target.baseUrl}/console/api${path}`, {
    headers: await csrfHeader(page.context(), target),
    maxRedirects: 0,
  });
  return res.status();
}

/** Stand-in introspection (local stack only): the Dify accounts with a given e-mail. */
export async function standinAccounts(
  target: Target,
  email: string,
): Promise<
  Array<{
    id: string;
    email: string;
    status: string;
    last_login_at: string | null;
    memberships: Array<{ role: string }>;
  }>
> {
  const stack = requireLocal(target);
  const res = await fetch(`${stack.standinApiUrl}/__standin/accounts?email=${encodeURIComponent(email)}`, {
    headers: { 'x-standin-secret': stack.introspectionSecret },
  });
  expect(res.status, 'stand-in introspection').toBe(200);
  return ((await res.json()) as { accounts: Awaited<ReturnType<typeof standinAccounts>> }).accounts;
}

/** Audit events of one kind from a sidecar log file (local stack). */
export function auditEvents(logFile: string | undefined, event: string): Array<Record<string, unknown>> {
  if (!logFile || !existsSync(logFile)) return [];
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes(`"event":"${event}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * Starts the console's chat stream at `baseUrl` and proves its SSE chunks reach the browser one
 * by one: the stand-in sends chunk n+1 only after the test releases `gate`, so a buffering hop
 * (nginx, the sidecar's proxy) would show nothing before the end.
 */
export async function expectChunksOneByOne(
  page: Page,
  baseUrl: string,
  stack: NonNullable<Target['stack']>,
  gate: string,
): Promise<void> {
  await page.goto(`${baseUrl}/apps?chunks=3&gate=${encodeURIComponent(gate)}`);
  await page.getByRole('button', { name: 'Start chat stream' }).click();
  const chunks = page.getByRole('list', { name: 'Chat chunks' }).getByRole('listitem');
  const release = async (): Promise<void> => {
    const res = await fetch(`${stack.standinApiUrl}/__standin/gates/${encodeURIComponent(gate)}/release`, {
      method: 'POST',
      headers: { 'x-standin-secret': stack.introspectionSecret },
    });
    expect(res.status).toBe(200);
  };
  await expect(chunks).toHaveCount(1);
  await expect(page.getByRole('status')).toHaveText('Streaming');
  await release();
  await expect(chunks).toHaveCount(2);
  await release();
  await expect(chunks).toHaveCount(3);
  await expect(page.getByRole('status')).toHaveText('Stream finished');
}
