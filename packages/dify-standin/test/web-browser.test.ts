/**
 * The console UI double in a real browser (Debian's Chromium): the inline scripts of the stock
 * page follow the SPA's sign-in contract. A tiny same-origin front stands where nginx + sidecar
 * sit in the stack: it can rewrite system-features (SSO on, local login off) and answers the
 * enterprise SSO endpoint like the sidecar will.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from '@playwright/test';
import { buildStandinWeb } from '../src/web.js';
import { findChromium, chromiumArgs } from '../../../scripts/lib/chromium.js';
import { INTROSPECTION, listen, standin, type StandinUnderTest } from './helpers.js';

interface Front {
  url: string;
  /** Rewrite system-features like the sidecar's lockdown policy does. */
  lockdown: boolean;
  ssoRequests: string[];
  close(): Promise<void>;
}

function startFront(apiUrl: string, webUrl: string): Promise<Front> {
  const state: Omit<Front, 'url' | 'close'> = { lockdown: false, ssoRequests: [] };
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const self = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (url.startsWith('/console/api/enterprise/sso/oidc/login')) {
      state.ssoRequests.push(url);
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ url: `${self}/idp-landing`, state: 'state-123' }));
    }
    if (url.startsWith('/idp-landing')) {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end('<!doctype html><title>IdP</title><h1>Identity provider</h1>');
    }
    const target = new URL(/^\/(console\/api|files)\//.test(url) ? apiUrl : webUrl);
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: url, headers: req.headers },
      (r) => {
        if (state.lockdown && url.startsWith('/console/api/system-features')) {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => {
            const f = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
            Object.assign(f, {
              sso_enforced_for_signin: true,
              sso_enforced_for_signin_protocol: 'oidc',
              enable_email_password_login: false,
              enable_email_code_login: false,
              is_allow_register: false,
            });
            res.writeHead(200, {
              'content-type': 'application/json',
              'x-version': String(r.headers['x-version'] ?? ''),
            });
            res.end(JSON.stringify(f));
          });
          return;
        }
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const front = state as Front;
      front.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      front.close = () => new Promise((r) => server.close(() => r()));
      resolve(front);
    });
  });
}

describe('console UI double in Chromium', () => {
  let s: StandinUnderTest;
  let web: ReturnType<typeof buildStandinWeb>;
  let front: Front;
  let browser: Browser;
  let apiUrl: string;

  before(async () => {
    s = standin({ enableEmailPasswordLogin: true });
    apiUrl = await listen(s.app);
    web = buildStandinWeb();
    const webUrl = await listen(web);
    front = await startFront(apiUrl, webUrl);
    browser = await chromium.launch({ executablePath: findChromium(), args: chromiumArgs });
  });
  after(async () => {
    await browser?.close();
    await front?.close();
    await web?.close();
    await s?.close();
  });

  async function page(): Promise<Page> {
    const context = await browser.newContext();
    return context.newPage();
  }

  it('stock page with SSO enforced: only "Continue with SSO"; the click stores user-oidc-state and navigates', {
    timeout: 30_000,
  }, async () => {
    front.lockdown = true;
    try {
      const p = await page();
      await p.goto(`${front.url}/signin?invite_token=inv-42`);
      const button = p.getByRole('button', { name: 'Continue with SSO' });
      await button.waitFor();
      assert.equal(await p.getByLabel('Email address').count(), 0);
      assert.equal(await p.getByLabel('Password', { exact: true }).count(), 0);
      assert.equal(await p.getByRole('link', { name: 'Sign up' }).count(), 0);
      await button.click();
      await p.waitForURL(`${front.url}/idp-landing`);
      assert.deepEqual(front.ssoRequests.at(-1), '/console/api/enterprise/sso/oidc/login?invite_token=inv-42');
      const cookie = (await p.context().cookies()).find((c) => c.name === 'user-oidc-state');
      assert.equal(cookie?.value, 'state-123');
      assert.equal(cookie?.path, '/');
      assert.equal(cookie?.httpOnly, false);
      await p.context().close();
    } finally {
      front.lockdown = false;
    }
  });

  it('shows ?message= in an alert', { timeout: 30_000 }, async () => {
    const p = await page();
    await p.goto(`${front.url}/signin?message=not_provisioned`);
    await p.getByRole('alert').waitFor();
    assert.equal(await p.getByRole('alert').textContent(), 'not_provisioned');
    await p.context().close();
  });

  it('password sign-in → /apps with name and role; refresh on 401; SSE list; logout', { timeout: 60_000 }, async () => {
    const p = await page();
    await p.goto(`${front.url}/signin`);
    await p.getByLabel('Email address').fill('alice@example.com');
    await p.getByLabel('Password', { exact: true }).fill('alice-local-password');
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.waitForURL(`${front.url}/apps`);
    await p.getByText('Signed in as Alice Example (normal)').waitFor();
    assert.equal(await p.getByRole('heading', { name: 'Apps' }).count(), 1);

    // access token gone: the page refreshes once and retries
    await p.context().clearCookies({ name: 'access_token' });
    await p.reload();
    await p.getByText('Signed in as Alice Example (normal)').waitFor();

    // SSE through the page, chunk by chunk
    await p.goto(`${front.url}/apps?chunks=2&gate=ui-gate`);
    await p.getByText('Signed in as Alice Example (normal)').waitFor();
    await p.getByRole('button', { name: 'Start chat stream' }).click();
    const items = p.getByRole('list', { name: 'Chat chunks' }).getByRole('listitem');
    await items.first().waitFor();
    assert.equal(await items.count(), 1);
    assert.equal(await p.getByRole('status').textContent(), 'Streaming');
    await fetch(`${apiUrl}/__standin/gates/ui-gate/release`, {
      method: 'POST',
      headers: { 'x-standin-secret': INTROSPECTION },
    });
    await p.getByRole('status').getByText('Stream finished').waitFor();
    assert.equal(await items.count(), 2);

    await p.getByRole('button', { name: 'Log out' }).click();
    await p.waitForURL(`${front.url}/signin`);
    const names = (await p.context().cookies()).map((c) => c.name);
    assert.ok(!names.includes('access_token') && !names.includes('refresh_token'), names.join(','));
    await p.context().close();
  });

  it('plugin variant renders the console plugin: readable banner and "Sign in with SSO"', {
    timeout: 60_000,
  }, async () => {
    const p = await page();
    await p.goto(`${front.url}/signin?variant=plugin&message=not_provisioned`);
    await p.getByRole('button', { name: /^Sign in with / }).waitFor();
    const alert = await p.getByRole('alert').textContent();
    assert.match(alert ?? '', /\w+ \w+ \w+/);
    assert.doesNotMatch(alert ?? '', /^[a-z_]+$/);
    await p.context().close();
  });
});
