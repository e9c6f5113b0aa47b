/**
 * Maps the Redis part of a Dify `.env` onto the kit's `DIFY_SSO_DIFY_REDIS_*` settings, so the
 * bridge connects to the Redis dify-api uses, the way dify-api does (dify `docker/.env.example`,
 * `api/configs/middleware/cache/redis_config.py`, `api/extensions/ext_redis.py`,
 * `api/extensions/redis_names.py`):
 *
 * - `REDIS_USE_SENTINEL` wins over `REDIS_USE_CLUSTERS` (ext_redis checks Sentinel first);
 * - Sentinel: `REDIS_SENTINELS` (`host:port,…`), `REDIS_SENTINEL_SERVICE_NAME`,
 *   `REDIS_SENTINEL_USERNAME/PASSWORD`, `REDIS_SENTINEL_SOCKET_TIMEOUT` (seconds), and the data
 *   nodes' `REDIS_USERNAME`, `REDIS_PASSWORD`, `REDIS_DB`;
 * - Cluster: `REDIS_CLUSTERS`, password `REDIS_CLUSTERS_PASSWORD` (the Cluster client gets no
 *   other credentials and has only DB 0);
 * - standalone: `REDIS_HOST`, `REDIS_PORT`, `REDIS_DB`, `REDIS_USERNAME`, `REDIS_PASSWORD`;
 * - `REDIS_USE_SSL` + `REDIS_SSL_CERT_REQS` (`CERT_NONE` = no verification, Dify's `.env.example`
 *   default), `REDIS_SSL_CA_CERTS`, `REDIS_SSL_CERTFILE`, `REDIS_SSL_KEYFILE` (paths: they must
 *   exist in the sidecar's container too, they become `…_FILE` settings);
 * - `REDIS_KEY_PREFIX` (stripped, empty = none; keys become `<prefix>:<key>`, no hash tag, on
 *   every topology — which is why the bridge writes Dify's two refresh-token keys without MULTI
 *   on Cluster).
 *
 * @module
 */

/** Result of {@link mapDifyRedisEnv}. */
export interface DifyRedisEnvMapping {
  /** `DIFY_SSO_DIFY_REDIS_*` variables (only the ones with a value). */
  readonly env: Record<string, string>;
  /** Things the operator should know (stable codes). */
  readonly warnings: { code: string; message: string }[];
}

/** Dify's public default Redis password (docker/.env.example). */
const PUBLIC_REDIS_PASSWORDS = ['difyai123456'];

/**
 * Parses `.env` text the way Docker Compose reads it: `KEY=VALUE` lines, `#` comments (also
 * after an unquoted value), optional `export `, single or double quotes.
 *
 * @example
 * ```ts
 * parseDotEnv('A=1\n# c\nB="x y" # note') // { A: '1', B: 'x y' }
 * ```
 */
export function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!;
    const q = value[0];
    if ((q === '"' || q === "'") && value.indexOf(q, 1) > 0) value = value.slice(1, value.indexOf(q, 1));
    else value = value.replace(/\s+#.*$/, '').trim();
    out[m[1]!] = value;
  }
  return out;
}

/** pydantic's boolean parsing (true/1/yes/on, case-insensitive). */
function truthy(v: string | undefined): boolean {
  return v !== undefined && ['true', '1', 'yes', 'on', 'y', 't'].includes(v.trim().toLowerCase());
}

function list(v: string | undefined): string {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .join(',');
}

/**
 * Maps a Dify `.env` (its text) onto `DIFY_SSO_DIFY_REDIS_*`. Pure: reads nothing, checks
 * nothing beyond the mapping itself (the sidecar's config loader validates the result).
 *
 * @example
 * ```ts
 * const { env, warnings } = mapDifyRedisEnv(readFileSync('dify/docker/.env', 'utf8'))
 * // env.DIFY_SSO_DIFY_REDIS_MODE === 'standalone', env.DIFY_SSO_DIFY_REDIS_URL === 'redis://redis:6379/0'
 * ```
 */
