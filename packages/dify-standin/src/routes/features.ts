/**
 * `GET /console/api/system-features` with community-edition values.
 *
 * follows api/controllers/console/feature.py + api/services/feature_service.py
 * `SystemFeatureModel` (1.12.1–1.16.1): unauthenticated; CE fills the fields from env; `license`
 * is `{status:"none", …}` and never anything else here (the stand-in never fakes licence,
 * enterprise or billing data). Key order is the model's field order. Field sets per version
 * (src/version.ts): 1.11.x, 1.12.x–1.13.x, 1.15.0 and 1.16.1 as observed on real 1.11.0, 1.12.1,
 * 1.15.0 and 1.16.1; 1.14.x from the model in Dify's git history (not run). Env-driven values the stand-in
 * does not configure take their defaults: marketplace, creators platform, learn app and
 * collaboration mode on (collaboration off in 1.14.x), app deploy, trial app, explore banner,
 * step-by-step tour, RBAC and knowledge FS off, web-app public access on.
 */
import type { FastifyInstance } from 'fastify';
import type { StandinContext } from '../lib/context.js';
import { consoleUser, optionalUser } from '../lib/auth.js';

/** `PLUGIN_MAX_PACKAGE_SIZE` default (15 MiB). */
const PLUGIN_MAX_PACKAGE_SIZE = 15728640;
/** `CURRENT_APP_DSL_VERSION` of 1.14.x (api/constants/dsl_version.py). */
const APP_DSL_VERSION_114 = '0.6.0';

export function systemFeatures(ctx: StandinContext, _authenticated: boolean): Record<string, unknown> {
  const o = ctx.options;
  const f = ctx.features;
  const slim = f.slimSystemFeatures;
  const out: Record<string, unknown> = {};
  if (f.deploymentEditionField) out['deployment_edition'] = 'COMMUNITY';
  if (f.rbacFields) out['enable_app_deploy'] = false;
  else if (f.systemFeatures114) out['app_dsl_version'] = APP_DSL_VERSION_114;
  out['sso_enforced_for_signin'] = false;
  out['sso_enforced_for_signin_protocol'] = '';
  out['enable_marketplace'] = true;
  if (!slim) out['max_plugin_package_size'] = PLUGIN_MAX_PACKAGE_SIZE;
  out['enable_email_code_login'] = o.enableEmailCodeLogin;
  out['enable_email_password_login'] = o.enableEmailPasswordLogin;
  out['enable_social_oauth_login'] = o.enableSocialOauthLogin;
  if (f.systemFeatures114) out['enable_collaboration_mode'] = f.rbacFields;
  out['is_allow_register'] = o.allowRegister;
  if (!slim) out['is_allow_create_workspace'] = o.allowCreateWorkspace;
  out['is_email_setup'] = o.mailType !== '';
  out['license'] = slim
    ? { status: 'none' }
    : { status: 'none', expired_at: '', workspaces: { enabled: false, size: 0, limit: 0 } };
  out['branding'] = { enabled: false, application_title: '', login_page_logo: '', workspace_logo: '', favicon: '' };
  out['webapp_auth'] = {
    enabled: false,
    allow_sso: false,
    sso_config: { protocol: '' },
    allow_email_code_login: false,
    allow_email_password_login: false,
    ...(slim ? { allow_public_access: true } : {}),
  };
  out['plugin_installation_permission'] = { plugin_installation_scope: 'all', restrict_to_marketplace_only: false };
  out['enable_change_email'] = true;
  if (!slim) out['plugin_manager'] = { enabled: false };
  if (f.systemFeatures112 && !f.rbacFields) out['trial_models'] = [];
  if (f.systemFeatures114) out['enable_creators_platform'] = true;
  if (f.systemFeatures112 && !slim) out['enable_trial_app'] = false;
  if (f.systemFeatures112) out['enable_explore_banner'] = false;
  if (f.rbacFields) out['enable_learn_app'] = true;
  if (slim) out['enable_step_by_step_tour'] = false;
  if (f.rbacFields) out['rbac_enabled'] = false;
  if (slim) out['knowledge_fs_enabled'] = false;
  return out;
}

export function featureRoutes(app: FastifyInstance, ctx: StandinContext): void {
  // follows api/controllers/console/version.py: no update check configured (CHECK_UPDATE_URL empty)
  app.get('/console/api/version', async () => ({
    version: ctx.features.version,
    release_date: '',
    release_notes: '',
    can_auto_update: false,
    features: { can_replace_logo: false, model_load_balancing_enabled: false },
  }));
  app.get('/console/api/system-features', async (request) => {
    const user = await optionalUser(ctx, request);
    return systemFeatures(ctx, user !== null);
  });
  // ≥1.16.1: the licence detail moved behind login (`SystemFeatureLicenseApi`); community edition
  // answers the default, licence-less model
  if (ctx.features.slimSystemFeatures) {
    app.get('/console/api/system-features/license', async (request) => {
      await consoleUser(ctx, request);
      return { status: 'none', expired_at: '', workspaces: { enabled: false, size: 0, limit: 0 } };
    });
  }
  // the web-app blueprint serves the same payload (api/controllers/web/feature.py)
  app.get('/api/system-features', async () => systemFeatures(ctx, false));
}
