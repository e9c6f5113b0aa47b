/**
 * Web-app SSO (issue 12): per-person Dify end users, passport ownership and per-app access.
 *
 * - **Identity.** A person's Dify end user is the one dify-api finds or creates for
 *   `(app, session_id = user_id)` on `GET /api/passport?user_id=…` (dify
 *   `api/controllers/web/passport.py`, 1.11.0–main). The sidecar owns `/api/passport`: it asks
 *   dify-api server-side with a `user_id` derived from the person ({@link personUserId}) and
 *   ignores the client's; the same person therefore gets the same end user (and conversation
 *   history) in every browser.
 * - **Ownership.** Each passport's `end_user_id` is recorded in the kit's store
 *   (`webapp:eu:<end_user_id>` → person key; memory or Redis, shared by replicas and workers).
 *   A later `/api/**` call passes only when its passport's `end_user_id` belongs to the caller.
 * - **Policy.** `policy.ts`: app code / app id → public, authenticated, groups, roles.
 *
 * @module
 */
import { createHash, createHmac } from 'node:crypto';
import type { KvStore, SessionClaims } from '../store/types.js';
import {
  accessDenial,
  APP_CODE_RE,
  modeFor,
  type WebAppDenial,
  type WebAppMode,
  type WebAppPolicyHolder,
} from './policy.js';
import { readPassport, type PassportClaims } from './passport.js';

/** How the Dify `user_id` of a person is derived (`gate.webAppUserId`). */
export type UserIdSource = 'pseudonym' | 'email' | 'preferred_username';

/** The session facts the web-app checks need. */
export interface WebAppPerson {
  readonly iss: string;
  readonly sub: string;
  readonly claims: SessionClaims;
}

/** Outcome of a check: allowed, or refused with an HTTP status and a stable code. */
export type WebAppVerdict =
  | { readonly allow: true; readonly via: 'public' | 'session'; readonly appCode?: string | undefined }
  | {
      readonly allow: false;
      readonly status: 400 | 401 | 403;
      readonly code: WebAppDenyCode;
      readonly detail: string;
      readonly appCode?: string | undefined;
    };

/** Stable codes of web-app refusals (JSON `code`, audit `reason`). */
export type WebAppDenyCode =
  | 'unauthorized'
  | 'invalid_passport'
  | 'passport_unknown'
  | 'passport_not_owned'
  | 'webapp_access_denied'
  | 'webapp_identity_unavailable'
  | 'invalid_request';

/** Pre-passport web-app API calls the Dify web client makes before it holds a passport (GET only, no app data). */
const PRE_PASSPORT = new Set([
  '/api/system-features',
  '/api/webapp/access-mode',
  '/api/webapp/permission',
  '/api/login/status',
]);

/** Ownership records live this long after the last passport issued for them. */
const OWNER_TTL_SECONDS = 400 * 24 * 3600;

/** A compact, stable key of a person `(iss, sub)`. */
export function personKey(iss: string, sub: string): string {
  return createHash('sha256').update(iss).update('\0').update(sub).digest('base64url').slice(0, 32);
}

/**
 * The Dify `user_id` (end user `session_id`) of a person, or undefined when the configured source
 * is not available (`email` needs a verified e-mail).
 *
 * @example
 * personUserId({ iss, sub, claims }, 'pseudonym', key) // 'sso-3q2…'
 */
export function personUserId(p: WebAppPerson, source: UserIdSource, key: string | undefined): string | undefined {
  // dify `end_users.session_id` is varchar(255).
  const fits = (v: string) => (v.length <= 255 ? v : undefined);
  if (source === 'email')
    return p.claims.email && p.claims.emailVerified === true
      ? fits(`email:${p.claims.email.toLowerCase()}`)
      : undefined;
  if (source === 'preferred_username')
    return p.claims.preferredUsername ? fits(`user:${p.claims.preferredUsername}`) : undefined;
  const mac = key ? createHmac('sha256', key) : createHash('sha256');
  return `sso-${mac.update(p.iss).update('\0').update(p.sub).digest('base64url').slice(0, 32)}`;
}

export interface WebAppServiceOptions {
  readonly policy: WebAppPolicyHolder;
  readonly kv: KvStore;
  readonly userIdSource: UserIdSource;
  readonly userIdKey?: string | undefined;
}

/** Session lookup for one request: the person, or undefined without a live kit session. */
export type PersonLookup = () => Promise<WebAppPerson | undefined>;

/**
 * The decisions of web-app SSO, shared by `/sso/auth`, reverse-proxy mode and the passport
 * broker.
 */
