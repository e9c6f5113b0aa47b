/**
 * Identity → Dify account, through Dify's public member API only (never its database).
 *
 * - A person is `(iss, sub)`; the link to a Dify account id lives in the kit store
 *   (`dify:link:<sha256(iss, sub)>`).
 * - The first login links to an existing member by e-mail only when `email_verified` is true
 *   (OpenID Connect Core §5.7: `email` is not a stable identifier), and only when the address is *linkable* (see
 *   {@link linkableEmail}): printable ASCII exactly as the IdP sent it (so already in NFKC, the
 *   domain in IDNA A-label form), compared case-insensitively in ASCII only. Any other address
 *   is never compared with the members' (a verified non-ASCII address is refused with
 *   `email_not_linkable`, audited as `account.link_refused`), because Unicode case folding and
 *   compatibility mapping turn distinct addresses into one (`\u212Aevin@corp.com` →
 *   `kevin@corp.com`).
 * - Unknown people are provisioned just in time (invite-email with the mapped role, then
 *   activate) when `jit` is on and the role map gives them a role; otherwise the login is denied.
 * - The role map is applied on every login (update-role); no mapping → denied (`no_role`);
 *   `owner` is never granted, changed or removed, and an owner logs in unchanged.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { DifyError, SsoError, type ReasonCode } from '../errors.js';
import type { KvStore } from '../store/types.js';
import type { AssignableRole, DifyAdminClient, DifyMember } from './admin-client.js';
import { mapRole, type RoleMap } from './role-map.js';

export interface AccountResolverOptions {
  readonly admin: Pick<DifyAdminClient, 'listMembers' | 'inviteEmail' | 'activate' | 'updateRole' | 'removeMember'> &
    Partial<Pick<DifyAdminClient, 'version'>>;
  readonly kv: KvStore;
  readonly roleMap: RoleMap;
  readonly jit: boolean;
  readonly removeUnmapped: boolean;
  readonly audit: (event: string, fields: Record<string, unknown>) => void;
  /** Deletes a Dify refresh token that activation issued as a side effect (Dify < 1.11.2). */
  readonly discardRefreshToken?: (accountId: string, refreshToken: string) => Promise<void>;
}

export interface LoginIdentity {
  readonly iss: string;
  readonly sub: string;
  /** Every claim (ID token + UserInfo), for the role map. */
  readonly claims: Record<string, unknown>;
  readonly email?: string | undefined;
  readonly emailVerified?: boolean | undefined;
  readonly name?: string | undefined;
}

export interface ResolvedAccount {
  readonly accountId: string;
  readonly role: string;
  readonly provisioned: boolean;
  readonly linked: 'existing_link' | 'email' | 'provisioned';
}

/** Denies the login; the callback redirects to the sign-in page with `?message=<reason>`. */
export function denyLogin(reason: ReasonCode, message: string, cause?: unknown): SsoError {
  return new SsoError('ERR_OIDC_ACCESS_DENIED', message, { reason, ...(cause === undefined ? {} : { cause }) });
}

export function linkKey(iss: string, sub: string): string {
  return `dify:link:${createHash('sha256').update(iss).update('\n').update(sub).digest('hex')}`;
}

/** Why an e-mail address is not used for linking or provisioning. */
export type EmailRefusal = 'missing' | 'not_linkable';

/**
 * The comparison key of an e-mail address, or why there is none.
 *
 * Rule (documented in the README, "Security considerations"): the address as sent must be
 * printable ASCII (U+0021–U+007E; so its NFKC form is itself), with exactly one `@`, a local part
 * of 1–64 characters, and a domain of dot-separated LDH labels (letters, digits, `-`; 1–63
 * characters each, at least two labels, at most 253 characters): an internationalised domain
 * must be sent in its IDNA A-label form (`xn--…`). The key is the address with `A`–`Z` mapped
 * to `a`–`z` (nothing else is folded). Anything else — a non-ASCII local part, a Unicode
 * domain, a compatibility character such as U+212A KELVIN SIGN or a full-width letter,
 * whitespace — is `not_linkable`; an absent or non-string value is `missing`.
 *
 * @example
 * linkableEmail('Bob@Example.com')      // { ok: true, email: 'bob@example.com' }
 * linkableEmail('\u212Aevin@corp.com')  // { ok: false, reason: 'not_linkable' }
 */
