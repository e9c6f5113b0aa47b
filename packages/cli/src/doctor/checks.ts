/**
 * The checks of `dify-sso doctor`, as pure functions of what the front door answered. Each
 * returns ok, or what is wrong and the fix. Nothing here prints a cookie value or a token.
 *
 * @module
 */
import { difyVersionTraits, MAX_DIFY_MINOR, MIN_DIFY_VERSION } from '@dify-sso-kit/sidecar/versions';

/** One HTTP answer as the doctor saw it (body read as text, at most a few KiB are kept). */
export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

/** An answer, or why there was none (network error, timeout, TLS). */
export type Probe = { readonly ok: true; readonly answer: Answer } | { readonly ok: false; readonly error: string };

export interface CheckResult {
  readonly name: string;
  readonly status: 'ok' | 'fail' | 'skip';
  /** What was seen (ok) or what is wrong (fail), or why the check did not run (skip). */
  readonly detail: string;
  /** What to do (fail only). */
  readonly fix?: string;
}

const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail });
const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'fail', detail, fix });

function jsonCode(body: string): string | undefined {
  try {
    const v = JSON.parse(body) as unknown;
    if (v !== null && typeof v === 'object' && typeof (v as { code?: unknown }).code === 'string')
      return (v as { code: string }).code;
  } catch {
    // not JSON
  }
  return undefined;
}

const DEPLOY_FIX =
  'route it through the kit (the nginx locations `dify-sso deploy` writes, or DIFY_SSO_GATE_MODE=proxy)';

export const CHECK_NAMES = {
  frontDoor: 'front door reachable',
  ready: 'sidecar ready (/sso/health/ready)',
  gate: 'gate answering (/console/api/*)',
  version: 'Dify version supported',
  password: 'password login refused',
  features: 'system-features says SSO-only',
  cookies: 'kit cookies (__Host-, Secure)',
} as const;

/** `GET /` answered at all (any status): the URL, DNS, port and TLS are right. */
export function checkFrontDoor(url: string, probe: Probe): CheckResult {
  const name = CHECK_NAMES.frontDoor;
  if (!probe.ok)
    return fail(
      name,
      `cannot reach ${url}: ${probe.error}`,
      'check the URL (the public URL users open, DIFY_SSO_PUBLIC_URL), DNS, the port and the TLS certificate',
    );
  return ok(name, `GET / answered ${probe.answer.status}`);
}

/** `GET /sso/health/ready` is 200: the sidecar is reached through the front door and has loaded the IdP's metadata and keys. */
export function checkReady(probe: Probe): CheckResult {
  const name = CHECK_NAMES.ready;
  if (!probe.ok)
    return fail(
      name,
      `no answer: ${probe.error}`,
      'check that the sidecar is running and reachable from the front door',
    );
  const { status, body } = probe.answer;
  if (status === 200) return ok(name, 'the sidecar is ready');
  if (status === 503) {
    let checks = '';
    try {
      const c = (JSON.parse(body) as { checks?: Record<string, boolean> }).checks ?? {};
      checks = Object.entries(c)
        .filter(([, v]) => v === false)
        .map(([k]) => k)
        .join(', ');
    } catch {
      // not the sidecar's JSON
    }
    return fail(
      name,
      `the sidecar answers 503 (not ready${checks ? `: ${checks}` : ''})`,
      'read the sidecar log (its `code` field): the IdP (DIFY_SSO_OIDC_ISSUER) must be reachable from the sidecar, and its store (Redis) up',
    );
  }
  return fail(
    name,
    `GET /sso/health/ready answered ${status}: /sso/ does not reach the sidecar`,
    `route /sso/ from the front door to the sidecar: ${DEPLOY_FIX}`,
  );
}

/**
 * An unauthenticated `GET /console/api/account/profile` gets the gate's 401
 * `{"code":"unauthorized"}`. Dify answers 401 with the same code by itself, but every dify-api
 * answer carries `X-Version` (dify `api/extensions/ext_app_metrics.py`), the gate's never does.
 */
