/**
 * One-time tokens kept in Redis.
 *
 * follows api/libs/helper.py `TokenManager` (1.12.1–main): key `<token_type>:token:<uuid>` → JSON
 * `{account_id, email, token_type, …additional}`, with per-type lifetimes; and
 * api/services/account_service.py `RegisterService.generate_invite_token` and the invitation
 * look-ups (below).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { StandinContext } from './context.js';

export type OneTimeTokenType = 'email_code_login' | 'reset_password' | 'email_register';

/** `*_TOKEN_EXPIRY_MINUTES` defaults (api/configs/feature/__init__.py). */
const LIFETIME_MINUTES: Record<OneTimeTokenType, number> = {
  email_code_login: 5,
  reset_password: 5,
  email_register: 5,
};

export async function generateToken(
  ctx: StandinContext,
  type: OneTimeTokenType,
  accountId: string | null,
  email: string,
  additional: Record<string, unknown>,
): Promise<string> {
  const token = randomUUID();
  const data = { account_id: accountId, email, token_type: type, ...additional };
  await ctx.redis.setex(ctx.keys.key(`${type}:token:${token}`), LIFETIME_MINUTES[type] * 60, JSON.stringify(data));
  return token;
}

export async function getTokenData(
  ctx: StandinContext,
  type: OneTimeTokenType,
  token: string,
): Promise<Record<string, unknown> | null> {
  const raw = await ctx.redis.get(ctx.keys.key(`${type}:token:${token}`));
  if (!raw) return null;
  try {
    return JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return null;
  }
}

export async function revokeToken(ctx: StandinContext, type: OneTimeTokenType, token: string): Promise<void> {
  await ctx.redis.del(ctx.keys.key(`${type}:token:${token}`));
}

export interface InvitationData {
  account_id: string;
  email: string;
  workspace_id: string;
  /** ≥1.15.0: the invited role and whether activation must set name, language and timezone. */
  role?: string;
  requires_setup?: boolean;
}

/**
 * `RegisterService.generate_invite_token`: `member_invite:token:<uuid4>` → JSON, `INVITE_EXPIRY_HOURS`.
 * ≥1.15.0 the JSON also carries `role` and `requires_setup`.
 */
export async function generateInviteToken(
  ctx: StandinContext,
  workspaceId: string,
  accountId: string,
  email: string,
  extra?: { role: string; requiresSetup: boolean },
): Promise<string> {
  const token = randomUUID();
  const data: InvitationData = { account_id: accountId, email, workspace_id: workspaceId };
  if (ctx.features.inviteFlowV2 && extra) {
    data.role = extra.role;
    data.requires_setup = extra.requiresSetup;
  }
  await ctx.redis.setex(
    ctx.keys.key(`member_invite:token:${token}`),
    Math.trunc(ctx.options.inviteExpiryHours * 3600),
    JSON.stringify(data),
  );
  return token;
}

/** The key Dify still reads when BOTH workspace_id and email are given (no longer written by invite-email). */
function legacyInviteKey(workspaceId: string, email: string, token: string): string {
  return `member_invite_token:${workspaceId}, ${createHash('sha256').update(email).digest('hex')}:${token}`;
}

export interface Invitation {
  data: InvitationData;
  workspaceId: string;
  workspaceName: string;
  accountId: string;
}

/**
 * `RegisterService.get_invitation_with_case_fallback` → `get_invitation_if_token_valid` →
 * `get_invitation_by_token` (api/services/account_service.py, 1.12.1–1.16.1):
 * - `workspace_id` AND `email` given (even empty strings): the legacy key
 *   `member_invite_token:<ws>, <sha256(email)>:<token>` → account id, which invite-email no longer
 *   writes — so such a lookup finds nothing (retried once with the lower-cased e-mail);
 * - otherwise `member_invite:token:<token>`; the e-mail parameter is then NOT compared;
 * - the workspace must exist with status normal, an account with exactly the token's e-mail must
 *   exist and have the token's account id; before 1.15.0 that account must also still be a member
 *   of the workspace (≥1.15.0 an invited non-member joins on activation).
 */
export async function getInvitation(
  ctx: StandinContext,
  workspaceId: string | undefined,
  email: string | undefined,
  token: string,
): Promise<Invitation | null> {
  const found = await invitationIfValid(ctx, workspaceId, email, token);
  if (found || email === undefined || email === email.toLowerCase()) return found;
  return invitationIfValid(ctx, workspaceId, email.toLowerCase(), token);
}

async function invitationIfValid(
  ctx: StandinContext,
  workspaceId: string | undefined,
  email: string | undefined,
  token: string,
): Promise<Invitation | null> {
  let data: InvitationData;
  if (workspaceId !== undefined && email !== undefined) {
    const accountId = await ctx.redis.get(ctx.keys.key(legacyInviteKey(workspaceId, email, token)));
    if (!accountId) return null;
    data = { account_id: accountId, email, workspace_id: workspaceId };
  } else {
    const raw = await ctx.redis.get(ctx.keys.key(`member_invite:token:${token}`));
    if (!raw) return null;
    try {
      data = JSON.parse(raw) as InvitationData;
    } catch {
      return null;
    }
  }
  const ws = ctx.db.workspaces.get(data.workspace_id);
  if (ws?.status !== 'normal') return null;
  const account = [...ctx.db.accounts.values()].find((a) => a.email === data.email);
  if (!account || account.id !== data.account_id) return null;
  if (!ctx.features.inviteFlowV2 && !ctx.db.membership(ws.id, account.id)) return null;
  return { data, workspaceId: ws.id, workspaceName: ws.name, accountId: account.id };
}

/**
 * `RegisterService.revoke_token`: with workspace_id AND email (truthy) only the legacy key is
 * deleted; otherwise `member_invite:token:<token>`.
 */
export async function revokeInvitation(
  ctx: StandinContext,
  workspaceId: string | undefined,
  email: string | undefined,
  token: string,
): Promise<void> {
  if (workspaceId && email) await ctx.redis.del(ctx.keys.key(legacyInviteKey(workspaceId, email, token)));
  else await ctx.redis.del(ctx.keys.key(`member_invite:token:${token}`));
}
