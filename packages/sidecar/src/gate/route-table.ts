/**
 * Path tables of the gate. Every match is made on the canonical path (`canonical-path.ts`).
 * Paths and behaviours: docs/dify-contract.md §2 (console auth endpoints), §5
 * (system-features), §8 (social OAuth), §11 (URL prefixes); dify
 * `api/controllers/console/auth/*.py`, `api/controllers/console/setup.py`.
 */

/** A method + canonical path pattern; a trailing `*` makes it a prefix match, `/:seg` one segment. */
export interface RouteRule {
  readonly methods: readonly string[] | '*';
  readonly pattern: string;
}

function rule(methods: readonly string[] | '*', pattern: string): RouteRule {
  return { methods, pattern };
}

/** A compiled pattern test, built once per rule (not per request). */
type PathTest = (path: string) => boolean;
const compiled = new WeakMap<RouteRule, PathTest>();

function compile(pattern: string): PathTest {
  if (pattern.endsWith('*')) {
    const prefix = pattern.slice(0, -1);
    return (path) => path.startsWith(prefix);
  }
  if (pattern.includes('/:seg')) {
    const re = new RegExp(`^${pattern.split('/:seg').map(escapeRe).join('/[^/]+')}$`);
    return (path) => re.test(path);
  }
  return (path) => path === pattern;
}

