/**
 * Dify web-app passports as the gate reads them (docs/dify-contract.md §12).
 *
 * - dify `api/libs/passport.py` (1.11.0–main): `PassportService.issue` = HS256 JWT signed with
 *   `SECRET_KEY`; `api/controllers/web/passport.py`: claims `iss` = app id, `sub` =
 *   "Web API Passport", `app_id`, `app_code`, `end_user_id`, no `exp`.
 * - dify `api/libs/token.py` `extract_webapp_passport` (1.11.0–main): the cookie
 *   `passport-<X-App-Code>` (with the `__Host-` prefix on https) first, else the header
 *   `X-App-Passport`; `api/controllers/web/wraps.py` `decode_jwt_token` then trusts the
 *   token's `app_code`, `app_id` and `end_user_id`.
 *
 * The gate never holds `SECRET_KEY` (dify-api verifies the signature on every call). It reads
 * the claims of the one token dify-api will read and checks that the caller owns them: a forged
 * token is refused by dify-api, a genuine one carries genuine claims. To make "the one token"
 * unambiguous it refuses any request carrying a passport cookie (community Dify never sets one),
 * a passport header that is not exactly one compact JWT, and `X-App-Passport` / `X-App-Code`
 * spelled with `_` (which some servers map onto the same name).
 *
 * @module
 */

/** Header the Dify web client sends the passport in (dify `web/config` `PASSPORT_HEADER_NAME`). */
export const PASSPORT_HEADER = 'x-app-passport';
/** Header naming the app on `/api/passport` (dify `api/constants/__init__.py` `HEADER_NAME_APP_CODE`). */
export const APP_CODE_HEADER = 'x-app-code';

/** The claims the gate needs. */
export interface PassportClaims {
  readonly appCode: string;
  readonly appId: string;
  readonly endUserId: string;
}

/** Outcome of reading a request's passport. */
export type PassportRead =
  | { readonly ok: true; readonly token: string; readonly claims: PassportClaims }
  | { readonly ok: false; readonly reason: 'missing' | 'ambiguous' | 'malformed' };

const JWT_RE = /^[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+$/;

/**
 * Decodes the payload of a compact JWT without verifying it (dify-api verifies it).
 *
 * @example
 * decodePassport(token)?.endUserId
 */
export function decodePassport(token: string): PassportClaims | undefined {
  const m = JWT_RE.exec(token);
  if (!m || token.length > 4096) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(m[1] as string, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (payload === null || typeof payload !== 'object') return undefined;
  const p = payload as Record<string, unknown>;
  const { app_code: appCode, app_id: appId, end_user_id: endUserId } = p;
  if (typeof appCode !== 'string' || typeof appId !== 'string' || typeof endUserId !== 'string') return undefined;
  if (appCode === '' || appId === '' || endUserId === '' || endUserId.length > 128) return undefined;
  return { appCode, appId, endUserId };
}

function single(v: string | readonly string[] | undefined): string | undefined | null {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  return v.length === 1 ? (v[0] as string) : null;
}

/**
 * Reads the passport of a web-app API request.
 *
 * @example
 * readPassport({ 'x-app-passport': token, cookie: 'a=b' }).ok
 */
export function readPassport(headers: Readonly<Record<string, string | readonly string[] | undefined>>): PassportRead {
  for (const name of Object.keys(headers)) {
    const n = name.toLowerCase();
    if (
      n !== PASSPORT_HEADER &&
      n !== APP_CODE_HEADER &&
      (n.replace(/_/g, '-') === PASSPORT_HEADER || n.replace(/_/g, '-') === APP_CODE_HEADER)
    )
      return { ok: false, reason: 'ambiguous' };
  }
  const cookie = headers['cookie'];
  const cookieText = typeof cookie === 'string' ? cookie : Array.isArray(cookie) ? cookie.join(';') : '';
  // Any cookie whose name mentions "passport" (dify reads `passport-<code>` before the header).
  if (
    /passport/i.test(
      cookieText
        .split(/[;,]/)
        .map((c) => c.split('=', 1)[0] ?? '')
        .join(';'),
    )
  )
    return { ok: false, reason: 'ambiguous' };
  const raw = single(headers[PASSPORT_HEADER]);
  if (raw === null) return { ok: false, reason: 'ambiguous' };
  if (raw === undefined || raw === '') return { ok: false, reason: 'missing' };
  const claims = decodePassport(raw);
  return claims ? { ok: true, token: raw, claims } : { ok: false, reason: 'malformed' };
}
