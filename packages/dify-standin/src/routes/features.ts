/**
 * `GET /console/api/system-features` with community-edition values.
 *
 * follows api/controllers/console/feature.py + api/services/feature_service.py (1.12.1–1.16.1):
 * unauthenticated; CE fills the fields from env; `license` is `{status:"none", …}` and never
 * anything else here (the stand-in never fakes licence, enterprise or billing data). 1.16.1 drops
 * `is_allow_create_workspace`, `plugin_manager`, `max_plugin_package_size`, `enable_trial_app`,
 * and reduces `license` to `{status}` (aff5c47541, 66a545fc6d).
 */
import type { FastifyInstance } from 'fastify';
import type { StandinContext } from '../lib/context.js';
import { optionalUser } from '../lib/auth.js';

export function systemFeatures(ctx: StandinContext, _authenticated: boolean): Record<string, unknown> {
  const o = ctx.options;
  const f = ctx.features;
  const out: Record<string, unknown> = {
    sso_enforced_for_signin: false,
    sso_enforced_for_signin_protocol: '',
    enable_marketplace: true,
    enable_email_code_login: o.enableEmailCodeLogin,
    enable_email_password_login: o.enableEmailPasswordLogin,
    enable_social_oauth_login: o.enableSocialOauthLogin,
    is_allow_register: o.allowRegister,
    is_email_setup: o.mailType !== '',
    license: f.slimSystemFeatures
      ? { status: 'none' }
      : {
          status: 'none',
          expired_at: '',
          workspaces: { enabled: false, size: 0, limit: 0 },
        },
    branding: { enabled: false, application_title: '', login_page_logo: '', workspace_logo: '', favicon: '' },
    webapp_auth: {
      enabled: false,
      allow_sso: false,
      sso_config: { protocol: '' },
      allow_email_code_login: false,
      allow_email_password_login: false,
    },
    plugin_installation_permission: { plugin_installation_scope: 'all', restrict_to_marketplace_only: false },
    enable_change_email: true,
    enable_explore_banner: false,
  };
  if (!f.slimSystemFeatures) {
    out['is_allow_create_workspace'] = o.allowCreateWorkspace;
    out['plugin_manager'] = { enabled: false };
    out['max_plugin_package_size'] = 52428800;
    out['enable_trial_app'] = false;
  }
  if (f.deploymentEditionField) out['deployment_edition'] = 'COMMUNITY';
  return out;
}

export function featureRoutes(app: FastifyInstance, ctx: StandinContext): void {
  app.get('/console/api/system-features', async (request) => {
    const user = await optionalUser(ctx, request);
    return systemFeatures(ctx, user !== null);
  });
  // the web-app blueprint serves the same payload (api/controllers/web/feature.py)
  app.get('/api/system-features', async () => systemFeatures(ctx, false));
}
