/**
 * `loadConfig(env)`: environment → validated, frozen {@link SidecarConfig}, collecting every
 * problem into one {@link ConfigError} (`ERR_CONFIG_INVALID`).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Kind, KindGuard, type TSchema, type TProperties } from '@sinclair/typebox';
import { ConfigError, type ConfigProblem, type ConfigProblemCode } from '../errors.js';
import type { ConfigCheck, ReportProblem } from './checks.js';
import { difyConfigChecks } from './dify-schema.js';
import { ENV_PREFIX, configSchema, type SidecarConfig } from './schema.js';
import { redisConnectionCheck, storeRedisPath } from './redis-schema.js';

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Reads `…_FILE` secrets; defaults to `fs.readFileSync(path, 'utf8')`. */
  readFile?: (path: string) => string;
}

/** One leaf of the schema, as the loader and the docs generator see it. */
export interface ConfigLeaf {
  /** Dot path, e.g. `oidc.clientSecret`. */
  path: string;
  /** Env name, e.g. `DIFY_SSO_OIDC_CLIENT_SECRET`. */
  env: string;
  /** The TypeBox schema of the leaf. */
  schema: TSchema;
  /** Whether the value is secret (accepts `…_FILE`, masked in logs). */
  secret: boolean;
  /** Whether the value may be absent (no default, not required). */
  optional: boolean;
}

const upperSnake = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/**
 * Env name of a config path.
 *
 * @example
 * ```ts
 * envName('oidc.clientSecret') // 'DIFY_SSO_OIDC_CLIENT_SECRET'
 * ```
 */
export function envName(path: string): string {
  return ENV_PREFIX + path.split('.').map(upperSnake).join('_');
}

/**
 * Every leaf of a properties object, depth first, in declaration order.
 *
 * @example
 * ```ts
 * for (const leaf of configLeaves()) console.log(leaf.env)
 * ```
 */
export function configLeaves(properties: TProperties = configSchema.properties, prefix = ''): ConfigLeaf[] {
  const out: ConfigLeaf[] = [];
  for (const [key, schema] of Object.entries(properties)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (KindGuard.IsObject(schema)) {
      out.push(...configLeaves(schema.properties, path));
      continue;
    }
    out.push({
      path,
      env: envName(path),
      schema,
      secret: (schema as { secret?: boolean }).secret === true,
      optional: KindGuard.IsOptional(schema) && !('default' in schema),
    });
  }
  return out;
}

function literalValues(schema: TSchema): string[] | undefined {
  if (KindGuard.IsUnion(schema) && schema.anyOf.every((s) => KindGuard.IsLiteral(s))) {
    return schema.anyOf.map((s) => String((s as { const: unknown }).const));
  }
  return undefined;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1) as string] = value;
}

