/**
 * Workspace member management on the caller's current workspace.
 *
 * follows api/controllers/console/workspace/members.py and api/services/account_service.py
 * (`RegisterService.invite_new_member`, `TenantService.check_member_permission`,
 * `remove_member_from_tenant`, `update_member_role`), 1.12.1–1.16.1; version switches in
 * src/version.ts:
 * - members list: `{accounts:[{avatar, id, name, email, last_login_at, last_active_at, created_at,
 *   role, (roles ≥1.15.0), status, avatar_url}]}` — no `result` key; timestamps in epoch seconds;
 * - invite-email (`{emails[], role, language?}`, 201 `{result, invitation_results, tenant_id}`):
 *   an unknown e-mail becomes a PENDING account joined with the role (the register flag is
 *   bypassed); an existing account: before 1.15.0 joined at once and answered with a `/signin` URL
 *   (pending accounts get a new token); from 1.15.0 a member answers `already_member`, a non-member
 *   gets a token and joins only on activation. Role errors: `owner` → `invalid-role` (unknown role:
 *   pydantic `invalid_param` before 1.15.0, `invalid-role` in 1.15.x); from 1.16.0 both
 *   `invalid_role` and `emails: []` is refused;
 * - update-role: before 1.14.2 owner-only and every service error is 400 `invalid_param`; from
 *   1.14.2 owner or admin (an admin never touches the owner role), dedicated codes without
 *   `status`; `owner` transfers ownership (old owner → admin) — the kit never asks for it;
 * - delete: owner-only before 1.14.2, then owner or admin (not on the owner); 400
 *   `cannot-operate-self`, 403 `forbidden`, 404 `member-not-found`; 200 `{result, tenant_id}`.
 * `<uuid:member_id>` routes do not match non-UUID ids (Werkzeug's 404 page); a UUID of no account
 * is a JSON 404 with Flask's "did you mean" hint.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { StandinContext } from '../lib/context.js';
import { consoleUser, type ConsoleUser } from '../lib/auth.js';
import { DifyErrors, invalidParam, notFoundInView, validationError, viewError } from '../lib/errors.js';
import { NON_OWNER_ROLES, WORKSPACE_ROLES, timezoneForLanguage, type WorkspaceRole } from '../lib/db.js';
import { generateInviteToken } from '../lib/token-manager.js';
import { jsonBody } from './auth.js';

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const ts = (d: Date | null): number | null => (d ? Math.floor(d.getTime() / 1000) : null);
const MEMBER_ROUTE = '/console/api/workspaces/current/members/<uuid:member_id>';
const ROLE_ENUM_MESSAGE = "Input should be 'owner', 'admin', 'editor', 'normal' or 'dataset_operator'";

type Action = 'add' | 'remove' | 'update';

class MemberError extends Error {
  constructor(
    readonly kind: 'self' | 'permission' | 'not_member' | 'already_assigned',
    message: string,
  ) {
    super(message);
  }
}

/** `TenantService.check_member_permission` (RBAC off). */
function checkPermission(ctx: StandinContext, user: ConsoleUser, targetId: string | null, action: Action): void {
  if (targetId !== null && user.account.id === targetId) throw new MemberError('self', 'Cannot operate self.');
  const perms: Record<Action, readonly WorkspaceRole[]> = ctx.features.memberRoleErrorCodes
    ? { add: ['owner', 'admin'], remove: ['owner', 'admin'], update: ['owner', 'admin'] }
    : { add: ['owner', 'admin'], remove: ['owner'], update: ['owner'] };
  const role = user.membership.role;
  if (!perms[action].includes(role)) throw new MemberError('permission', `No permission to ${action} member.`);
  if (action === 'remove' && role === 'admin' && targetId !== null) {
    if (ctx.db.membership(user.membership.workspaceId, targetId)?.role === 'owner') {
      throw new MemberError('permission', `No permission to ${action} member.`);
    }
  }
}

/** A `<uuid:member_id>` route: non-UUIDs do not match any route. */
function uuidParam(request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply): boolean {
  if (UUID_RE.test(request.params.id)) return true;
  reply.callNotFound();
  return false;
}