export function linkableEmail(email: unknown): { ok: true; email: string } | { ok: false; reason: EmailRefusal } {
  if (typeof email !== 'string' || email === '') return { ok: false, reason: 'missing' };
  if (email.normalize('NFKC') !== email || !/^[\x21-\x7e]+$/.test(email)) return { ok: false, reason: 'not_linkable' };
  const at = email.indexOf('@');
  if (at <= 0 || at !== email.lastIndexOf('@')) return { ok: false, reason: 'not_linkable' };
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (local.length > 64 || domain.length > 253) return { ok: false, reason: 'not_linkable' };
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l)))
    return { ok: false, reason: 'not_linkable' };
  return { ok: true, email: email.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32)) };
}

/**
 * The comparison key of a linkable address (see {@link linkableEmail}), else undefined.
 *
 * @example
 * normaliseEmail('Bob@Example.com') // 'bob@example.com'
 */
export function normaliseEmail(email: string | undefined): string | undefined {
  const r = linkableEmail(email);
  return r.ok ? r.email : undefined;
}

/** The member whose e-mail has the same key; members with unlinkable addresses never match. */
function memberByEmail(members: readonly DifyMember[], key: string): DifyMember | undefined {
  return members.find((m) => normaliseEmail(m.email) === key);
}

/**
 * @example
 * const resolver = new AccountResolver({ admin, kv: store.kv, roleMap, jit: true, removeUnmapped: false, audit })
 * const { accountId } = await resolver.resolve({ iss, sub, claims, email, emailVerified })
 */
export class AccountResolver {
  readonly #o: AccountResolverOptions;

  constructor(options: AccountResolverOptions) {
    this.#o = options;
  }