export function matchesRule(r: RouteRule, method: string, path: string): boolean {
  if (r.methods !== '*' && !r.methods.includes(method)) return false;
  let t = compiled.get(r);
  if (!t) {
    t = compile(r.pattern);
    compiled.set(r, t);
  }
  return t(path);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Which lockdown family a path belongs to (reported in logs; break-glass reopens only `password_login`). */
export type LockFamily =
  | 'password_login'
  | 'email_code_login'
  | 'registration'
  | 'password_reset'
  | 'social_oauth'
  | 'setup'
  | 'local_password';

/**
 * Local-login endpoints that answer 403 `{"code":"sso_required"}`. Methods are `*`: the
 * lockdown must not depend on the method a client picks.
 */
export const LOCKED_ROUTES: readonly (RouteRule & { family: LockFamily })[] = [
  { ...rule('*', '/console/api/login'), family: 'password_login' },
  { ...rule('*', '/console/api/email-code-login'), family: 'email_code_login' },
  { ...rule('*', '/console/api/email-code-login/validity'), family: 'email_code_login' },
  { ...rule('*', '/console/api/reset-password'), family: 'password_reset' },
  { ...rule('*', '/console/api/forgot-password*'), family: 'password_reset' },
  { ...rule('*', '/console/api/email-register*'), family: 'registration' },
  { ...rule('*', '/console/api/register*'), family: 'registration' },
  { ...rule('*', '/console/api/oauth/login/:seg'), family: 'social_oauth' },
  { ...rule('*', '/console/api/oauth/authorize/:seg'), family: 'social_oauth' },
  { ...rule('*', '/console/api/account/password'), family: 'local_password' },
  // Published web-app login (EE-only in dify-api, 404 in CE); locked anyway where the gate sees /api.
  { ...rule('*', '/api/login'), family: 'password_login' },
  { ...rule('*', '/api/email-code-login*'), family: 'email_code_login' },
  { ...rule('*', '/api/forgot-password*'), family: 'password_reset' },
];

/** Setup endpoints: open until Dify's setup is finished, then locked (`setup` family). */
export const SETUP_WRITE_ROUTES: readonly RouteRule[] = [
  rule(['POST', 'PUT', 'PATCH', 'DELETE'], '/console/api/setup'),
  rule(['POST', 'PUT', 'PATCH', 'DELETE'], '/console/api/init'),
];

/**
 * Console paths that pass without any session (only when the raw path was already canonical).
 * `system-features` and `enterprise/sso/*` are normally routed to the sidecar itself.
 */
export const PUBLIC_CONSOLE_ROUTES: readonly RouteRule[] = [
  rule(['GET', 'HEAD'], '/console/api/system-features'),
  rule(['GET', 'HEAD'], '/console/api/setup'),
  rule(['GET', 'HEAD'], '/console/api/init'),
  rule(['GET', 'HEAD'], '/console/api/ping'),
  rule(['GET', 'HEAD'], '/console/api/activate/check'),
  rule(['GET', 'HEAD'], '/console/api/enterprise/sso/*'),
  rule(['OPTIONS'], '/console/api/*'),
];

/** Refresh endpoint: passes without an access cookie only with a live kit session owning the refresh token. */
export const REFRESH_ROUTE: RouteRule = rule(['POST'], '/console/api/refresh-token');

/** Published web-app pages (dify `web/app/(shareLayout)/`; `/agent` on main; docs/dify-contract.md §10). */
export const WEBAPP_PAGE_PREFIXES: readonly string[] = ['/chat', '/chatbot', '/completion', '/workflow', '/agent'];

export type PathClass =
  | 'console' // /console/api/**, /socket.io/** (both authenticate with the console access cookie)
  | 'service' // /v1/** (service API, Dify app keys)
  | 'files' // /files/** (signed URLs)
  | 'webapp' // /api/** (published web-app API)
  | 'webapp_page' // published web-app pages: /chat/, /chatbot/, /completion/, /workflow/, /agent/
  | 'passthrough'; // everything Dify authenticates itself or serves publicly: /mcp, /triggers, /e/, /openapi, /health, web pages

export function classifyPath(path: string): PathClass {
  if (path === '/console/api' || path.startsWith('/console/api/')) return 'console';
  if (path === '/socket.io' || path.startsWith('/socket.io/')) return 'console';
  if (path === '/files' || path.startsWith('/files/')) return 'files';
  if (path === '/api' || path.startsWith('/api/')) return 'webapp';
  if (path === '/v1' || path.startsWith('/v1/')) return 'service';
  if (WEBAPP_PAGE_PREFIXES.some((p) => path.startsWith(`${p}/`))) return 'webapp_page';
  return 'passthrough';
}

/** Signed file URLs carry `timestamp`, `nonce` and `sign` (dify `api/core/file/helpers.py`, verified by dify-api with SECRET_KEY). */
export function hasFileSignature(rawUri: string): boolean {
  const q = rawUri.indexOf('?');
  if (q === -1) return false;
  const params = new URLSearchParams(rawUri.slice(q + 1).split('#', 1)[0]);
  return ['timestamp', 'nonce', 'sign'].every((k) => (params.get(k) ?? '') !== '');
}

/**
 * Parses `gate.machineRoutes` entries (`GET /console/api/apps*`). Only console paths; the
 * method defaults to GET when omitted.
 *
 * @example
 * parseMachineRoutes(['GET /console/api/apps*']).rules[0] // { methods: ['GET'], pattern: '/console/api/apps*' }
 */
export function parseMachineRoutes(items: readonly string[]): { rules: RouteRule[]; problems: string[] } {
  const rules: RouteRule[] = [];
  const problems: string[] = [];
  for (const raw of items) {
    const parts = raw.trim().split(/\s+/);
    const [a, b] = parts;
    const method = parts.length === 2 ? (a as string).toUpperCase() : 'GET';
    const path = parts.length === 2 ? (b as string) : (a as string);
    if (parts.length > 2 || !['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) {
      problems.push(`"${raw}" must be "<METHOD> /console/api/<path>[*]"`);
      continue;
    }
    if (!/^\/console\/api\/[a-z0-9\-_/]*\*?$/.test(path) || path.includes('//') || path.includes('/../')) {
      problems.push(`"${raw}" must name a lower-case path under /console/api/ (optionally ending in *)`);
      continue;
    }
    rules.push(rule(method === 'GET' ? ['GET', 'HEAD'] : [method], path));
  }
  return { rules, problems };
}
