/**
 * Dify's Redis settings for the compose override (`dify-sso deploy`): the user's Dify `.env`
 * (Sentinel, Cluster, TLS, key prefix) mapped by {@link mapDifyRedisEnv}, with every password
 * written as a Compose interpolation of Dify's own variable (Compose reads the same `docker/.env`),
 * so no secret is copied into the override file. Without a `.env`, the standalone settings of
 * Dify's `docker/.env.example` (host `redis`) as Compose interpolations.
 *
 * @module
 */
import { mapDifyRedisEnv } from '../dify/contract/redis-env.js';

/** Where each secret of the mapping comes from in Dify's `.env`. */
function passwordRef(name: string, mode: string | undefined): string | undefined {
  if (name === 'DIFY_SSO_DIFY_REDIS_SENTINEL_PASSWORD') return '${REDIS_SENTINEL_PASSWORD}';
  if (name === 'DIFY_SSO_DIFY_REDIS_PASSWORD')
    return mode === 'cluster' ? '${REDIS_CLUSTERS_PASSWORD}' : '${REDIS_PASSWORD}';
  return undefined;
}

/**
 * The `DIFY_SSO_DIFY_REDIS_*` environment of the sidecar service, and the mapping's warnings.
 *
 * @param dotEnv text of Dify's `docker/.env`, or undefined when there is none
 * @example
 * composeRedisEnv('REDIS_USE_SENTINEL=true\nREDIS_SENTINELS=s1:26379\nREDIS_SENTINEL_SERVICE_NAME=mymaster\nREDIS_PASSWORD=x').env
 * // { DIFY_SSO_DIFY_REDIS_MODE: 'sentinel', …, DIFY_SSO_DIFY_REDIS_PASSWORD: '${REDIS_PASSWORD}' }
 */
export function composeRedisEnv(dotEnv: string | undefined): {
  env: Record<string, string>;
  warnings: { code: string; message: string }[];
} {
  if (dotEnv === undefined) {
    return {
      env: {
        DIFY_SSO_DIFY_REDIS_URL:
          'redis://:${REDIS_PASSWORD:-difyai123456}@${REDIS_HOST:-redis}:${REDIS_PORT:-6379}/${REDIS_DB:-0}',
        DIFY_SSO_DIFY_REDIS_KEY_PREFIX: '${REDIS_KEY_PREFIX:-}',
      },
      warnings: [],
    };
  }
  const { env, warnings } = mapDifyRedisEnv(dotEnv);
  const mode = env['DIFY_SSO_DIFY_REDIS_MODE'];
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) out[name] = passwordRef(name, mode) ?? value.replace(/\$/g, '$$$$');
  return { env: out, warnings };
}
