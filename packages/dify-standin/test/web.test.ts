import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildStandinWeb, VARIANT_COOKIE } from '../src/web.js';

describe('console UI double', () => {
  it('serves the stock sign-in page by default: alert region, config, no plugin bundle', async (t) => {
    const web = buildStandinWeb();
    t.after(() => web.close());
    const r = await web.inject({ url: '/signin?message=not_provisioned' });
    assert.equal(r.statusCode, 200);
    assert.match(r.headers['content-type'] as string, /^text\/html/);
    assert.match(r.body, /<h1>Log in to Dify<\/h1>/);
    assert.match(r.body, /role="alert" hidden/);
    assert.match(r.body, /"apiPrefix":"\/console\/api"/);
    assert.match(r.body, /\/enterprise\/sso\//);
    assert.match(r.body, /user-oidc-state=/);
    assert.doesNotMatch(r.body, /plugin\.js/);
    assert.equal(r.headers['set-cookie'], undefined);
  });

  it('?variant=plugin switches the page and is remembered in a cookie', async (t) => {
    const web = buildStandinWeb();
    t.after(() => web.close());
    const r = await web.inject({ url: '/signin?variant=plugin' });
    assert.match(r.body, /id="plugin-root" data-page="signin"/);
    assert.match(r.body, /<script src="\/_standin\/web\/plugin\.js" defer><\/script>/);
    assert.equal(r.headers['set-cookie'], `${VARIANT_COOKIE}=plugin; Path=/; SameSite=Lax`);
    const apps = await web.inject({ url: '/apps', headers: { cookie: `${VARIANT_COOKIE}=plugin` } });
    assert.match(apps.body, /plugin\.js/);
    assert.match(apps.body, /"variant":"plugin"/);
    const back = await web.inject({ url: '/apps?variant=stock', headers: { cookie: `${VARIANT_COOKIE}=plugin` } });
    assert.doesNotMatch(back.body, /plugin\.js/);
  });

  it('the apps page has the heading, the signed-in text slot and a logout button', async (t) => {
    const web = buildStandinWeb({ variant: 'plugin', idpName: 'Acme <ID>' });
    t.after(() => web.close());
    const r = await web.inject({ url: '/apps' });
    assert.match(r.body, /<h1>Apps<\/h1>/);
    assert.match(r.body, /'Signed in as ' \+ p\.name \+ ' \(' \+ role \+ '\)'/);
    assert.match(r.body, /<button type="button" id="logout">Log out<\/button>/);
    assert.match(r.body, /ssoLogout/);
    const s = await web.inject({ url: '/signin' });
    assert.match(s.body, /data-idp-name="Acme &lt;ID&gt;"/);
  });

  it('carries its Dify version (base64 secrets from 1.11.2) and refuses unknown ones', async (t) => {
    const web = buildStandinWeb({ version: '1.11.1' });
    t.after(() => web.close());
    assert.match((await web.inject({ url: '/signin' })).body, /"version":"1\.11\.1"/);
    assert.throws(() => buildStandinWeb({ version: '1.2.3' }), {
      message: '"DIFY_STANDIN_VERSION" must be 1.9.2 or newer (got "1.2.3")',
    });
  });

  it('/ goes to /apps', async (t) => {
    const web = buildStandinWeb();
    t.after(() => web.close());
    const r = await web.inject({ url: '/' });
    assert.equal(r.statusCode, 302);
    assert.equal(r.headers.location, '/apps');
  });

  it('bundles the console plugin with React for the browser', { timeout: 60_000 }, async (t) => {
    const web = buildStandinWeb();
    t.after(() => web.close());
    const r = await web.inject({ url: '/_standin/web/plugin.js' });
    assert.equal(r.statusCode, 200, r.body.slice(0, 300));
    assert.match(r.headers['content-type'] as string, /^text\/javascript/);
    assert.match(r.body, /Sign in with/);
    assert.match(r.body, /DifySsoPlugin/);
  });

  it('a missing plugin entry yields an alert instead of a blank page', async (t) => {
    const web = buildStandinWeb({ pluginEntry: '/nonexistent/console-plugin/index.ts' });
    t.after(() => web.close());
    const r = await web.inject({ url: '/_standin/web/plugin.js' });
    assert.equal(r.statusCode, 500);
    assert.match(r.body, /Console plugin bundle unavailable/);
  });

  it('refuses an unknown default variant', () => {
    assert.throws(() => buildStandinWeb({ variant: 'fancy' as 'stock' }), {
      message: '"variant" must be "stock" or "plugin"',
    });
  });
});