export class WebAppService {
  readonly #o: WebAppServiceOptions;

  constructor(options: WebAppServiceOptions) {
    this.#o = options;
  }

  get policy(): WebAppPolicyHolder {
    return this.#o.policy;
  }

  modeOf(appCode: string | undefined, appId: string | undefined): WebAppMode {
    return modeFor(this.#o.policy.current, appCode, appId);
  }

  userIdOf(p: WebAppPerson): string | undefined {
    return personUserId(p, this.#o.userIdSource, this.#o.userIdKey);
  }

  /** Records that `endUserId` belongs to the person. */
  async recordOwner(endUserId: string, p: WebAppPerson): Promise<void> {
    await this.#o.kv.set(`webapp:eu:${endUserId}`, personKey(p.iss, p.sub), OWNER_TTL_SECONDS);
  }

  /** Person key owning `endUserId`, or null. */
  ownerOf(endUserId: string): Promise<string | null> {
    return this.#o.kv.get(`webapp:eu:${endUserId}`);
  }

  /**
   * A published web-app page (`/<kind>/<code>…`): public apps pass; otherwise a person with a
   * live session who may use the app passes.
   */
  async page(appCode: string | undefined, person: PersonLookup): Promise<WebAppVerdict> {
    const code = appCode !== undefined && APP_CODE_RE.test(appCode) ? appCode : undefined;
    const mode = this.modeOf(code, undefined);
    if (mode === 'public') return { allow: true, via: 'public', appCode: code };
    const p = await person();
    const denial = accessDenial(mode, p?.claims);
    if (denial === 'webapp_login_required')
      return { allow: false, status: 401, code: 'unauthorized', detail: 'web-app page without session', appCode: code };
    if (denial) return { allow: false, status: 403, code: 'webapp_access_denied', detail: denial, appCode: code };
    return { allow: true, via: 'session', appCode: code };
  }

  /** A web-app API call (`/api/**` other than `/api/passport`). */
  async api(
    method: string,
    path: string,
    headers: Readonly<Record<string, string | readonly string[] | undefined>>,
    person: PersonLookup,
  ): Promise<WebAppVerdict> {
    // Only the sidecar's broker issues passports while web-app SSO is on (nginx routes `= /api/passport` to it).
    if (path === '/api/passport')
      return {
        allow: false,
        status: 403,
        code: 'invalid_request',
        detail: 'passports are issued by the sidecar (route /api/passport to it)',
      };
    if ((method === 'GET' || method === 'HEAD' || method === 'OPTIONS') && PRE_PASSPORT.has(path))
      return { allow: true, via: 'public' };
    if (method === 'OPTIONS') return { allow: true, via: 'public' };
    const read = readPassport(headers);
    if (!read.ok) {
      if (read.reason === 'missing') {
        // No passport: only a signed-in person's request may reach dify-api (which answers 401 itself).
        const p = await person();
        return p
          ? { allow: true, via: 'session' }
          : { allow: false, status: 401, code: 'unauthorized', detail: 'web-app API without passport or session' };
      }
      return {
        allow: false,
        status: read.reason === 'ambiguous' ? 400 : 401,
        code: 'invalid_passport',
        detail: `passport ${read.reason}`,
      };
    }
    return this.#owned(read.claims, person);
  }

  async #owned(c: PassportClaims, person: PersonLookup): Promise<WebAppVerdict> {
    const mode = this.modeOf(c.appCode, c.appId);
    if (mode === 'public') return { allow: true, via: 'public', appCode: c.appCode };
    const p = await person();
    const denial = accessDenial(mode, p?.claims);
    if (denial === 'webapp_login_required' || !p)
      return {
        allow: false,
        status: 401,
        code: 'unauthorized',
        detail: 'web-app API without session',
        appCode: c.appCode,
      };
    if (denial) return { allow: false, status: 403, code: 'webapp_access_denied', detail: denial, appCode: c.appCode };
    const owner = await this.ownerOf(c.endUserId);
    if (owner === null)
      return {
        allow: false,
        status: 401,
        code: 'passport_unknown',
        detail: 'passport not issued through the kit',
        appCode: c.appCode,
      };
    if (owner !== personKey(p.iss, p.sub))
      return {
        allow: false,
        status: 403,
        code: 'passport_not_owned',
        detail: "another person's passport",
        appCode: c.appCode,
      };
    return { allow: true, via: 'session', appCode: c.appCode };
  }
}

export type { WebAppDenial };