function getPath(source: Record<string, unknown>, path: string): unknown {
  let node: unknown = source;
  for (const part of path.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  return node;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Is `hostname` (as in `URL.hostname`) a loopback host?
 *
 * @example
 * ```ts
 * isLoopbackHost('127.0.0.1') // true
 * isLoopbackHost('idp.example.com') // false
 * ```
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

function coerceLeaf(leaf: ConfigLeaf, raw: string, report: (code: ConfigProblemCode, msg: string) => void): unknown {
  const { schema } = leaf;
  const kind = schema[Kind] as string;
  const enumValues = literalValues(schema);
  if (enumValues) {
    if (!enumValues.includes(raw)) return report('ERR_CONFIG_ENUM', `must be one of: ${enumValues.join(', ')}`);
    return raw;
  }
  switch (kind) {
    case 'Boolean':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      return report('ERR_CONFIG_TYPE', 'must be true or false');
    case 'Integer':
    case 'Number': {
      if (!/^-?\d+$/.test(raw)) return report('ERR_CONFIG_TYPE', 'must be an integer');
      const n = Number(raw);
      const min = schema.minimum as number | undefined;
      const max = schema.maximum as number | undefined;
      if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
        return report('ERR_CONFIG_RANGE', `must be between ${min ?? '-∞'} and ${max ?? '∞'}`);
      }
      return n;
    }
    case 'Array': {
      const items = raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      const itemSchema = (schema as unknown as { items: TSchema }).items;
      const allowed = literalValues(itemSchema);
      if (allowed) {
        const bad = items.filter((i) => !allowed.includes(i));
        if (bad.length > 0)
          return report(
            'ERR_CONFIG_ENUM',
            `contains ${bad.map((b) => JSON.stringify(b)).join(', ')}; allowed: ${allowed.join(', ')}`,
          );
      }
      const minLen = itemSchema.minLength as number | undefined;
      if (minLen !== undefined && items.some((i) => i.length < minLen)) {
        return report('ERR_CONFIG_RANGE', `items must be at least ${minLen} characters`);
      }
      return items;
    }
    default: {
      const minLen = schema.minLength as number | undefined;
      if (minLen !== undefined && raw.length < minLen)
        return report('ERR_CONFIG_RANGE', `must be at least ${minLen} characters`);
      return raw;
    }
  }
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

const PATH_RE = /^\/(?!\/)[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;
const DOMAIN_RE = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** Semantic checks of the core schema (formats, secure defaults, cross-field rules). */
const coreChecks: ConfigCheck[] = [
  (c, report) => {
    const insecureAllowed = c.allowInsecureHttp === true;
    const checkHttpUrl = (path: string, kind: 'origin' | 'issuer') => {
      const value = getPath(c, path);
      if (typeof value !== 'string') return;
      const url = parseUrl(value);
      if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
        return report('ERR_CONFIG_FORMAT', path, 'must be an https URL');
      }
      if (url.username || url.password || url.search || url.hash || value.includes('#') || value.includes('?')) {
        return report('ERR_CONFIG_FORMAT', path, 'must not contain credentials, a query or a fragment');
      }
      if (kind === 'origin' && url.pathname !== '/')
        return report('ERR_CONFIG_FORMAT', path, 'must be an origin without a path (e.g. https://dify.example.com)');
      if (url.protocol === 'http:') {
        if (!insecureAllowed)
          return report(
            'ERR_CONFIG_INSECURE',
            path,
            'must be an https URL (plain http needs DIFY_SSO_ALLOW_INSECURE_HTTP=true and a loopback host)',
          );
        if (!isLoopbackHost(url.hostname))
          return report('ERR_CONFIG_INSECURE', path, 'may use plain http only on a loopback host');
      }
    };
    checkHttpUrl('publicUrl', 'origin');
    checkHttpUrl('oidc.issuer', 'issuer');
    const otel = getPath(c, 'otel.endpoint');
    if (typeof otel === 'string') {
      const url = parseUrl(otel);
      if (
        !url ||
        (url.protocol !== 'https:' && url.protocol !== 'http:') ||
        url.username ||
        url.password ||
        url.search ||
        url.hash
      ) {
        report(
          'ERR_CONFIG_FORMAT',
          'otel.endpoint',
          'must be an http(s) URL without credentials, query or fragment (e.g. http://otel-collector:4318/v1/traces)',
        );
      }
    }
  },
  (c, report) => {
    if (c.allowInsecureHttp === true && (c as { nodeEnv?: string }).nodeEnv === 'production') {
      report('ERR_CONFIG_CONFLICT', 'allowInsecureHttp', 'must not be true when NODE_ENV=production');
    }
  },
  (c, report) => {
    for (const path of ['listen', 'metrics.listen']) {
      const listen = getPath(c, path);
      if (typeof listen !== 'string') continue;
      const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(listen);
      if (!m || Number(m[2]) > 65535)
        report(
          'ERR_CONFIG_FORMAT',
          path,
          `must be host:port (e.g. ${path === 'listen' ? '127.0.0.1:8088' : '0.0.0.0:9464'})`,
        );
    }
    if (typeof c.listen === 'string' && getPath(c, 'metrics.listen') === c.listen) {
      report(
        'ERR_CONFIG_CONFLICT',
        'metrics.listen',
        'must differ from listen (the metrics endpoint is never on the proxied port)',
      );
    }
  },
  (c, report) => {
    for (const path of ['signinPath', 'homePath']) {
      const v = getPath(c, path);
      if (typeof v === 'string' && (!PATH_RE.test(v) || v.includes('/../') || v.endsWith('/..'))) {
        report('ERR_CONFIG_FORMAT', path, 'must be an absolute path starting with a single /');
      }
    }
  },
  redisConnectionCheck(storeRedisPath, (c) => c.store === 'redis', 'DIFY_SSO_STORE=redis'),
  (c, report) => {
    const method = getPath(c, 'oidc.clientAuthMethod');
    if (method === 'client_secret_basic' && getPath(c, 'oidc.clientSecret') === undefined) {
      report('ERR_CONFIG_REQUIRED', 'oidc.clientSecret', 'is required when oidc.clientAuthMethod=client_secret_basic');
    }
    if (method === 'private_key_jwt' && getPath(c, 'oidc.privateKey') === undefined) {
      report('ERR_CONFIG_REQUIRED', 'oidc.privateKey', 'is required when oidc.clientAuthMethod=private_key_jwt');
    }
  },
  (c, report) => {
    const idle = getPath(c, 'session.idleTimeoutSeconds');
    const abs = getPath(c, 'session.absoluteTimeoutSeconds');
    if (typeof idle === 'number' && typeof abs === 'number' && idle > abs) {
      report('ERR_CONFIG_CONFLICT', 'session.idleTimeoutSeconds', 'must not exceed session.absoluteTimeoutSeconds');
    }
    const secret = getPath(c, 'session.secret');
    if (typeof secret === 'string' && new Set(secret).size < 8) {
      report('ERR_CONFIG_RANGE', 'session.secret', 'must not be a repeated or trivial value');
    }
  },
  (c, report) => {
    const domains = getPath(c, 'policy.allowedEmailDomains');
    if (!Array.isArray(domains)) return;
    const bad = domains.filter((d) => typeof d !== 'string' || !DOMAIN_RE.test(d));
    if (bad.length > 0)
      report(
        'ERR_CONFIG_FORMAT',
        'policy.allowedEmailDomains',
        `must be lower-case domain names (got ${bad.map((b) => JSON.stringify(b)).join(', ')})`,
      );
  },
  (c, report) => {
    const issuer = getPath(c, 'oidc.issuer');
    if (
      getPath(c, 'oidc.preset') === 'entra' &&
      typeof issuer === 'string' &&
      /\/(common|organizations|consumers)(\/|$)/i.test(issuer)
    ) {
      report(
        'ERR_CONFIG_CONFLICT',
        'oidc.issuer',
        'must be a tenant issuer (https://login.microsoftonline.com/<tenant-id>/v2.0) with oidc.preset=entra',
      );
    }
  },
  (c, report) => {
    const workers = getPath(c, 'workers');
    if (typeof workers === 'number' && workers > 1 && c.store !== 'redis') {
      report(
        'ERR_CONFIG_CONFLICT',
        'workers',
        'must be 0 or 1 with the memory store (sessions would differ per worker); set DIFY_SSO_STORE=redis',
      );
    }
  },
  (c, report) => {
    const scopes = getPath(c, 'oidc.scopes');
    if (Array.isArray(scopes) && scopes.some((s) => typeof s !== 'string' || !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s))) {
      report('ERR_CONFIG_FORMAT', 'oidc.scopes', 'must be a comma-separated list of scope tokens');
    }
  },
];

/**
 * Validates the environment against the schema and returns a deep-frozen config.
 * Pure apart from reading `…_FILE` secrets (injectable); never touches `process.env`.
 *
 * @throws {ConfigError} `ERR_CONFIG_INVALID` listing every problem, each with its own code.
 * @example
 * ```ts
 * const config = loadConfig({ DIFY_SSO_OIDC_ISSUER: 'https://idp.example.com/realms/x', ... });
 * ```
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  options: LoadConfigOptions = {},
): SidecarConfig {
  const readFile = options.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const problems: ConfigProblem[] = [];
  const config: Record<string, unknown> = {};
  const leaves = configLeaves();
  const envOf = new Map(leaves.map((l) => [l.path, l.env]));

  for (const leaf of leaves) {
    const push = (code: ConfigProblemCode, msg: string, env = leaf.env): undefined => {
      problems.push({ code, path: leaf.path, env, message: `"${leaf.path}" (${env}) ${msg}` });
      return undefined;
    };
    let raw = env[leaf.env];
    if (leaf.secret) {
      const fileEnv = `${leaf.env}_FILE`;
      const file = env[fileEnv];
      if (file !== undefined && file !== '') {
        if (raw !== undefined && raw !== '') {
          problems.push({
            code: 'ERR_CONFIG_FILE',
            path: leaf.path,
            env: fileEnv,
            message: `"${leaf.path}": set only one of ${leaf.env} and ${fileEnv}`,
          });
          continue;
        }
        try {
          raw = readFile(file).replace(/\r?\n$/, '');
        } catch {
          push('ERR_CONFIG_FILE', 'could not be read', fileEnv);
          continue;
        }
      }
    }
    if (raw !== undefined && leaf.schema[Kind] !== 'String') raw = raw.trim();
    if (raw === undefined || raw === '') {
      if ('default' in leaf.schema) setPath(config, leaf.path, structuredClone(leaf.schema.default));
      else if (!leaf.optional) push('ERR_CONFIG_REQUIRED', 'is required');
      continue;
    }
    const value = coerceLeaf(leaf, raw, push);
    if (value !== undefined) setPath(config, leaf.path, value);
  }

  const report: ReportProblem = (code, path, message) => {
    const env = envOf.get(path) ?? envName(path);
    problems.push({ code, path, env, message: `"${path}" (${env}) ${message}` });
  };
  const failed = new Set(problems.map((p) => p.path));
  const visible = { ...config, nodeEnv: env.NODE_ENV };
  for (const check of [...coreChecks, ...difyConfigChecks]) {
    const before = problems.length;
    check(visible, (code, path, message) => {
      if (!failed.has(path)) report(code, path, message);
    });
    for (const p of problems.slice(before)) failed.add(p.path);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config) as SidecarConfig;
}

/**
 * Warnings for named relaxations that are switched on (logged loudly at startup).
 *
 * @example
 * ```ts
 * for (const w of configWarnings(config)) app.log.warn({ code: w.code }, w.message)
 * ```
 */
export function configWarnings(config: SidecarConfig): { code: string; message: string }[] {
  const out: { code: string; message: string }[] = [];
  if (config.allowInsecureHttp) {
    out.push({
      code: 'WARN_CONFIG_INSECURE_HTTP',
      message:
        'DIFY_SSO_ALLOW_INSECURE_HTTP=true: plain-http issuer/public URL allowed on loopback and cookies are sent without Secure. Development only; never use this in production.',
    });
  }
  for (const [what, verify, env] of [
    ['session store', config.redis.tlsVerify, 'DIFY_SSO_REDIS_TLS_VERIFY'],
    ["Dify's Redis", config.dify.redisTlsVerify, 'DIFY_SSO_DIFY_REDIS_TLS_VERIFY'],
  ] as const) {
    if (verify === 'none') {
      out.push({
        code: 'WARN_CONFIG_REDIS_TLS_UNVERIFIED',
        message: `${env}=none: the ${what}'s TLS certificate is not verified; anyone on the path can read and forge sessions. Give the CA (…_TLS_CA_FILE) instead.`,
      });
    }
  }
  if (
    config.policy.allowedGroups.length +
      config.policy.allowedRoles.length +
      config.policy.allowedEmailDomains.length ===
    0
  ) {
    out.push({
      code: 'WARN_CONFIG_OPEN_POLICY',
      message:
        'No access policy (allowed groups/roles/e-mail domains): every user the IdP authenticates for this client may sign in.',
    });
  }
  return out;
}

/**
 * The config with every secret masked, for logging.
 *
 * @example
 * ```ts
 * app.log.info({ config: maskedConfig(config) }, 'configuration loaded')
 * ```
 */
export function maskedConfig(config: SidecarConfig): Record<string, unknown> {
  const copy = structuredClone(config) as Record<string, unknown>;
  for (const leaf of configLeaves()) {
    if (leaf.secret && getPath(copy, leaf.path) !== undefined) setPath(copy, leaf.path, '[masked]');
  }
  return copy;
}
