/**
 * The signed-in person's own view.
 *
 * - follows api/controllers/console/workspace/account.py `AccountProfileApi` + api/fields/member_fields.py
 *   (1.12.1–1.16.1): `GET /account/profile` behind setup_required → login_required →
 *   account_initialization_required; exactly Dify's fields (no role, no status — observed on
 *   1.12.1 and 1.16.1). The caller's role comes from `POST /workspaces/current` (as the console's
 *   app context reads it) or from the members list.
 * - follows api/controllers/console/workspace/workspace.py `TenantApi.post` (1.12.1–1.16.1):
 *   `POST /workspaces/current` answers the current workspace with the caller's `role`; community
 *   values only (`plan` "basic" before 1.16.0, null from 1.16.0; credit fields — from 1.11.3 — null; never billing
 *   data). `GET /workspaces` lists the caller's workspaces (`plan` "sandbox", `current`;
 *   `last_opened_at` from 1.15.0).
 * - main after 1.16.1 (`DIFY_STANDIN_VERSION=main`; see `workspaceCurrentPost` in src/version.ts):
 *   `POST /workspaces/current` is gone (baba36d47d, a plain 404); `GET /workspaces/current/summary`
 *   answers `{id, name, role, plan, credits}` (community: `plan` and `credits` null). The role is
 *   read the same way on every version from the members list (`ROLE_SOURCE`).
 * - follows api/controllers/console/workspace/account.py `AccountInitApi`: an initialised account
 *   → 400 `account_already_inited`.
 */
import type { FastifyInstance } from 'fastify';
import type { StandinContext } from '../lib/context.js';
import { checkCsrf, consoleUser, loadRequestUser, setupRequired } from '../lib/auth.js';
import { DifyHttpError, loginRequired } from '../lib/errors.js';

const ts = (d: Date | null): number | null => (d ? Math.floor(d.getTime() / 1000) : null);

export function accountRoutes(app: FastifyInstance, ctx: StandinContext): void {
  app.get('/console/api/account/profile', async (request) => {
    const { account } = await consoleUser(ctx, request);
    return {
      avatar: null,
      id: account.id,
      name: account.name,
      email: account.email,
      is_password_set: account.passwordHash !== null,
      interface_language: account.interfaceLanguage,
      interface_theme: account.interfaceTheme,
      timezone: account.timezone,
      last_login_at: ts(account.lastLoginAt),
      last_login_ip: account.lastLoginIp,
      created_at: ts(account.createdAt),
      avatar_url: null,
    };
  });

  if (ctx.features.currentWorkspaceSummary) {
    app.get('/console/api/workspaces/current/summary', async (request) => {
      const { membership } = await consoleUser(ctx, request);
      const ws = ctx.db.workspaces.get(membership.workspaceId);
      return { id: membership.workspaceId, name: ws?.name ?? '', role: membership.role, plan: null, credits: null };
    });
  }

  if (ctx.features.workspaceCurrentPost) {
    app.post('/console/api/workspaces/current', async (request) => {
      const { membership } = await consoleUser(ctx, request);
      const ws = ctx.db.workspaces.get(membership.workspaceId);
      const credits = ctx.features.workspaceCredits;
      return {
        id: membership.workspaceId,
        name: ws?.name ?? '',
        plan: credits ? null : 'basic',
        status: ws?.status ?? 'normal',
        created_at: ts(ws?.createdAt ?? null),
        role: membership.role,
        in_trial: null,
        trial_end_reason: null,
        custom_config: ctx.features.customConfigObject
          ? { remove_webapp_brand: false, replace_webapp_logo: null }
          : null,
        ...(ctx.features.workspaceCreditFields
          ? {
              trial_credits: null,
              trial_credits_used: null,
              ...(credits ? { trial_credits_exhausted_at: null } : {}),
              next_credit_reset_date: null,
            }
          : {}),
      };
    });
  }

  app.get('/console/api/workspaces', async (request) => {
    const { account, membership } = await consoleUser(ctx, request);
    const workspaces = ctx.db.membershipsOf(account.id).flatMap((m) => {
      const ws = ctx.db.workspaces.get(m.workspaceId);
      if (!ws) return [];
      return [
        {
          id: ws.id,
          name: ws.name,
          plan: 'sandbox',
          status: ws.status,
          created_at: ts(ws.createdAt),
          ...(ctx.features.workspaceLastOpened ? { last_opened_at: ts(account.lastActiveAt) } : {}),
          current: ws.id === membership.workspaceId,
        },
      ];
    });
    return { workspaces };
  });

  // setup_required + login_required (no account_initialization_required)
  app.post('/console/api/account/init', async (request) => {
    setupRequired(ctx);
    const user = await loadRequestUser(ctx, request);
    if (!user) throw loginRequired();
    await checkCsrf(ctx, request, user);
    if (user.account.status === 'active') {
      throw new DifyHttpError(
        400,
        'account_already_inited',
        'The account has been initialized. Please refresh the page.',
      );
    }
    user.account.status = 'active';
    user.account.initializedAt = new Date(ctx.now());
    return { result: 'success' };
  });
}
