/**
 * Per-app access policy of published web apps (issue 12): a JSON or YAML file mapping app codes
 * (the `<code>` of `/chat/<code>`, Dify's `Site.code`) and app ids (Dify's `App.id`, the
 * passport's `app_id` claim) to an access mode, with a default for apps not listed.
 *
 * ```yaml
 * default: authenticated
 * contact: "the IT help desk (help@example.com)"
 * apps:
 *   Xy7Qm2LkP9aBcDeF: public
 *   4d6f7e0a-1b2c-4d3e-8f90-123456789abc: { groups: [finance] }
 *   HrBot0000000000a: { roles: [hr-staff] }
 * ```
 *
 * Modes: `public` (no SSO: Dify's own anonymous behaviour), `authenticated` (any signed-in
 * person), `{ groups: [...] }` / `{ roles: [...] }` (at least one of the listed IdP groups /
 * roles, as kept on the kit session). Validation lists every problem once
 * (`ERR_CONFIG_WEBAPP_POLICY`); a file that fails to reload keeps the previous policy.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { SsoError } from '../errors.js';

/** One access mode. */
export type WebAppMode =
  | 'public'
  | 'authenticated'
  | { readonly groups: readonly string[] }
  | { readonly roles: readonly string[] };

/** A validated policy. */
export interface WebAppPolicy {
  readonly default: WebAppMode;
  /** Whom a refused person should ask (shown on the denial page); may be empty. */
  readonly contact: string;
  /** App code or app id → mode. */
  readonly apps: ReadonlyMap<string, WebAppMode>;
}

/** Why a person may not use an app (stable reason codes, also in audit events). */
export type WebAppDenial = 'webapp_login_required' | 'webapp_group_required' | 'webapp_role_required';

/** Dify app codes are 16 alphanumerics (dify `api/models/model.py` `Site.generate_code`); accept 1–64. */
export const APP_CODE_RE = /^[A-Za-z0-9]{1,64}$/;
/** Dify app ids are UUIDs. */
export const APP_ID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** The policy used when `gate.webApps` is on and no file is given: every app needs a signed-in person. */
export const DEFAULT_WEBAPP_POLICY: WebAppPolicy = Object.freeze({
  default: 'authenticated',
  contact: '',
  apps: new Map(),
});

/**
 * Thrown when a policy file is unreadable or invalid; the message lists every problem once.
 *
 * @example
 * ```ts
 * try { loadWebAppPolicy(file) } catch (e) { if (e instanceof WebAppPolicyError) console.error(e.problems) }
 * ```
 */
export class WebAppPolicyError extends SsoError {
  /** Every problem found. */
  readonly problems: readonly string[];

