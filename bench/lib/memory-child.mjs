// Memory bench child (plain JavaScript on the compiled sidecar: no tsx or esbuild in this process).
// Starts the sidecar the way dist/server.js does (config from the environment, process metrics,
// buildApp, listen), then, on request, writes sessions into its memory store shaped as a real
// sign-in writes them (createSession: Keycloak-sized claims, IdP tokens sealed at rest; the Dify
// bridge's account id and refresh-token hash). Answers over IPC with process.memoryUsage().
import { randomBytes, createHash } from 'node:crypto';

const dist = process.env.BENCH_SIDECAR_DIST
  ? new URL(`file://${process.env.BENCH_SIDECAR_DIST.replace(/\/?$/, '/')}`)
  : new URL('../../packages/sidecar/dist/', import.meta.url);
const { buildApp } = await import(new URL('app.js', dist).href);
const { loadConfig } = await import(new URL('config/load.js', dist).href);
const { createMetrics } = await import(new URL('services/metrics.js', dist).href);

const config = loadConfig(process.env);
const app = buildApp(config, { metrics: createMetrics() });
await app.listen({ host: '127.0.0.1', port: 0 });

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const uuid = () =>
  randomBytes(16)
    .toString('hex')
    .replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
/**
 * A Keycloak-shaped token: its claims as Keycloak issues them (fresh ids per session), signed
 * RS256 (342-character signature) or, for the refresh token, HS512 (86). Sizes: ID ~1.2 KB,
 * access ~1.5 KB, refresh ~0.8 KB.
 */
function jwt(typ, i) {
  const now = Math.floor(Date.now() / 1000);
  const base = {
    exp: now + 300,
    iat: now,
    auth_time: now,
    jti: uuid(),
    iss: 'https://sso.example.com/realms/dify-sso',
    sub: uuid(),
    typ,
    azp: 'dify',
    sid: uuid(),
  };
  if (typ === 'Refresh')
    return `${b64({ alg: 'HS512', typ: 'JWT', kid: uuid() })}.${b64({ ...base, aud: 'https://sso.example.com/realms/dify-sso', scope: 'openid email profile roles basic acr web-origins' })}.${randomBytes(64).toString('base64url')}`;
  const person = {
    email_verified: true,
    name: `User Number${i}`,
    preferred_username: `user${i}`,
    given_name: 'User',
    family_name: `Number${i}`,
    email: `user${i}@example.com`,
    groups: ['dify-editors'],
  };
  const access =
    typ === 'Bearer'
      ? {
          'allowed-origins': ['https://dify.example.com'],
          realm_access: { roles: ['default-roles-dify-sso', 'offline_access', 'uma_authorization'] },
          resource_access: { account: { roles: ['manage-account', 'manage-account-links', 'view-profile'] } },
          scope: 'openid email profile',
        }
      : { at_hash: randomBytes(16).toString('base64url'), nonce: randomBytes(32).toString('base64url') };
  return `${b64({ alg: 'RS256', typ: 'JWT', kid: randomBytes(32).toString('base64url') })}.${b64({ ...base, aud: typ === 'ID' ? 'dify' : ['dify', 'account'], acr: '1', ...access, ...person })}.${randomBytes(256).toString('base64url')}`;
}

async function addSessions(count, withTokens) {
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    const sub = `${randomBytes(16)
      .toString('hex')
      .replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-')}`;
    const record = {
      id: createHash('sha256').update(randomBytes(32)).digest('base64url'),
      iss: config.oidc.issuer,
      sub,
      sid: randomBytes(18).toString('base64url'),
      claims: {
        groups: ['dify-editors'],
        roles: ['default-roles-dify-sso', 'offline_access'],
        email: `user${i}@example.com`,
        emailVerified: true,
        name: `User Number${i}`,
        preferredUsername: `user${i}`,
      },
      ...(withTokens
        ? {
            tokens: await app.sso.sessions.sealTokens({
              idToken: jwt('ID', i),
              // Given as the callback gives it; sealTokens keeps only the ID and refresh tokens.
              accessToken: jwt('Bearer', i),
              refreshToken: jwt('Refresh', i),
              expiresAt: now + 300_000,
            }),
          }
        : {}),
      createdAt: now,
      lastSeenAt: now,
      lastRefreshAt: now,
      absoluteExpiresAt: now + 12 * 3600_000,
      difyAccountId: randomBytes(16)
        .toString('hex')
        .replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-'),
      difyRefreshTokenHash: createHash('sha256').update(randomBytes(32)).digest('hex'),
      ext: {},
    };
    await app.sso.store.create(record);
  }
}

process.on('message', async (m) => {
  if (m.cmd === 'sessions') {
    await addSessions(m.count, m.tokens);
    process.send({ done: true });
  }
  if (m.cmd === 'memory') {
    if (m.gc) globalThis.gc?.();
    process.send({ memory: process.memoryUsage() });
  }
  if (m.cmd === 'exit') await app.close().then(() => process.exit(0));
});
process.send({ ready: true });
