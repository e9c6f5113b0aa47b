/**
 * The break-glass cookie: set by `/sso/break-glass` after a token was redeemed, bound to the
 * client IP, valid `breakGlass.windowSeconds`, signed with a key derived from the session secret.
 *
 * @module
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { kitCookieName } from '@dify-sso-kit/vocabulary';
import type { CidrList } from '../gate/cidr.js';
import { readCookie } from '../dify/contract/cookies.js';

/** Signs and checks the break-glass cookie (HMAC-SHA256, key derived from the session secret). */
export class BreakGlassCookie {
  readonly name: string;
  readonly #key: Buffer;
  readonly #secure: boolean;

  constructor(options: { sessionSecret: string; secure: boolean }) {
    this.#secure = options.secure;
    this.name = kitCookieName('breakGlass', options.secure);
    this.#key = Buffer.from(hkdfSync('sha256', options.sessionSecret, 'dify-sso-kit', 'break-glass cookie v1', 32));
  }

  /** Set-Cookie value for a client IP, valid `windowSeconds`. */
  issue(clientIp: string, windowSeconds: number, now = Date.now()): string {
    const payload = Buffer.from(JSON.stringify({ exp: now + windowSeconds * 1000, ip: clientIp })).toString(
      'base64url',
    );
    const value = `${payload}.${this.#mac(payload)}`;
    return [
      `${this.name}=${value}`,
      `Max-Age=${windowSeconds}`,
      'Path=/',
      'HttpOnly',
      'SameSite=Strict',
      ...(this.#secure ? ['Secure'] : []),
    ].join('; ');
  }

  /** Clearing Set-Cookie value. */
  clear(): string {
    return [
      `${this.name}=`,
      'Max-Age=0',
      'Path=/',
      'HttpOnly',
      'SameSite=Strict',
      ...(this.#secure ? ['Secure'] : []),
    ].join('; ');
  }

  /** Whether `value` is a valid, unexpired cookie for `clientIp`. */
  verify(value: string | undefined, clientIp: string | undefined, now = Date.now()): boolean {
    if (!value || !clientIp) return false;
    const i = value.indexOf('.');
    if (i <= 0) return false;
    const payload = value.slice(0, i);
    const mac = Buffer.from(value.slice(i + 1));
    const want = Buffer.from(this.#mac(payload));
    if (mac.length !== want.length || !timingSafeEqual(mac, want)) return false;
    try {
      const p = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown; ip?: unknown };
      return typeof p.exp === 'number' && p.exp > now && p.ip === clientIp;
    } catch {
      return false;
    }
  }

  #mac(payload: string): string {
    return createHmac('sha256', this.#key).update(payload).digest('base64url');
  }
}

/**
 * Whether a request carries a valid break-glass cookie for a client IP inside `cidrs`.
 *
 * @example
 * breakGlassActive({ cidrs, cookie }, request.headers.cookie, '10.0.0.7') // false without a redeemed token
 */
export function breakGlassActive(
  bg: { readonly cidrs: CidrList; readonly cookie: BreakGlassCookie },
  cookieHeader: string | readonly string[] | undefined,
  clientIp: string | undefined,
): boolean {
  return (
    bg.cidrs.entries.length > 0 &&
    bg.cidrs.contains(clientIp) &&
    bg.cookie.verify(readCookie(cookieHeader, bg.cookie.name), clientIp)
  );
}