  constructor(file: string, problems: readonly string[], cause?: unknown) {
    super(
      'ERR_CONFIG_WEBAPP_POLICY',
      `Invalid web-app policy ${file} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      cause === undefined ? {} : { cause },
    );
    this.problems = Object.freeze([...problems]);
  }
}

function parseMode(v: unknown, where: string, problems: string[]): WebAppMode | undefined {
  if (v === 'public' || v === 'authenticated') return v;
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const keys = Object.keys(v);
    if (keys.length === 1 && (keys[0] === 'groups' || keys[0] === 'roles')) {
      const k = keys[0];
      const list = (v as Record<string, unknown>)[k];
      if (
        !Array.isArray(list) ||
        list.length === 0 ||
        !list.every((x) => typeof x === 'string' && x.trim() !== '' && x.length <= 256)
      ) {
        problems.push(`${where}.${k} must be a non-empty list of names`);
        return undefined;
      }
      return k === 'groups'
        ? { groups: Object.freeze([...new Set(list as string[])]) }
        : { roles: Object.freeze([...new Set(list as string[])]) };
    }
  }
  problems.push(`${where} must be "public", "authenticated", {groups: [...]} or {roles: [...]}`);
  return undefined;
}

/**
 * Validates a parsed policy document; every problem is collected.
 *
 * @example
 * parseWebAppPolicy({ default: 'authenticated', apps: { abc: 'public' } }).policy?.apps.get('abc') // 'public'
 */
export function parseWebAppPolicy(doc: unknown): { policy?: WebAppPolicy; problems: string[] } {
  const problems: string[] = [];
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    return { problems: ['the document must be an object with "default" and "apps"'] };
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d))
    if (!['default', 'contact', 'apps'].includes(k))
      problems.push(`unknown key "${k}" (allowed: default, contact, apps)`);
  let def: WebAppMode | undefined;
  if (d['default'] === undefined) problems.push('"default" is required (the mode of apps not listed)');
  else def = parseMode(d['default'], '"default"', problems);
  const contact = d['contact'] ?? '';
  if (typeof contact !== 'string' || contact.length > 500)
    problems.push('"contact" must be a string of at most 500 characters');
  const apps = new Map<string, WebAppMode>();
  const rawApps = d['apps'] ?? {};
  if (rawApps === null || typeof rawApps !== 'object' || Array.isArray(rawApps))
    problems.push('"apps" must be an object of app code or app id → mode');
  else {
    for (const [key, v] of Object.entries(rawApps as Record<string, unknown>)) {
      if (!APP_CODE_RE.test(key) && !APP_ID_RE.test(key)) {
        problems.push(
          `apps key "${key.slice(0, 80)}" is neither an app code (1–64 letters and digits) nor an app id (UUID)`,
        );
        continue;
      }
      const norm = APP_ID_RE.test(key) ? key.toLowerCase() : key;
      if (apps.has(norm)) {
        problems.push(`apps key "${key}" is listed twice`);
        continue;
      }
      const m = parseMode(v, `apps["${key}"]`, problems);
      if (m !== undefined) apps.set(norm, m);
    }
  }
  if (problems.length > 0 || def === undefined) return { problems };
  return { policy: Object.freeze({ default: def, contact: contact as string, apps }), problems };
}

/**
 * Reads and validates a policy file (`.json`, or YAML for any other extension).
 *
 * @throws {WebAppPolicyError} `ERR_CONFIG_WEBAPP_POLICY` listing every problem.
 * @example
 * const policy = loadWebAppPolicy('/etc/dify-sso/webapps.yaml')
 */
export function loadWebAppPolicy(file: string): WebAppPolicy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new WebAppPolicyError(file, [`cannot be read (${(e as { code?: string }).code ?? 'error'})`], e);
  }
  let doc: unknown;
  try {
    doc = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new WebAppPolicyError(file, [`is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}`], e);
  }
  const { policy, problems } = parseWebAppPolicy(doc);
  if (!policy) throw new WebAppPolicyError(file, problems);
  return policy;
}

/**
 * Parses a YAML policy without aliases. The YAML parser (about 280 KB of JavaScript) is loaded on
 * the first YAML policy only: a sidecar without one never holds it (issue 14, memory).
 */
function parseYaml(text: string): unknown {
  const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml.parse(text, { maxAliasCount: 0 });
}

/** The mode of an app: its app code entry, else its app id entry, else the default. */
export function modeFor(policy: WebAppPolicy, appCode: string | undefined, appId: string | undefined): WebAppMode {
  return (
    (appCode !== undefined ? policy.apps.get(appCode) : undefined) ??
    (appId !== undefined ? policy.apps.get(appId.toLowerCase()) : undefined) ??
    policy.default
  );
}

/**
 * Whether a person (their session's groups and roles; `undefined` without a session) may use an
 * app of this mode; `undefined` = allowed, else the denial reason.
 *
 * @example
 * accessDenial({ groups: ['finance'] }, { groups: ['hr'], roles: [] }) // 'webapp_group_required'
 */
export function accessDenial(
  mode: WebAppMode,
  person: { readonly groups: readonly string[]; readonly roles: readonly string[] } | undefined,
): WebAppDenial | undefined {
  if (mode === 'public') return undefined;
  if (!person) return 'webapp_login_required';
  if (mode === 'authenticated') return undefined;
  if ('groups' in mode) return mode.groups.some((g) => person.groups.includes(g)) ? undefined : 'webapp_group_required';
  return mode.roles.some((r) => person.roles.includes(r)) ? undefined : 'webapp_role_required';
}

/** A reloadable holder: `reload()` swaps in a new valid policy, or keeps the old one and throws. */
export class WebAppPolicyHolder {
  #policy: WebAppPolicy;
  readonly file: string | undefined;

  constructor(file: string | undefined) {
    this.file = file;
    this.#policy = file === undefined ? DEFAULT_WEBAPP_POLICY : loadWebAppPolicy(file);
  }

  get current(): WebAppPolicy {
    return this.#policy;
  }

  /** Re-reads the file. @throws {WebAppPolicyError} (the previous policy stays in force) */
  reload(): WebAppPolicy {
    if (this.file === undefined) return this.#policy;
    this.#policy = loadWebAppPolicy(this.file);
    return this.#policy;
  }
}