export function checkGate(probe: Probe): CheckResult {
  const name = CHECK_NAMES.gate;
  if (!probe.ok) return fail(name, `no answer: ${probe.error}`, 'check the front door and the sidecar logs');
  const { status, headers, body } = probe.answer;
  const code = jsonCode(body);
  const version = headers.get('x-version');
  if (status === 401 && code === 'unauthorized' && version === null)
    return ok(name, "an unauthenticated console API request gets the gate's 401");
  if (version !== null) {
    return fail(
      name,
      `dify-api answered the unauthenticated request itself (${status}, X-Version ${version}): the console API is not behind the gate`,
      `put the gate in front of /console/api/: ${DEPLOY_FIX}`,
    );
  }
  if (status >= 200 && status < 300)
    return fail(
      name,
      `the console API answered ${status} without a session`,
      `put the gate in front of /console/api/: ${DEPLOY_FIX}`,
    );
  return fail(
    name,
    `expected the gate's 401 {"code":"unauthorized"}, got ${status}${code ? ` {"code":"${code}"}` : ''}`,
    `check the front door's /console/api/ location: ${DEPLOY_FIX}`,
  );
}

/** dify-api's `X-Version` (here from `/console/api/system-features`) is in the kit's version table. */
export function checkVersion(probe: Probe): CheckResult {
  const name = CHECK_NAMES.version;
  if (!probe.ok)
    return fail(
      name,
      `no answer from /console/api/system-features: ${probe.error}`,
      'check that dify-api is running and reachable from the front door and the sidecar',
    );
  const version = probe.answer.headers.get('x-version');
  if (version === null) {
    return fail(
      name,
      `/console/api/system-features answered ${probe.answer.status} without an X-Version header`,
      'dify-api adds X-Version to every answer: check that the request reaches dify-api and that no proxy strips the header',
    );
  }
  try {
    const traits = difyVersionTraits(version);
    return ok(name, `Dify ${traits.version} (supported: ${MIN_DIFY_VERSION} to ${MAX_DIFY_MINOR}.x)`);
  } catch (err) {
    return fail(
      name,
      `${(err as Error).message}`,
      `run a Dify version from ${MIN_DIFY_VERSION} to ${MAX_DIFY_MINOR}.x, or a kit release that supports yours`,
    );
  }
}

/** `POST /console/api/login` is refused with 403 `{"code":"sso_required"}` (before Dify sees it). */
export function checkPasswordLogin(probe: Probe): CheckResult {
  const name = CHECK_NAMES.password;
  if (!probe.ok) return fail(name, `no answer: ${probe.error}`, 'check the front door and the sidecar logs');
  const { status, body } = probe.answer;
  const code = jsonCode(body);
  if (status === 403 && code === 'sso_required') return ok(name, 'POST /console/api/login gets 403 sso_required');
  return fail(
    name,
    `POST /console/api/login answered ${status}${code ? ` {"code":"${code}"}` : ''}, not 403 {"code":"sso_required"}: password login is not locked`,
    `put the gate in front of /console/api/login: ${DEPLOY_FIX}`,
  );
}

/** The fields the sidecar sets in `GET /console/api/system-features` (sidecar `src/routes/system-features.ts`). */
const SSO_ONLY: Readonly<Record<string, unknown>> = {
  sso_enforced_for_signin: true,
  sso_enforced_for_signin_protocol: 'oidc',
  enable_email_password_login: false,
  enable_email_code_login: false,
  enable_social_oauth_login: false,
  is_allow_register: false,
};

