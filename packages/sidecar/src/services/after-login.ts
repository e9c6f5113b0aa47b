/**
 * The after-login hook contract: what the callback route hands to each hook and what a hook may
 * return (the Dify bridge is one such hook). Registered through `app.sso.addAfterLoginHook`.
 *
 * @module
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SessionRecord } from '../store/types.js';

/** Context passed to after-login hooks. */
export interface AfterLoginContext {
  request: FastifyRequest;
  reply: FastifyReply;
  /** The freshly created session (re-read from the store before each hook). */
  session: SessionRecord;
  /** Merged, validated ID token + UserInfo claims. */
  claims: Record<string, unknown>;
  /** Canonical post-login target so far. */
  redirectTo: string;
  /** Dify invite token carried through the login, if any. */
  inviteToken?: string;
}

/** What an after-login hook may return. */
export interface AfterLoginResult {
  /** New post-login target (canonicalised again: same-origin relative only). */
  redirectTo?: string;
  /** Raw `Set-Cookie` header values relayed on the final redirect. */
  setCookie?: string[];
}

/**
 * Runs after a successful login, before the redirect. Throw an {@link SsoError} to deny:
 * the new session is deleted (end hooks run with cause `logout`) and the browser goes to
 * `<signinPath>?message=<err.reason>`.
 */
export type AfterLoginHook = (
  ctx: AfterLoginContext,
) => undefined | AfterLoginResult | Promise<undefined | AfterLoginResult>;