export function memberRoutes(app: FastifyInstance, ctx: StandinContext): void {
  app.get('/console/api/workspaces/current/members', async (request) => {
    const user = await consoleUser(ctx, request);
    const accounts = ctx.db.membersOf(user.membership.workspaceId).flatMap((m) => {
      const a = ctx.db.accounts.get(m.accountId);
      if (!a) return [];
      return [
        {
          avatar: null,
          id: a.id,
          name: a.name,
          email: a.email,
          last_login_at: ts(a.lastLoginAt),
          last_active_at: ts(a.lastActiveAt),
          created_at: ts(a.createdAt),
          role: m.role,
          ...(ctx.features.rbacFields ? { roles: [{ id: m.role, name: m.role }] } : {}),
          status: a.status,
          avatar_url: null,
        },
      ];
    });
    return { accounts };
  });

  app.post('/console/api/workspaces/current/members/invite-email', async (request, reply) => {
    const user = await consoleUser(ctx, request);
    const f = ctx.features;
    const body = jsonBody(request);
    const emailsIn = body['emails'] ?? [];
    const role = body['role'];
    const language = typeof body['language'] === 'string' ? body['language'] : undefined;
    if (!Array.isArray(emailsIn) || emailsIn.some((e) => typeof e !== 'string')) {
      throw validationError('MemberInvitePayload', [
        { field: 'emails', message: 'Input should be a valid list', type: 'list_type', input: emailsIn },
      ]);
    }
    if (f.inviteErrorsV3 && emailsIn.length === 0) {
      throw validationError('MemberInvitePayload', [
        {
          field: 'emails',
          message: 'List should have at least 1 item after validation, not 0',
          type: 'too_short',
          input: [],
        },
      ]);
    }
    if (typeof role !== 'string') {
      throw validationError('MemberInvitePayload', [
        { field: 'role', message: 'Field required', type: 'missing', input: body },
      ]);
    }
    const isValid = (WORKSPACE_ROLES as readonly string[]).includes(role);
    if (!f.inviteFlowV2 && !isValid) {
      // before 1.15.0 the payload's role is the TenantAccountRole enum
      throw validationError('MemberInvitePayload', [
        { field: 'role', message: ROLE_ENUM_MESSAGE, type: 'enum', input: role },
      ]);
    }
    if (!(NON_OWNER_ROLES as readonly string[]).includes(role)) {
      if (f.inviteErrorsV3) throw DifyErrors.invalidMemberRole();
      return reply.code(400).send({ code: 'invalid-role', message: 'Invalid role' });
    }
    const invitedRole = role as WorkspaceRole;
    // ≥1.15.0 the list is lower-cased and de-duplicated before anything else
    const emails = f.inviteFlowV2
      ? [...new Set((emailsIn as string[]).map((e) => e.toLowerCase()))]
      : (emailsIn as string[]);
    const workspaceId = user.membership.workspaceId;
    const consoleWebUrl = ctx.options.consoleWebUrl;
    const results: Record<string, unknown>[] = [];
    for (const raw of emails) {
      // before 1.11.3 the address is kept as typed and matched exactly
      const normalized = f.caseInsensitiveInvite ? raw.toLowerCase() : raw;
      try {
        let account = f.caseInsensitiveInvite
          ? ctx.db.findAccountByEmail(raw)
          : [...ctx.db.accounts.values()].find((a) => a.email === raw);
        let requiresSetup = false;
        if (!account) {
          checkPermission(ctx, user, null, 'add');
          account = ctx.db.createAccount({
            name: normalized.split('@')[0] ?? normalized,
            email: normalized,
            status: 'pending',
            interfaceLanguage: language ?? 'en-US',
            timezone: timezoneForLanguage(language),
          });
          ctx.db.addMember(workspaceId, account.id, invitedRole, user.account.id);
          ctx.db.switchCurrent(account.id, workspaceId);
          requiresSetup = true;
        } else {
          checkPermission(ctx, user, account.id, 'add');
          const joined = ctx.db.membership(workspaceId, account.id) !== undefined;
          requiresSetup = account.status === 'pending';
          if (!f.inviteFlowV2) {
            if (!joined) ctx.db.addMember(workspaceId, account.id, invitedRole, user.account.id);
            if (account.status !== 'pending') {
              results.push({ status: 'success', email: normalized, url: `${consoleWebUrl}/signin` });
              continue;
            }
          } else {
            if (!joined && account.status === 'pending')
              ctx.db.addMember(workspaceId, account.id, invitedRole, user.account.id);
            if (account.status !== 'pending' && joined) {
              results.push({ status: 'already_member', email: normalized, message: 'Account already in workspace.' });
              continue;
            }
          }
        }
        const token = await generateInviteToken(ctx, workspaceId, account.id, account.email, {
          role: invitedRole,
          requiresSetup,
        });
        const url = `${consoleWebUrl}/activate?email=${encodeURIComponent(normalized)}&token=${token}`;
        ctx.outbox.push({ kind: 'invite_member', to: account.email, url, at: new Date(ctx.now()).toISOString() });
        results.push({ status: 'success', email: normalized, url });
      } catch (err) {
        results.push({
          status: 'failed',
          email: normalized,
          message: err instanceof Error ? err.message : String(err),
        });
      }
    }
    return reply.code(201).send({ result: 'success', invitation_results: results, tenant_id: workspaceId });
  });

  app.put<{ Params: { id: string } }>(
    '/console/api/workspaces/current/members/:id/update-role',
    async (request, reply) => {
      if (!uuidParam(request, reply)) return reply;
      const user = await consoleUser(ctx, request);
      const role = jsonBody(request)['role'];
      if (typeof role !== 'string') {
        throw validationError('MemberRoleUpdatePayload', [
          { field: 'role', message: 'Field required', type: 'missing', input: jsonBody(request) },
        ]);
      }
      if (!(WORKSPACE_ROLES as readonly string[]).includes(role)) {
        return reply.code(400).send({ code: 'invalid-role', message: 'Invalid role' });
      }
      const member = ctx.db.accounts.get(request.params.id);
      if (!member) throw notFoundInView(request.url.split('?')[0] ?? '', `${MEMBER_ROUTE}/update-role`);
      const workspaceId = user.membership.workspaceId;
      try {
        checkPermission(ctx, user, member.id, 'update');
        const join = ctx.db.membership(workspaceId, member.id);
        if (!join) throw new MemberError('not_member', 'Member not in tenant.');
        if (
          ctx.features.memberRoleErrorCodes &&
          user.membership.role === 'admin' &&
          (join.role === 'owner' || role === 'owner')
        ) {
          throw new MemberError('permission', 'No permission to update member.');
        }
        if (join.role === role)
          throw new MemberError('already_assigned', 'The provided role is already assigned to the member.');
        if (role === 'owner') {
          for (const m of ctx.db.membersOf(workspaceId)) if (m.role === 'owner') m.role = 'admin';
        }
        join.role = role as WorkspaceRole;
      } catch (err) {
        if (!(err instanceof MemberError)) throw err;
        if (!ctx.features.memberRoleErrorCodes) throw invalidParam(err.message);
        if (err.kind === 'self') throw viewError(400, 'cannot-operate-self', err.message);
        if (err.kind === 'permission') throw viewError(403, 'forbidden', err.message);
        if (err.kind === 'not_member') throw viewError(404, 'member-not-found', err.message);
        throw viewError(400, 'role-already-assigned', err.message);
      }
      return { result: 'success' };
    },
  );

  app.delete<{ Params: { id: string } }>('/console/api/workspaces/current/members/:id', async (request, reply) => {
    if (!uuidParam(request, reply)) return reply;
    const user = await consoleUser(ctx, request);
    const member = ctx.db.accounts.get(request.params.id);
    if (!member) throw notFoundInView(request.url.split('?')[0] ?? '', MEMBER_ROUTE);
    try {
      checkPermission(ctx, user, member.id, 'remove');
      if (!ctx.db.membership(user.membership.workspaceId, member.id))
        throw new MemberError('not_member', 'Member not in tenant.');
      ctx.db.removeMember(user.membership.workspaceId, member.id);
    } catch (err) {
      if (!(err instanceof MemberError)) throw err;
      if (err.kind === 'self') throw viewError(400, 'cannot-operate-self', err.message);
      if (err.kind === 'permission') throw viewError(403, 'forbidden', err.message);
      throw viewError(404, 'member-not-found', err.message);
    }
    return { result: 'success', tenant_id: user.membership.workspaceId };
  });
}
