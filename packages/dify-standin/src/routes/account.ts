/**
 * The signed-in person's own view.
 *
 * - follows api/controllers/console/workspace/account.py `AccountProfileApi` + api/fields/member_fields.py
 *   (1.12.1–main): `GET /account/profile` behind setup_required → login_required →
 *   account_initialization_required. **Stand-in convenience:** the answer also carries `role` (the
 *   account's role in its current workspace) and `status`; Dify's profile has neither (use
 *   `POST /workspaces/current` or the members list against a real dify-api).
 * - follows api/controllers/console/workspace/workspace.py `TenantApi.post` (1.12.1–main):
 *   `POST /workspaces/current` answers the current workspace with the caller's `role`.
 */
import type { FastifyInstance } from 'fastify';
import type { StandinContext } from '../lib/context.js';
import { consoleUser } from '../lib/auth.js';

const ts = (d: Date | null): number | null => (d ? Math.floor(d.getTime() / 1000) : null);

export function accountRoutes(app: FastifyInstance, ctx: StandinContext): void {
  app.get('/console/api/account/profile', async (request) => {
    const { account, membership } = await consoleUser(ctx, request);
    return {
      id: account.id,
      name: account.name,
      avatar: null,
      avatar_url: null,
      email: account.email,
      is_password_set: account.passwordHash !== null,
      interface_language: account.interfaceLanguage,
      interface_theme: account.interfaceTheme,
      timezone: account.timezone,
      last_login_at: ts(account.lastLoginAt),
      last_login_ip: account.lastLoginIp,
      created_at: ts(account.createdAt),
      // stand-in convenience fields (not in Dify's profile):
      role: membership.role,
      status: account.status,
    };
  });

  app.post('/console/api/workspaces/current', async (request) => {
    const { membership } = await consoleUser(ctx, request);
    const ws = ctx.db.workspaces.get(membership.workspaceId);
    return {
      id: membership.workspaceId,
      name: ws?.name ?? '',
      plan: 'basic',
      status: ws?.status ?? 'normal',
      created_at: ts(ws?.createdAt ?? null),
      role: membership.role,
      in_trial: null,
      trial_end_reason: null,
      custom_config: null,
    };
  });
}
