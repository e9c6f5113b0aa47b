/**
 * Break-glass for IdP outages: a one-time token, issued on the command line and stored hashed
 * in the kit store, reopens password login for one client (IP) for a bounded time.
 *
 * - `issueBreakGlassToken` (CLI `dify-sso break-glass issue --ttl 10m`) prints the token once;
 *   the store keeps only its SHA-256.
 * - `/sso/break-glass` (`route.ts`) redeems it once (atomic get-and-delete), only from
 *   `breakGlass.cidrs`, and sets a signed, httpOnly cookie (`cookie.ts`) bound to the client IP
 *   and valid `breakGlass.windowSeconds`.
 * - The gate honours that cookie for `POST /console/api/login` and, while it lasts, for console
 *   requests (the Dify session opened by password login has no kit session behind it).
 * - `dify-sso break-glass issue` (`cli.ts`) issues a token.
 *
 * @module
 */
import { hash, randomBytes } from 'node:crypto';
import type { KvStore } from '../store/types.js';

const KEY_PREFIX = 'dify:breakglass:';
/** Longest lifetime of an unredeemed token. */
export const MAX_TOKEN_TTL_SECONDS = 24 * 3600;

/** Parses `10m`, `900s`, `1h`, `900` (seconds) into seconds; undefined if invalid or out of range. */
export function parseTtl(text: string): number | undefined {
  const m = /^(\d{1,6})([smh]?)$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
  return n >= 60 && n <= MAX_TOKEN_TTL_SECONDS ? n : undefined;
}

function tokenKey(token: string): string {
  return KEY_PREFIX + hash('sha256', token, 'hex');
}

/**
 * Issues a one-time token valid `ttlSeconds` (60 s to 24 h).
 *
 * @example
 * const { token, expiresAt } = await issueBreakGlassToken(store.kv, 600)
 */
export async function issueBreakGlassToken(
  kv: KvStore,
  ttlSeconds: number,
  now = Date.now(),
): Promise<{ token: string; expiresAt: number }> {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > MAX_TOKEN_TTL_SECONDS) {
    throw Object.assign(new TypeError(`"ttl" must be between 60 s and ${MAX_TOKEN_TTL_SECONDS} s`), {
      code: 'ERR_INVALID_ARG_VALUE',
    });
  }
  const token = `bg_${randomBytes(32).toString('base64url')}`;
  const expiresAt = now + ttlSeconds * 1000;
  await kv.set(tokenKey(token), JSON.stringify({ expiresAt }), ttlSeconds);
  return { token, expiresAt };
}

export type RedeemResult = { ok: true } | { ok: false; reason: 'invalid' | 'expired' };

/** Consumes a token (single use, also when expired). */
export async function redeemBreakGlassToken(kv: KvStore, token: string, now = Date.now()): Promise<RedeemResult> {
  if (typeof token !== 'string' || !/^bg_[A-Za-z0-9_-]{43}$/.test(token)) return { ok: false, reason: 'invalid' };
  const raw = await kv.getDel(tokenKey(token));
  if (raw === null) return { ok: false, reason: 'invalid' };
  let expiresAt = 0;
  try {
    expiresAt = Number((JSON.parse(raw) as { expiresAt?: unknown }).expiresAt);
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  if (!(expiresAt > now)) return { ok: false, reason: 'expired' };
  return { ok: true };
}
