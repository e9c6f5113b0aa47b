/**
 * Workspace member management on the caller's current workspace.
 *
 * follows api/controllers/console/workspace/members.py and api/services/account_service.py
 * (`RegisterService.invite_new_member`, `TenantService.check_member_permission`,
 * `remove_member_from_tenant`, `update_member_role`), 1.12.1–main:
 * - members list: `{result, accounts:[{id, name, avatar, avatar_url, email, last_login_at,
 *   last_active_at, created_at, role, status}]}` (timestamps in epoch seconds);
 * - invite-email: roles other than owner; an unknown e-mail becomes a PENDING account joined with
 *   the role (the register flag is bypassed); an existing non-pending account is joined if
 *   needed and answered with a `/signin` URL; 201 `{result, invitation_results, tenant_id}`;
 * - update-role: any valid role (Dify transfers ownership when asked for `owner`; the kit never
 *   asks); permission "update" is owner-only; errors surface as 400 `invalid_param`;
 * - delete: permission "remove" is owner-only; 400 `cannot-operate-self`, 403 `forbidden`,
 *   404 `member-not-found`; 200 `{result, tenant_id}`.
 * `<uuid:member_id>` routes answer 404 for ids that are not UUIDs.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { StandinContext } from '../lib/context.js';
import { consoleUser, type ConsoleUser } from '../lib/auth.js';
import { httpError, invalidParam } from '../lib/errors.js';
import { NON_OWNER_ROLES, WORKSPACE_ROLES, type WorkspaceRole } from '../lib/db.js';
import { generateInviteToken } from '../lib/token-manager.js';
import { jsonBody } from './auth.js';

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const ts = (d: Date | null): number | null => (d ? Math.floor(d.getTime() / 1000) : null);

type Action = 'add' | 'remove' | 'update';
const PERMS: Record<Action, readonly WorkspaceRole[]> = { add: ['owner', 'admin'], remove: ['owner'], update: ['owner'] };

class MemberError extends Error {
  constructor(
    readonly kind: 'self' | 'permission' | 'not_member',
    message: string,
  ) {
    super(message);
  }
}

function checkPermission(user: ConsoleUser, targetId: string | null, action: Action): void {
  if (targetId !== null && user.account.id === targetId) throw new MemberError('self', 'Cannot operate self.');
  if (!PERMS[action].includes(user.membership.role)) throw new MemberError('permission', `No permission to ${action} member.`);
}

export function memberRoutes(app: FastifyInstance, ctx: StandinContext): void {
  app.get('/console/api/workspaces/current/members', async (request) => {
    const user = await consoleUser(ctx, request);
    const accounts = ctx.db.membersOf(user.membership.workspaceId).flatMap((m) => {
      const a = ctx.db.accounts.get(m.accountId);
      if (!a) return [];
      return [
        {
          id: a.id,
          name: a.name,
          avatar: null,
          avatar_url: null,
          email: a.email,
          last_login_at: ts(a.lastLoginAt),
          last_active_at: ts(a.lastActiveAt),
          created_at: ts(a.createdAt),
          role: m.role,
          status: a.status,
        },
      ];
    });
    return { result: 'success', accounts };
  });

  app.post('/console/api/workspaces/current/members/invite-email', async (request, reply) => {
    const user = await consoleUser(ctx, request);
    const body = jsonBody(request);
    const emails = body['emails'];
    const role = body['role'];
    const language = typeof body['language'] === 'string' ? body['language'] : undefined;
    if (!Array.isArray(emails) || emails.some((e) => typeof e !== 'string')) throw invalidParam('emails is required');
    if (typeof role !== 'string' || !(NON_OWNER_ROLES as readonly string[]).includes(role)) {
      return reply.code(400).send({ code: 'invalid-role', message: 'Invalid role' });
    }
    const workspaceId = user.membership.workspaceId;
    const consoleWebUrl = ctx.options.consoleWebUrl;
    const results: Record<string, unknown>[] = [];
    for (const raw of emails as string[]) {
      const normalized = raw.toLowerCase();
      try {
        let account = ctx.db.findAccountByEmail(raw);
        if (!account) {
          checkPermission(user, null, 'add');
          account = ctx.db.createAccount({
            name: raw.split('@')[0] ?? raw,
            email: raw,
            status: 'pending',
            ...(language ? { interfaceLanguage: language } : {}),
          });
          ctx.db.addMember(workspaceId, account.id, role as WorkspaceRole, user.account.id);
          ctx.db.switchCurrent(account.id, workspaceId);
        } else {
          checkPermission(user, account.id, 'add');
          if (!ctx.db.membership(workspaceId, account.id)) ctx.db.addMember(workspaceId, account.id, role as WorkspaceRole, user.account.id);
          if (account.status !== 'pending') {
            results.push({ status: 'success', email: normalized, url: `${consoleWebUrl}/signin` });
            continue;
          }
        }
        const token = await generateInviteToken(ctx, workspaceId, account.id, account.email);
        const url = `${consoleWebUrl}/activate?email=${encodeURIComponent(normalized)}&token=${token}`;
        ctx.outbox.push({ kind: 'invite_member', to: account.email, url, at: new Date(ctx.now()).toISOString() });
        results.push({ status: 'success', email: normalized, url });
      } catch (err) {
        results.push({ status: 'failed', email: normalized, message: err instanceof Error ? err.message : String(err) });
      }
    }
    return reply.code(201).send({ result: 'success', invitation_results: results, tenant_id: workspaceId });
  });

  const memberTarget = (reply: FastifyReply, id: string) => {
    if (!UUID_RE.test(id)) throw httpError(404);
    return ctx.db.accounts.get(id);
  };

  app.put<{ Params: { id: string } }>('/console/api/workspaces/current/members/:id/update-role', async (request, reply) => {
    if (!UUID_RE.test(request.params.id)) throw httpError(404);
    const user = await consoleUser(ctx, request);
    const role = jsonBody(request)['role'];
    if (typeof role !== 'string' || !(WORKSPACE_ROLES as readonly string[]).includes(role)) {
      return reply.code(400).send({ code: 'invalid-role', message: 'Invalid role' });
    }
    const member = memberTarget(reply, request.params.id);
    if (!member) throw httpError(404);
    try {
      checkPermission(user, member.id, 'update');
      const join = ctx.db.membership(user.membership.workspaceId, member.id);
      if (!join) throw new MemberError('not_member', 'Member not in tenant.');
      if (join.role === role) throw new Error('The provided role is already assigned to the member.');
      if (role === 'owner') {
        for (const m of ctx.db.membersOf(user.membership.workspaceId)) if (m.role === 'owner') m.role = 'admin';
      }
      join.role = role as WorkspaceRole;
    } catch (err) {
      throw invalidParam(err instanceof Error ? err.message : String(err));
    }
    return { result: 'success' };
  });

  app.delete<{ Params: { id: string } }>('/console/api/workspaces/current/members/:id', async (request, reply) => {
    if (!UUID_RE.test(request.params.id)) throw httpError(404);
    const user = await consoleUser(ctx, request);
    const member = memberTarget(reply, request.params.id);
    if (!member) throw httpError(404);
    try {
      checkPermission(user, member.id, 'remove');
      if (!ctx.db.membership(user.membership.workspaceId, member.id)) throw new MemberError('not_member', 'Member not in tenant.');
      ctx.db.removeMember(user.membership.workspaceId, member.id);
    } catch (err) {
      if (err instanceof MemberError) {
        if (err.kind === 'self') return reply.code(400).send({ code: 'cannot-operate-self', message: err.message });
        if (err.kind === 'permission') return reply.code(403).send({ code: 'forbidden', message: err.message });
        return reply.code(404).send({ code: 'member-not-found', message: err.message });
      }
      throw invalidParam(err instanceof Error ? err.message : String(err));
    }
    return { result: 'success', tenant_id: user.membership.workspaceId };
  });
}
