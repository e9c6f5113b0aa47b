/**
 * One-time tokens kept in Redis.
 *
 * follows api/libs/helper.py `TokenManager` (1.12.1–main): key `<token_type>:token:<uuid>` → JSON
 * `{account_id, email, token_type, …additional}`, with per-type lifetimes; and
 * api/services/account_service.py `RegisterService.generate_invite_token`: key
 * `member_invite:token:<uuid>` → JSON `{account_id, email, workspace_id}` for
 * `INVITE_EXPIRY_HOURS`.
 */
import { randomUUID } from 'node:crypto';
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

export async function getTokenData(ctx: StandinContext, type: OneTimeTokenType, token: string): Promise<Record<string, unknown> | null> {
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
}

export async function generateInviteToken(ctx: StandinContext, workspaceId: string, accountId: string, email: string): Promise<string> {
  const token = randomUUID();
  const data: InvitationData = { account_id: accountId, email, workspace_id: workspaceId };
  await ctx.redis.setex(ctx.keys.key(`member_invite:token:${token}`), Math.trunc(ctx.options.inviteExpiryHours * 3600), JSON.stringify(data));
  return token;
}

/**
 * `RegisterService.get_invitation_if_token_valid` (+ case fallback on the e-mail): the token's data,
 * the workspace (status normal) and the account must still match and the account must still be a
 * member.
 */
export async function getInvitation(
  ctx: StandinContext,
  workspaceId: string | undefined,
  email: string | undefined,
  token: string,
): Promise<{ data: InvitationData; workspaceId: string; workspaceName: string; accountId: string } | null> {
  const raw = await ctx.redis.get(ctx.keys.key(`member_invite:token:${token}`));
  if (!raw) return null;
  let data: InvitationData;
  try {
    data = JSON.parse(raw) as InvitationData;
  } catch {
    return null;
  }
  if (workspaceId && workspaceId !== data.workspace_id) return null;
  if (email && email.toLowerCase() !== data.email.toLowerCase()) return null;
  const ws = ctx.db.workspaces.get(data.workspace_id);
  if (!ws || ws.status !== 'normal') return null;
  const account = ctx.db.accounts.get(data.account_id);
  if (!account) return null;
  if (!ctx.db.membership(ws.id, account.id)) return null;
  return { data, workspaceId: ws.id, workspaceName: ws.name, accountId: account.id };
}

export async function revokeInvitation(ctx: StandinContext, token: string): Promise<void> {
  await ctx.redis.del(ctx.keys.key(`member_invite:token:${token}`));
}
