/**
 * The environment the memory bench (and its test) runs the sidecar with: memory store, the Dify
 * bridge configured, its API and IdP unreachable (nothing measured depends on them).
 */
export function memorySidecarEnv(
  listen: string,
  o: { difyRedisUrl: string; maxSessions?: number },
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    ...(process.env.BENCH_SIDECAR_DIST ? { BENCH_SIDECAR_DIST: process.env.BENCH_SIDECAR_DIST } : {}),
    DIFY_SSO_LISTEN: listen,
    DIFY_SSO_OIDC_ISSUER: 'https://127.0.0.1:9/realms/bench',
    DIFY_SSO_OIDC_CLIENT_ID: 'bench',
    DIFY_SSO_OIDC_CLIENT_SECRET: 'bench-client-secret',
    DIFY_SSO_PUBLIC_URL: 'https://dify.example.com',
    DIFY_SSO_SESSION_SECRET: 'bench-session-secret-0123456789-abcdefghijklmnop',
    DIFY_SSO_LOG_LEVEL: 'silent',
    DIFY_SSO_TRUST_PROXY: '127.0.0.1',
    DIFY_SSO_DIFY_API_URL: 'http://127.0.0.1:9',
    DIFY_SSO_DIFY_ADMIN_API_KEY: 'bench-admin-key-5f1e9a7c3b',
    DIFY_SSO_DIFY_WORKSPACE_ID: '0b6e3b8e-5c1d-4f7a-9e2b-6d4c8a1f3e57',
    DIFY_SSO_DIFY_REDIS_URL: o.difyRedisUrl,
    DIFY_SSO_DIFY_REDIS_KEY_PREFIX: 'bench-memory',
    DIFY_SSO_ROLE_MAP: 'dify-admins=admin',
    ...(o.maxSessions ? { DIFY_SSO_MEMORY_MAX_SESSIONS: String(o.maxSessions) } : {}),
  };
}