/** `GET /console/api/system-features` tells the sign-in page to offer SSO only. */
export function checkSystemFeatures(probe: Probe): CheckResult {
  const name = CHECK_NAMES.features;
  if (!probe.ok) return fail(name, `no answer: ${probe.error}`, 'check that dify-api is running and reachable');
  let body: Record<string, unknown>;
  try {
    const v = JSON.parse(probe.answer.body) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TypeError('not an object');
    body = v as Record<string, unknown>;
  } catch {
    return fail(
      name,
      `/console/api/system-features answered ${probe.answer.status} without a JSON object`,
      'check that the request reaches the sidecar and dify-api',
    );
  }
  const wrong = Object.entries(SSO_ONLY)
    .filter(([k, v]) => body[k] !== v)
    .map(([k, v]) => `${k} is ${JSON.stringify(body[k])}, expected ${JSON.stringify(v)}`);
  if (wrong.length === 0)
    return ok(name, 'SSO enforced (oidc); password, e-mail code, social login and registration off');
  return fail(name, wrong.join('; '), `route GET /console/api/system-features to the sidecar: ${DEPLOY_FIX}`);
}

interface SetCookie {
  name: string;
  attributes: Set<string>;
  domain: boolean;
  path: string | undefined;
}

function parseSetCookie(line: string): SetCookie {
  const [pair = '', ...attrs] = line.split(';').map((p) => p.trim());
  const name = pair.slice(0, Math.max(0, pair.indexOf('=')));
  const attributes = new Set<string>();
  let domain = false;
  let path: string | undefined;
  for (const a of attrs) {
    const [k = '', v] = a.split('=', 2);
    const key = k.trim().toLowerCase();
    attributes.add(key);
    if (key === 'domain') domain = true;
    if (key === 'path') path = v?.trim();
  }
  return { name, attributes, domain, path };
}

/**
 * `GET /sso/login` sets the kit's transaction cookie: on https `__Host-dify_sso_tx` with
 * `Secure`, `HttpOnly`, `Path=/` and no `Domain` (sidecar `src/services/session.ts`,
 * `cookieNames`). Plain http is refused unless `allowHttp` (development on loopback only).
 */
export function checkCookies(url: URL, probe: Probe, options: { allowHttp: boolean }): CheckResult {
  const name = CHECK_NAMES.cookies;
  const https = url.protocol === 'https:';
  if (!https && !options.allowHttp) {
    return fail(
      name,
      "the front door is plain http: the kit's cookies cannot be __Host-/Secure",
      'serve the front door over https (DIFY_SSO_PUBLIC_URL=https://…); pass --allow-http only for a local development stack',
    );
  }
  if (!probe.ok) return fail(name, `no answer from /sso/login: ${probe.error}`, 'check the sidecar logs');
  const cookies = probe.answer.headers.getSetCookie().map(parseSetCookie);
  const tx = cookies.find((c) => /^(__Host-)?dify_sso_tx$/.test(c.name));
  if (!tx)
    return fail(
      name,
      `GET /sso/login answered ${probe.answer.status} without the kit's transaction cookie`,
      'check that /sso/ reaches the sidecar and that it is ready (see the checks above)',
    );
  const problems: string[] = [];
  if (https) {
    if (!tx.name.startsWith('__Host-')) problems.push(`${tx.name} lacks the __Host- prefix`);
    if (!tx.attributes.has('secure')) problems.push(`${tx.name} is not Secure`);
    if (tx.domain) problems.push(`${tx.name} has a Domain attribute`);
    if (tx.path !== '/') problems.push(`${tx.name} has Path=${tx.path ?? '(none)'}, expected /`);
  }
  if (!tx.attributes.has('httponly')) problems.push(`${tx.name} is not HttpOnly`);
  if (problems.length > 0)
    return fail(
      name,
      problems.join('; '),
      'set DIFY_SSO_PUBLIC_URL to the https front door URL and do not set DIFY_SSO_ALLOW_INSECURE_HTTP in production',
    );
  return ok(
    name,
    https
      ? `${tx.name}: __Host-, Secure, HttpOnly, Path=/`
      : `${tx.name}: HttpOnly (plain http, development only: no __Host-/Secure)`,
  );
}