  async resolve(id: LoginIdentity): Promise<ResolvedAccount> {
    const role = mapRole(id.claims, this.#o.roleMap);
    const checked = linkableEmail(id.email);
    const email = checked.ok ? checked.email : undefined;
    const verified = id.emailVerified === true;
    const key = linkKey(id.iss, id.sub);
    let members: DifyMember[];
    try {
      members = await this.#o.admin.listMembers();
    } catch (e) {
      throw wrapDify(e);
    }

    let member: DifyMember | undefined;
    let linked: ResolvedAccount['linked'] = 'existing_link';
    const link = await this.#o.kv.get(key);
    if (link !== null) {
      member = members.find((m) => m.id === link);
      if (!member) await this.#o.kv.del(key); // removed from the workspace since; treated as a first login
    }
    if (!member && verified && !checked.ok && checked.reason === 'not_linkable') {
      // A verified address outside the linking rule: never compared, never provisioned.
      this.#o.audit('account.link_refused', { iss: id.iss, sub: id.sub, reason: 'email_not_linkable' });
      throw denyLogin(
        'email_not_linkable',
        'the e-mail address is outside the linking rule (ASCII only, IDNA domains in A-label form)',
      );
    }
    if (!member && email && verified) {
      member = memberByEmail(members, email);
      if (member) {
        // Never take over a member already linked to another identity: check by account id.
        const owner = await this.#o.kv.get(`dify:account:${member.id}`);
        if (owner !== null && owner !== key)
          throw denyLogin('access_denied', 'the Dify account is linked to another identity');
        linked = 'email';
      }
    }

    if (member && member.role === 'owner') {
      await this.#link(key, member.id);
      return { accountId: member.id, role: 'owner', provisioned: false, linked };
    }
    if (member && member.status === 'banned') throw denyLogin('account_banned', 'the Dify account is banned');

    if (!member) {
      if (!role) throw denyLogin('no_role', 'no role mapping for this user');
      if (!this.#o.jit) throw denyLogin('not_provisioned', 'user has no Dify account and JIT provisioning is off');
      if (!email) throw denyLogin('access_denied', 'the IdP released no usable e-mail address');
      if (!verified) throw denyLogin('email_not_verified', 'JIT provisioning needs a verified e-mail address');
      if (memberByEmail(members, email)) {
        throw denyLogin('access_denied', 'a Dify member with this e-mail exists but could not be linked');
      }
      const accountId = await this.#provision(email, role, id.name ?? email.split('@')[0] ?? email);
      await this.#link(key, accountId);
      this.#o.audit('account.provisioned', { iss: id.iss, sub: id.sub, difyAccountId: accountId, role });
      return { accountId, role, provisioned: true, linked: 'provisioned' };
    }

    if (!role) {
      if (this.#o.removeUnmapped) {
        try {
          await this.#o.admin.removeMember(member.id);
        } catch (e) {
          throw wrapDify(e);
        }
        await this.#o.kv.del(key);
        await this.#o.kv.del(`dify:account:${member.id}`);
        this.#o.audit('account.removed', {
          iss: id.iss,
          sub: id.sub,
          difyAccountId: member.id,
          previousRole: member.role,
        });
      }
      throw denyLogin('no_role', 'no role mapping for this user');
    }
    if (member.role !== role) {
      try {
        await this.#o.admin.updateRole(member.id, role);
      } catch (e) {
        throw wrapDify(e);
      }
      this.#o.audit('account.role_changed', {
        iss: id.iss,
        sub: id.sub,
        difyAccountId: member.id,
        from: member.role,
        to: role,
      });
    }
    await this.#link(key, member.id);
    return { accountId: member.id, role, provisioned: false, linked };
  }

  async #link(key: string, accountId: string): Promise<void> {
    await this.#o.kv.set(key, accountId, 0);
    await this.#o.kv.set(`dify:account:${accountId}`, key, 0);
  }

  async #provision(email: string, role: AssignableRole, name: string): Promise<string> {
    try {
      const inv = await this.#o.admin.inviteEmail(email, role);
      // Version table (`inviteAnswersAlreadyMember`, Dify ≥ 1.15): `already_member` (no URL) when the
      // address joined in the meantime, e.g. a concurrent first login of the same person: nothing
      // to activate, the member is looked up below and its role is set like on any login. A version
      // the table says never answers so gets it refused like any other unexpected status.
      const traits = await this.#o.admin.version?.();
      const already = inv.status === 'already_member' && traits?.inviteAnswersAlreadyMember !== false;
      if (inv.status !== 'success' && !already)
        throw new DifyError('ERR_DIFY_ADMIN_API', 'invitation was not accepted by dify-api');
      const token = !already && inv.url ? new URL(inv.url, 'http://invalid').searchParams.get('token') : null;
      const activated = token ? await this.#o.admin.activate({ email, token, name }) : {};
      const member = memberByEmail(await this.#o.admin.listMembers(), email);
      if (!member) throw new DifyError('ERR_DIFY_ADMIN_API', 'invited member not found in the workspace');
      if (activated.refreshToken) await this.#o.discardRefreshToken?.(member.id, activated.refreshToken);
      if (member.status === 'banned') throw denyLogin('account_banned', 'the Dify account is banned');
      // Before 1.15 an invitation of an existing member answers `success` with a `/signin` URL and
      // leaves its role as it was: set the mapped role in both cases. `owner` is never changed.
      if (member.role !== role && member.role !== 'owner') await this.#o.admin.updateRole(member.id, role);
      return member.id;
    } catch (e) {
      throw wrapDify(e);
    }
  }
}

function wrapDify(e: unknown): SsoError {
  if (e instanceof SsoError && !(e instanceof DifyError)) return e;
  if (e instanceof DifyError && (e.code === 'ERR_DIFY_UNSUPPORTED_VERSION' || e.code === 'ERR_DIFY_VERSION_UNKNOWN')) {
    return denyLogin('dify_unsupported_version', e.message, e);
  }
  return denyLogin('dify_unavailable', 'Dify member API call failed', e);
}
