/**
 * Bench child process: the OpenID Provider both relying parties sign in against — panva's
 * oidc-provider (OpenID-certified) on a free loopback port, with an ephemeral RS256 key, PKCE
 * S256 required, a password form (users `bench-user-<n>`, password {@link BENCH_PASSWORD},
 * e-mail verified, group `dify-editors`), RP-initiated and back-channel logout.
 *
 *   node --import tsx bench/lib/op.ts '<clients JSON>'
 *
 * argv[2] is the JSON list of clients (client_id, client_secret, redirect_uris,
 * post_logout_redirect_uris, optional backchannel_logout_uri). Sends `{ issuer }` over IPC once
 * listening; stops on 'exit' or SIGTERM. Bench only: the users and secrets are public.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import type { ClientMetadata, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { BENCH_PASSWORD, USERS } from './browser.js';

interface BenchClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  backchannel_logout_uri?: string;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let raw = '';
  for await (const chunk of req) raw += String(chunk);
  return new URLSearchParams(raw);
}

function loginPage(uid: string, error = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head><body>${error ? `<p role="alert">${error}</p>` : ''}
<form method="post" action="/interaction/${uid}/login"><input name="username"><input name="password" type="password"><button type="submit">Sign In</button></form></body></html>`;
}

const isUser = (id: string): boolean => {
  const m = /^bench-user-(\d+)$/.exec(id);
  return !!m && Number(m[1]) < USERS;
};

const clients = JSON.parse(process.argv[2] ?? '[]') as BenchClient[];
const server = createServer();
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'bench-op-1' };
const configuration: Configuration = {
  clients: clients.map(
    (c): ClientMetadata => ({
      ...c,
      ...(c.backchannel_logout_uri ? { backchannel_logout_session_required: true } : {}),
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid profile email groups offline_access',
    }),
  ),
  jwks: { keys: [jwk] },
  cookies: {
    keys: [crypto.randomUUID(), crypto.randomUUID()],
    names: { session: 'op_session', interaction: 'op_interaction', resume: 'op_resume' },
  },
  scopes: ['openid', 'profile', 'email', 'groups', 'offline_access'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  // oidc-provider refuses outgoing requests to special-use addresses (SSRF protection) by giving
  // fetch a checking dispatcher; the bench's relying parties all live on loopback, so the
  // back-channel logout POST goes out without it.
  fetch: (url, options) => {
    const { dispatcher, ...rest } = (options ?? {}) as RequestInit & { dispatcher?: unknown };
    void dispatcher;
    return globalThis.fetch(url, rest);
  },
  features: {
    devInteractions: { enabled: false },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: (ctx: KoaContextWithOIDC, form: string) => {
        ctx.body = `<!doctype html><html><body>${form}<button form="op.logoutForm" value="yes" name="logout">Sign out</button></body></html>`;
      },
    },
  },
  findAccount: (_ctx: KoaContextWithOIDC, id: string) =>
    isUser(id)
      ? {
          accountId: id,
          claims: () => ({
            sub: id,
            email: `${id}@bench.example`,
            email_verified: true,
            name: id,
            preferred_username: id,
            groups: ['dify-editors'],
          }),
        }
      : undefined,
  loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
    // First-party clients: consent is implied.
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
    AccessToken: 3600,
    IdToken: 3600,
    RefreshToken: 8 * 3600,
  },
};
const { default: Provider } = await import('oidc-provider');
const provider = new Provider(issuer, configuration);
// oidc-provider logs to the console on these; the bench counts failures itself.
provider.on('server_error', () => undefined);
provider.on('backchannel.error', (_ctx: unknown, err: Error, client: { clientId: string }) =>
  process.stderr.write(`back-channel logout to ${client.clientId} failed: ${err.message}\n`),
);
const callback = provider.callback();
server.on('request', (req, res) => {
  const m = /^\/interaction\/([\w-]+)(\/login)?$/.exec(new URL(req.url ?? '/', issuer).pathname);
  if (!m) return void callback(req, res);
  void (async () => {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'POST' && m[2]) {
      const form = await readForm(req);
      const user = form.get('username') ?? '';
      if (!isUser(user) || form.get('password') !== BENCH_PASSWORD) {
        res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end(loginPage(details.uid, 'Invalid username or password.'));
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId: user } }, { mergeWithLastSubmission: false });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(details.uid));
  })().catch(() => {
    if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
    res.end('interaction expired');
  });
});
server.keepAliveTimeout = 60_000;
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('message', (m) => m === 'exit' && stop());
process.once('SIGTERM', stop);
process.send?.({ issuer });
