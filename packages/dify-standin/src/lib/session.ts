/**
 * Minting a console login (`AccountService.login`, `AccountService.refresh_token`,
 * `AccountService.logout`; api/services/account_service.py, 1.12.1–main).
 */
import type { FastifyRequest } from 'fastify';
import type { Account } from './db.js';
import type { StandinContext } from './context.js';
import { sessionCookies, type CookieOrder, type TokenTriple } from './cookies.js';
import { CONSOLE_PASSPORT_SUBJECT, generateRefreshToken } from './tokens.js';
import { loadUser } from './auth.js';
import { DifyHttpError } from './errors.js';

/** `get_account_jwt_token`: `{user_id, exp, iss: EDITION, sub: "Console API Passport"}`. */
export async function accessTokenFor(ctx: StandinContext, accountId: string): Promise<string> {
  return ctx.passport.issue({
    user_id: accountId,
    exp: ctx.passport.nowSeconds() + Math.trunc(ctx.options.accessTokenExpireMinutes * 60),
    iss: ctx.options.edition,
    sub: CONSOLE_PASSPORT_SUBJECT,
  });
}

/** `generate_csrf_token`: `{exp, sub: account id}`. */
export async function csrfTokenFor(ctx: StandinContext, accountId: string): Promise<string> {
  return ctx.passport.issue({
    exp: ctx.passport.nowSeconds() + Math.trunc(ctx.options.accessTokenExpireMinutes * 60),
    sub: accountId,
  });
}

export function cookiesFor(ctx: StandinContext, tokens: TokenTriple, order: CookieOrder): string[] {
  return sessionCookies(tokens, ctx.cookieRule, ctx.options, ctx.now(), order);
}

export function remoteIp(request: FastifyRequest): string {
  // follows api/libs/helper.py extract_remote_ip: CF-Connecting-IP, X-Forwarded-For (first), remote addr
  const cf = request.headers['cf-connecting-ip'];
  if (typeof cf === 'string' && cf) return cf;
  const xff = request.headers['x-forwarded-for'];
  if (typeof xff === 'string' && xff) return xff.split(',')[0]?.trim() ?? request.ip;
  return request.ip;
}

/** `AccountService.login`: last-login update, pending → active, new token triple stored. */
export async function login(ctx: StandinContext, account: Account, ip: string): Promise<TokenTriple> {
  account.lastLoginAt = new Date(ctx.now());
  account.lastLoginIp = ip;
  if (account.status === 'pending') {
    account.status = 'active';
    account.initializedAt = new Date(ctx.now());
  }
  const accessToken = await accessTokenFor(ctx, account.id);
  const refreshToken = generateRefreshToken();
  await ctx.refresh.store(refreshToken, account.id);
  const csrfToken = await csrfTokenFor(ctx, account.id);
  return { accessToken, refreshToken, csrfToken };
}

/**
 * `AccountService.refresh_token`: unknown token → "Invalid refresh token"; account that no longer
 * loads → "Invalid account"; then both keys rotate. A banned account makes the loader raise
 * Unauthorized, which RefreshTokenApi reports as `str(e)` ("401 Unauthorized: Account is banned.")
 * before 1.16.0 and as the bare description from 1.16.0 (fc01d112a0). Redis keys are kept on
 * failure. Throws Error(message) — RefreshTokenApi answers 401 `{"result":"fail","message":…}`.
 */
export async function rotate(ctx: StandinContext, refreshToken: string): Promise<TokenTriple> {
  const accountId = await ctx.refresh.accountOf(refreshToken);
  if (!accountId) throw new Error('Invalid refresh token');
  let loaded;
  try {
    loaded = loadUser(ctx, accountId);
  } catch (err) {
    if (err instanceof DifyHttpError)
      throw new Error(ctx.features.refreshErrorsUnmasked ? err.message : `401 Unauthorized: ${err.message}`);
    throw err;
  }
  if (!loaded) throw new Error('Invalid account');
  const accessToken = await accessTokenFor(ctx, accountId);
  const newRefresh = generateRefreshToken();
  await ctx.refresh.delete(refreshToken, accountId);
  await ctx.refresh.store(newRefresh, accountId);
  const csrfToken = await csrfTokenFor(ctx, accountId);
  return { accessToken, refreshToken: newRefresh, csrfToken };
}

/** `AccountService.logout`: delete the token referenced by `account_refresh_token:<id>` only. */
export async function logout(ctx: StandinContext, accountId: string): Promise<void> {
  const latest = await ctx.refresh.latestOf(accountId);
  if (latest) await ctx.refresh.delete(latest, accountId);
}

/**
 * `FieldEncryption.decrypt_field` (api/libs/encryption.py, ≥1.11.2): base64 → UTF-8, null on failure.
 */
export function decodeBase64Field(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const filtered = value.replace(/[^A-Za-z0-9+/=]/g, '');
  if (filtered.length % 4 !== 0) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(filtered, 'base64'));
  } catch {
    return null;
  }
}