export function mapDifyRedisEnv(dotEnv: string): DifyRedisEnvMapping {
  const d = parseDotEnv(dotEnv);
  const env: Record<string, string> = {};
  const warnings: { code: string; message: string }[] = [];
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined && value.trim() !== '') env[`DIFY_SSO_DIFY_REDIS_${name}`] = value.trim();
  };
  const sentinel = truthy(d.REDIS_USE_SENTINEL);
  const cluster = truthy(d.REDIS_USE_CLUSTERS);
  if (sentinel && cluster) {
    warnings.push({
      code: 'WARN_DEPLOY_REDIS_BOTH_MODES',
      message: 'REDIS_USE_SENTINEL and REDIS_USE_CLUSTERS are both true; Dify uses Sentinel, so does the kit.',
    });
  }
  const db = d.REDIS_DB?.trim() || '0';
  if (sentinel) {
    set('MODE', 'sentinel');
    set('SENTINELS', list(d.REDIS_SENTINELS));
    set('SENTINEL_NAME', d.REDIS_SENTINEL_SERVICE_NAME);
    set('SENTINEL_USERNAME', d.REDIS_SENTINEL_USERNAME);
    set('SENTINEL_PASSWORD', d.REDIS_SENTINEL_PASSWORD);
    const seconds = Number(d.REDIS_SENTINEL_SOCKET_TIMEOUT?.trim() || '0.1');
    // Seconds in Dify, ms here (at least 100 ms).
    if (Number.isFinite(seconds) && seconds > 0)
      set('SENTINEL_TIMEOUT_MS', String(Math.max(100, Math.round(seconds * 1000))));
    set('USERNAME', d.REDIS_USERNAME);
    set('PASSWORD', d.REDIS_PASSWORD);
    set('DB', db);
  } else if (cluster) {
    set('MODE', 'cluster');
    set('CLUSTER_NODES', list(d.REDIS_CLUSTERS));
    set('PASSWORD', d.REDIS_CLUSTERS_PASSWORD);
    if (db !== '0')
      warnings.push({
        code: 'WARN_DEPLOY_REDIS_CLUSTER_DB',
        message: `REDIS_DB=${db} is ignored on Redis Cluster (one database); Dify's Cluster client uses 0 as well.`,
      });
  } else {
    set('MODE', 'standalone');
    const host = d.REDIS_HOST?.trim() || 'localhost';
    const port = d.REDIS_PORT?.trim() || '6379';
    const scheme = truthy(d.REDIS_USE_SSL) ? 'rediss' : 'redis';
    set('URL', `${scheme}://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}/${db}`);
    set('USERNAME', d.REDIS_USERNAME);
    set('PASSWORD', d.REDIS_PASSWORD);
  }
  if (truthy(d.REDIS_USE_SSL)) {
    set('TLS', 'true');
    const reqs = (d.REDIS_SSL_CERT_REQS ?? 'CERT_NONE').trim().toUpperCase();
    if (reqs === 'CERT_NONE' || reqs === 'NONE' || reqs === '') {
      set('TLS_VERIFY', 'none');
      warnings.push({
        code: 'WARN_DEPLOY_REDIS_TLS_UNVERIFIED',
        message:
          "REDIS_SSL_CERT_REQS=CERT_NONE (Dify's default): the Redis certificate is not verified. Set REDIS_SSL_CERT_REQS=CERT_REQUIRED and REDIS_SSL_CA_CERTS, for Dify and the kit.",
      });
    } else {
      set('TLS_VERIFY', 'required');
    }
    set('TLS_CA_FILE', d.REDIS_SSL_CA_CERTS);
    set('TLS_CERT_FILE', d.REDIS_SSL_CERTFILE);
    set('TLS_KEY_FILE', d.REDIS_SSL_KEYFILE);
    if (d.REDIS_SSL_CA_CERTS || d.REDIS_SSL_CERTFILE || d.REDIS_SSL_KEYFILE) {
      warnings.push({
        code: 'WARN_DEPLOY_REDIS_TLS_FILES',
        message:
          'REDIS_SSL_* are paths inside the Dify containers: mount the same files into the sidecar at the same paths.',
      });
    }
  }
  const prefix = d.REDIS_KEY_PREFIX?.trim();
  if (prefix) set('KEY_PREFIX', prefix);
  const password = sentinel ? d.REDIS_PASSWORD : cluster ? d.REDIS_CLUSTERS_PASSWORD : d.REDIS_PASSWORD;
  if (password !== undefined && PUBLIC_REDIS_PASSWORDS.includes(password.trim())) {
    warnings.push({
      code: 'WARN_DEPLOY_REDIS_PUBLIC_PASSWORD',
      message:
        "Dify's Redis still uses the public example password from docker/.env.example; change it (Dify's and the kit's sessions live there).",
    });
  }
  return { env, warnings };
}
