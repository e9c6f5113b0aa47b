/**
 * How dify-api authenticates a console request.
 *
 * - follows api/extensions/ext_login.py (1.12.1–1.16.1): token = access-token cookie (real name)
 *   first, then `Authorization: Bearer`; the admin-key branch (`ADMIN_API_KEY_ENABLE`, token equal
 *   to `ADMIN_API_KEY`, `X-WORKSPACE-ID` names a workspace) runs as that workspace's owner;
 *   otherwise the token must verify (api/libs/passport.py), carry `user_id` and no `token_source`.
 * - follows api/services/account_service.py `load_user` (1.12.1–main): missing account →
 *   anonymous; `banned` → 401 "Account is banned."; no workspace join → anonymous.
 * - follows api/libs/login.py `login_required` (1.12.1–main): OPTIONS exempt, anonymous → 401
 *   `{"code":"unauthorized"}`, then `check_csrf_token`.
 * - follows api/libs/token.py `check_csrf_token` (1.12.1–main): header `X-CSRF-Token` equal to the
 *   CSRF cookie, valid signature and `exp`, `sub` equal to the account id; draft-workflow paths
 *   exempt; ≥1.11.0 admin-key requests skip the check.
 * - follows api/controllers/console/wraps.py `setup_required`, `account_initialization_required`.
 */
import type { FastifyRequest } from 'fastify';
import type { Account, Membership } from './db.js';
import type { StandinContext } from './context.js';
import {
  COOKIE_ACCESS_TOKEN,
  COOKIE_CSRF_TOKEN,
  HEADER_CSRF_TOKEN,
  parseCookieHeader,
  realCookieName,
} from './cookies.js';
import { DifyErrors, loginRequired, unauthorized } from './errors.js';
import { PassportError } from './tokens.js';

export interface ConsoleUser {
  account: Account;
  membership: Membership;
  viaAdminKey: boolean;
}

const CSRF_WHITE_LIST = [/^\/console\/api\/apps\/[a-f0-9-]+\/workflows\/draft/];

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `_try_extract_from_header`. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const auth = header(request, 'authorization');
  if (!auth?.includes(' ')) return undefined;
  const idx = auth.search(/\s/);
  const scheme = auth.slice(0, idx).toLowerCase();
  const token = auth.slice(idx).trim();
  return scheme === 'bearer' ? token : undefined;
}

export function requestCookie(ctx: StandinContext, request: FastifyRequest, logicalName: string): string | undefined {
  return parseCookieHeader(header(request, 'cookie')).get(realCookieName(logicalName, ctx.cookieRule));
}

/** `extract_access_token`: cookie first, then Bearer. */
export function extractAccessToken(ctx: StandinContext, request: FastifyRequest): string | undefined {
  return requestCookie(ctx, request, COOKIE_ACCESS_TOKEN) || bearerToken(request);
}

/** `load_user`: null = anonymous. Throws 401 for banned accounts. */
export function loadUser(ctx: StandinContext, accountId: string): { account: Account; membership: Membership } | null {
  const account = ctx.db.accounts.get(accountId);
  if (!account) return null;
  if (account.status === 'banned') throw unauthorized('Account is banned.');
  const membership = ctx.db.currentMembership(account.id);
  if (!membership) return null;
  const now = ctx.now();
  if (now - account.lastActiveAt.getTime() > 10 * 60 * 1000) account.lastActiveAt = new Date(now);
  return { account, membership };
}

/**
 * The request loader. Returns null for anonymous, throws DifyHttpError(401) where dify-api's
 * loader raises Unauthorized.
 */
export async function loadRequestUser(ctx: StandinContext, request: FastifyRequest): Promise<ConsoleUser | null> {
  const token = extractAccessToken(ctx, request);
  if (!token) throw unauthorized('Invalid Authorization token.');
  const { adminApiKeyEnable, adminApiKey } = ctx.options;
  if (adminApiKeyEnable && adminApiKey && token === adminApiKey) {
    const workspaceId = header(request, 'x-workspace-id');
    if (workspaceId && ctx.db.workspaces.has(workspaceId)) {
      const owner = ctx.db.ownerOf(workspaceId);
      const membership = owner ? ctx.db.membership(workspaceId, owner.id) : undefined;
      if (owner && membership) return { account: owner, membership, viaAdminKey: true };
    }
  }
  let claims;
  try {
    claims = await ctx.passport.verify(token);
  } catch (err) {
    if (err instanceof PassportError) throw unauthorized(err.message);
    throw err;
  }
  if (claims['token_source'] !== undefined && claims['token_source'] !== null && claims['token_source'] !== '') {
    throw unauthorized('Invalid Authorization token.');
  }
  const userId = claims['user_id'];
  if (typeof userId !== 'string' || userId === '') throw unauthorized('Invalid Authorization token.');
  const loaded = loadUser(ctx, userId);
  return loaded ? { ...loaded, viaAdminKey: false } : null;
}

/** `check_csrf_token`. */
export async function checkCsrf(ctx: StandinContext, request: FastifyRequest, user: ConsoleUser): Promise<void> {
  const path = request.url.split('?')[0] ?? '';
  if (CSRF_WHITE_LIST.some((re) => re.test(path))) return;
  if (user.viaAdminKey && ctx.features.adminKeySkipsCsrf) return;
  const fail = () => unauthorized('CSRF token is missing or invalid.');
  const fromHeader = header(request, HEADER_CSRF_TOKEN);
  const fromCookie = requestCookie(ctx, request, COOKIE_CSRF_TOKEN);
  if (fromHeader !== fromCookie) throw fail();
  if (!fromHeader) throw fail();
  let claims;
  try {
    claims = await ctx.passport.verify(fromHeader);
  } catch {
    throw fail();
  }
  if (claims.sub !== user.account.id) throw fail();
  if (typeof claims.exp !== 'number' || claims.exp < ctx.passport.nowSeconds()) throw fail();
}

/** `setup_required`. */
export function setupRequired(ctx: StandinContext): void {
  if (!ctx.db.setupAt) throw DifyErrors.notSetup();
}

/** `setup_required` + `login_required` + `account_initialization_required`. */
export async function consoleUser(ctx: StandinContext, request: FastifyRequest): Promise<ConsoleUser> {
  setupRequired(ctx);
  const user = await loadRequestUser(ctx, request);
  if (!user) throw loginRequired();
  if (request.method !== 'OPTIONS') await checkCsrf(ctx, request, user);
  if (user.account.status === 'uninitialized') throw DifyErrors.accountNotInitialized();
  return user;
}

/** The current user if the request carries a valid login, else null (never throws). */
export async function optionalUser(ctx: StandinContext, request: FastifyRequest): Promise<ConsoleUser | null> {
  try {
    return await loadRequestUser(ctx, request);
  } catch {
    return null;
  }
}

/** `is_admin_or_owner_required`. */
export function isAdminOrOwner(user: ConsoleUser): boolean {
  return user.membership.role === 'owner' || user.membership.role === 'admin';
}
