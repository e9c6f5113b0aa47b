/**
 * The embedded OpenID Provider for `npm run demo` on machines without Keycloak: panva's
 * oidc-provider (an OpenID-certified OP) with the same realm file's users, groups and
 * clients, a small login form of its own (passwords are checked; disabled users cannot log
 * in), PKCE S256 required, RP-initiated and back-channel logout, and client-credentials
 * tokens for machine access. Demo and tests only.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { generateKeyPair, exportJWK } from 'jose';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { realmFile } from './keycloak.js';

interface RealmUser {
  username: string;
  enabled: boolean;
  email: string;
  emailVerified: boolean;
  firstName: string;
  lastName: string;
  credentials: Array<{ type: string; value: string }>;
  groups: string[];
}

export interface DemoUser {
  username: string;
  password: string;
  enabled: boolean;
  email: string;
  emailVerified: boolean;
  name: string;
  groups: string[];
}

/** The users of e2e/keycloak/realm.json, as the embedded OP and `npm run demo` show them. */
export function realmUsers(file = realmFile): DemoUser[] {
  const realm = JSON.parse(readFileSync(file, 'utf8')) as { users: RealmUser[] };
  return realm.users.map((u) => ({
    username: u.username,
    password: u.credentials.find((c) => c.type === 'password')?.value ?? '',
    enabled: u.enabled,
    email: u.email,
    emailVerified: u.emailVerified,
    name: `${u.firstName} ${u.lastName}`,
    groups: u.groups.map((g) => g.replace(/^\//, '')),
  }));
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto}label{display:block;margin:.5rem 0}input{width:100%}</style>
</head><body>${body}</body></html>`;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let raw = '';
  for await (const chunk of req) raw += chunk as string;
  return new URLSearchParams(raw);
}

export interface DemoOp {
  issuer: string;
  close(): Promise<void>;
}

export async function startDemoOp(opts: { port: number; publicUrl: string }): Promise<DemoOp> {
  const issuer = `http://127.0.0.1:${opts.port}`;
  const users = realmUsers();
  const byName = new Map(users.map((u) => [u.username, u]));
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'demo-op-1' };

  const configuration: Configuration = {
    clients: [
      {
        client_id: 'dify-console',
        client_secret: 'dify-console-secret',
        redirect_uris: [`${opts.publicUrl}/sso/callback`],
        post_logout_redirect_uris: [`${opts.publicUrl}/signin`, `${opts.publicUrl}/`],
        backchannel_logout_uri: `${opts.publicUrl}/sso/backchannel-logout`,
        backchannel_logout_session_required: true,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'openid profile email groups offline_access',
      },
      {
        client_id: 'dify-machine',
        client_secret: 'dify-machine-secret',
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: 'dify:console',
      },
    ],
    jwks: { keys: [jwk] },
    cookies: {
      keys: [crypto.randomUUID(), crypto.randomUUID()],
      names: { session: 'op_session', interaction: 'op_interaction', resume: 'op_resume' },
    },
    scopes: ['openid', 'profile', 'email', 'groups', 'offline_access', 'dify:console'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
      groups: ['groups'],
    },
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      backchannelLogout: { enabled: true },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx: KoaContextWithOIDC, form: string) => {
          ctx.body = page(
            'Sign out',
            `${form}<h1>Sign out of the demo IdP?</h1><button form="op.logoutForm" value="yes" name="logout">Sign out</button>`,
          );
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: (ctx: KoaContextWithOIDC) =>
          (ctx.oidc.client?.clientId === 'dify-machine' ? 'dify-console-api' : undefined) as string,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: KoaContextWithOIDC, resource: string) => {
          if (resource !== 'dify-console-api') throw new Error('unknown resource');
          return {
            scope: 'dify:console',
            audience: 'dify-console-api',
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    findAccount: (_ctx: KoaContextWithOIDC, id: string) => {
      const u = byName.get(id);
      if (!u?.enabled) return undefined;
      return {
        accountId: u.username,
        claims: () => ({
          sub: u.username,
          email: u.email,
          email_verified: u.emailVerified,
          name: u.name,
          preferred_username: u.username,
          groups: u.groups,
        }),
      };
    },
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      // First-party clients: consent is implied, so grant what the client asked for.
      const { client, session, params } = ctx.oidc;
      if (!client || !session?.accountId) return undefined;
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope(String(params?.scope ?? 'openid'));
      grant.addOIDCClaims(['sub', 'email', 'email_verified', 'name', 'preferred_username', 'groups']);
      await grant.save();
      return grant;
    },
    interactions: { url: (_ctx: KoaContextWithOIDC, interaction) => `/interaction/${interaction.uid}` },
    ttl: {
      Session: 8 * 3600,
      Interaction: 600,
      Grant: 8 * 3600,
      AccessToken: 300,
      IdToken: 300,
      ClientCredentials: 300,
      RefreshToken: 8 * 3600,
    },
  };

  // Loaded lazily: importing this module only for realmUsers() must not load the OP.
  const { default: Provider } = await import('oidc-provider');
  const provider = new Provider(issuer, configuration);
  const callback = provider.callback();

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const m = /^\/interaction\/([\w-]+)(\/login)?$/.exec(url.pathname);
    if (!m) {
      callback(req, res);
      return;
    }
    void (async () => {
      const details = await provider.interactionDetails(req, res);
      if (req.method === 'POST' && m[2]) {
        const form = await readForm(req);
        const u = byName.get(form.get('username') ?? '');
        if (!u?.enabled || u.password !== form.get('password')) {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
          res.end(loginPage(details.uid, 'Invalid username or password.'));
          return;
        }
        await provider.interactionFinished(
          req,
          res,
          { login: { accountId: u.username } },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(loginPage(details.uid));
    })().catch(() => {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('interaction expired, start again');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', resolve);
  });
  return { issuer, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function loginPage(uid: string, error?: string): string {
  return page(
    'Sign in to the demo IdP',
    `<h1>Sign in to the demo IdP</h1>${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label>Username or email <input name="username" autocomplete="username" autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign In</button></form>`,
  );
}
