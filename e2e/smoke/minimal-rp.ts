/**
 * The smallest relying party that proves the plumbing: authorization code + PKCE S256 against
 * the realm's `smoke-rp` client, then a page that names the signed-in user. Test-only.
 */
import { createServer, type Server } from 'node:http';
import * as oidc from 'openid-client';

export interface MinimalRp {
  url: string;
  close(): Promise<void>;
}

export async function startMinimalRp(opts: { issuer: string; port: number }): Promise<MinimalRp> {
  const base = `http://127.0.0.1:${opts.port}`;
  const config = await oidc.discovery(
    new URL(opts.issuer),
    'smoke-rp',
    'smoke-rp-secret',
    oidc.ClientSecretBasic('smoke-rp-secret'),
    {
      execute: [oidc.allowInsecureRequests],
    },
  );
  const pending = new Map<string, { verifier: string; nonce: string }>();
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', base);
      if (url.pathname === '/login') {
        const verifier = oidc.randomPKCECodeVerifier();
        const state = oidc.randomState();
        const nonce = oidc.randomNonce();
        pending.set(state, { verifier, nonce });
        const target = oidc.buildAuthorizationUrl(config, {
          redirect_uri: `${base}/callback`,
          scope: 'openid email profile',
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state,
          nonce,
        });
        res.writeHead(302, { location: target.href }).end();
        return;
      }
      if (url.pathname === '/callback') {
        const state = url.searchParams.get('state') ?? '';
        const tx = pending.get(state);
        pending.delete(state);
        if (!tx) {
          res.writeHead(400, { 'content-type': 'text/plain' }).end('unknown state');
          return;
        }
        const tokens = await oidc.authorizationCodeGrant(config, url, {
          pkceCodeVerifier: tx.verifier,
          expectedState: state,
          expectedNonce: tx.nonce,
        });
        const claims = tokens.claims();
        res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
          .end(
            `<!doctype html><title>Smoke RP</title><h1>Signed in</h1><p>Signed in as ${String(claims?.email ?? '')}</p>`,
          );
        return;
      }
      res.writeHead(404).end();
    })().catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(err instanceof Error ? err.name : 'error');
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port, '127.0.0.1', resolve));
  return { url: base, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
