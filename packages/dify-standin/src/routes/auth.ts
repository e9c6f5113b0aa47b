/**
 * Console sign-in, refresh, logout and the other local-login endpoints, answering as a community
 * dify-api would for the configured env flags (so tests can prove the kit blocked them).
 *
 * - follows api/controllers/console/auth/login.py (1.12.1–main): `/login`, `/logout`,
 *   `/reset-password`, `/email-code-login`, `/email-code-login/validity`, `/refresh-token`.
 * - follows api/controllers/console/auth/forgot_password.py (1.12.1–main).
 * - follows api/controllers/console/auth/email_register.py (1.12.1–main).
 * - follows api/controllers/console/auth/oauth.py (1.12.1): unconfigured provider → 400
 *   `{"error":"Invalid provider"}`.
 * - follows api/controllers/console/setup.py (fastopenapi from 1.12.0; the older `already_setup`
 *   answer before).
 * - follows api/controllers/console/auth/activate.py + api/services/account_service.py invitation
 *   look-ups (1.12.1–1.16.1; optional set-up fields and join-on-activation from 1.15.0).
 * - follows api/controllers/console/wraps.py (1.12.1–main): `email_password_login_enabled`
 *   (`abort(403)`), `decrypt_password_field` / `decrypt_code_field` (≥1.11.2).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { StandinContext } from '../lib/context.js';
import { COOKIE_REFRESH_TOKEN, clearingCookies } from '../lib/cookies.js';
import { loadRequestUser, requestCookie, setupRequired } from '../lib/auth.js';
import {
  DifyErrors,
  DifyHttpError,
  fastopenapiForbidden,
  httpError,
  invalidParam,
  unauthorized,
  validationError,
} from '../lib/errors.js';
import { cookiesFor, decodeBase64Field, login, logout, remoteIp, rotate } from '../lib/session.js';
import { generateToken, getInvitation, getTokenData, revokeInvitation, revokeToken } from '../lib/token-manager.js';
import { NON_OWNER_ROLES, timezoneForLanguage, type Account, type WorkspaceRole } from '../lib/db.js';

/** `LOGIN_MAX_ERROR_LIMITS`: locked once the failure count is ABOVE it, i.e. the 7th attempt answers 429. */
const LOGIN_MAX_ERROR_LIMITS = 5;
const LOGIN_LOCKOUT_SECONDS = 86400;
/** Reset mails: one per address per window. */
const RESET_RATE_WINDOW_SECONDS = 60;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function jsonBody(request: FastifyRequest): Record<string, unknown> {
  const b = request.body;
  return b !== null && typeof b === 'object' && !Array.isArray(b) ? (b as Record<string, unknown>) : {};
}

function str(body: Record<string, unknown>, key: string, required = true): string | undefined {
  const v = body[key];
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) {
    if (required) throw invalidParam(`${key} is required`);
    return undefined;
  }
  throw invalidParam(`${key} must be a string`);
}

function email(body: Record<string, unknown>, key = 'email'): string {
  const v = str(body, key) ?? '';
  if (!EMAIL_RE.test(v)) throw invalidParam(`${v} is not a valid email`);
  return v;
}

function emailPasswordLoginEnabled(ctx: StandinContext): void {
  if (!ctx.options.enableEmailPasswordLogin) throw httpError(403);
}

function emailRegisterEnabled(ctx: StandinContext): void {
  if (!ctx.options.allowRegister) throw httpError(403);
}

/** `decrypt_password_field` / `decrypt_code_field` (≥1.11.2). */
function decrypt(
  ctx: StandinContext,
  body: Record<string, unknown>,
  field: 'password' | 'code',
  error: DifyHttpError,
): void {
  if (!ctx.features.base64Secrets || !(field in body)) return;
  const decoded = decodeBase64Field(body[field]);
  if (decoded === null) throw error;
  body[field] = decoded;
}

function sendWithCookies(reply: FastifyReply, cookies: string[], body: unknown): FastifyReply {
  reply.header('set-cookie', cookies);
  return reply.send(body);
}

async function loginErrorCount(ctx: StandinContext, mail: string): Promise<number> {
  return Number((await ctx.redis.get(ctx.keys.key(`login_error_rate_limit:${mail}`))) ?? 0);
}

export function authRoutes(app: FastifyInstance, ctx: StandinContext): void {
  // ---- password login -------------------------------------------------------------------------
  app.post('/console/api/login', async (request, reply) => {
    setupRequired(ctx);
    emailPasswordLoginEnabled(ctx);
    const body = jsonBody(request);
    decrypt(ctx, body, 'password', new DifyHttpError(401, 'authentication_failed', 'Invalid encrypted data'));
    const mail = email(body);
    const password = str(body, 'password') ?? '';
    if ((await loginErrorCount(ctx, mail)) > LOGIN_MAX_ERROR_LIMITS) throw DifyErrors.loginLimit();
    const inviteToken = str(body, 'invite_token', false);
    if (inviteToken) {
      const invitation = await getInvitation(ctx, undefined, mail, inviteToken);
      if (invitation && invitation.data.email !== mail) throw DifyErrors.invalidEmail();
    }
    const account = ctx.db.findAccountByEmail(mail);
    const addError = async () => {
      const key = ctx.keys.key(`login_error_rate_limit:${mail}`);
      await ctx.redis.multi().incr(key).expire(key, LOGIN_LOCKOUT_SECONDS).exec();
    };
    if (!account) {
      await addError();
      throw DifyErrors.authenticationFailed();
    }
    if (account.status === 'banned' || account.status === 'closed') throw DifyErrors.accountBanned();
    if (!ctx.db.checkPassword(account, password)) {
      await addError();
      throw DifyErrors.authenticationFailed();
    }
    if (ctx.db.membershipsOf(account.id).length === 0) {
      return {
        result: 'fail',
        data: 'workspace not found, please contact system admin to invite you to join in a workspace',
      };
    }
    const tokens = await login(ctx, account, remoteIp(request));
    await ctx.redis.del(ctx.keys.key(`login_error_rate_limit:${mail}`));
    return sendWithCookies(reply, cookiesFor(ctx, tokens, 'login'), { result: 'success' });
  });

  // ---- logout (POST since 1.9.2; setup_required only, no CSRF) -------------------------------
  app.post('/console/api/logout', async (request, reply) => {
    setupRequired(ctx);
    // current_account_with_tenant(): the loader raises 401 without a valid token; a valid token of
    // an account that does not load (anonymous) is a ValueError → 400 invalid_param
    const user = await loadRequestUser(ctx, request);
    if (!user) throw invalidParam('current_user must be an Account instance');
    await logout(ctx, user.account.id);
    return sendWithCookies(reply, clearingCookies(ctx.cookieRule, ctx.now()), { result: 'success' });
  });

  // ---- refresh (no decorators) ----------------------------------------------------------------
  app.post('/console/api/refresh-token', async (request, reply) => {
    const token = requestCookie(ctx, request, COOKIE_REFRESH_TOKEN);
    if (!token) return reply.code(401).send({ result: 'fail', message: 'No refresh token provided' });
    try {
      const tokens = await rotate(ctx, token);
      return sendWithCookies(reply, cookiesFor(ctx, tokens, 'refresh'), { result: 'success' });
    } catch (err) {
      return reply.code(401).send({ result: 'fail', message: err instanceof Error ? err.message : String(err) });
    }
  });

  // ---- e-mail code login (not gated by ENABLE_EMAIL_CODE_LOGIN server-side) --------------------
  app.post('/console/api/email-code-login', async (request) => {
    setupRequired(ctx);
    const body = jsonBody(request);
    const mail = email(body);
    const account = ctx.db.findAccountByEmail(mail);
    if (account && (account.status === 'banned' || account.status === 'closed'))
      throw unauthorized('Account is banned.');
    if (!account && !ctx.options.allowRegister) throw DifyErrors.accountNotFound();
    const code = String(Math.floor(Math.random() * 1_000_000)).padStart(6, '0');
    const token = await generateToken(ctx, 'email_code_login', account?.id ?? null, account?.email ?? mail, { code });
    ctx.outbox.push({
      kind: 'email_code_login',
      to: account?.email ?? mail,
      code,
      at: new Date(ctx.now()).toISOString(),
    });
    return { result: 'success', data: token };
  });

  app.post('/console/api/email-code-login/validity', async (request, reply) => {
    setupRequired(ctx);
    const body = jsonBody(request);
    decrypt(ctx, body, 'code', new DifyHttpError(400, 'email_code_error', 'Invalid encrypted code'));
    const mail = email(body);
    const code = str(body, 'code') ?? '';
    const token = str(body, 'token') ?? '';
    const data = await getTokenData(ctx, 'email_code_login', token);
    if (!data) throw DifyErrors.invalidToken();
    if (data['email'] !== mail) throw DifyErrors.invalidEmail();
    if (data['code'] !== code) throw DifyErrors.emailCode();
    await revokeToken(ctx, 'email_code_login', token);
    let account = ctx.db.findAccountByEmail(mail);
    if (account && (account.status === 'banned' || account.status === 'closed'))
      throw unauthorized('Account is banned.');
    if (account && ctx.db.membershipsOf(account.id).length === 0) {
      if (!ctx.options.allowCreateWorkspace) throw DifyErrors.notAllowedCreateWorkspace();
      createOwnWorkspace(ctx, account.id, account.name);
    }
    if (!account) {
      // AccountService.create_account_and_tenant: the account is created first; without workspace
      // creation it is left behind (active, no workspace) and the request fails (observed)
      if (!ctx.options.allowRegister) throw DifyErrors.accountNotFound();
      account = ctx.db.createAccount({ name: mail, email: mail, ...newAccountLocale(body['language']) });
      if (!ctx.options.allowCreateWorkspace) throw DifyErrors.notAllowedCreateWorkspace();
      createOwnWorkspace(ctx, account.id, account.name);
    }
    const tokens = await login(ctx, account, remoteIp(request));
    return sendWithCookies(reply, cookiesFor(ctx, tokens, 'refresh'), { result: 'success' });
  });

  // ---- password reset --------------------------------------------------------------------------
  const sendReset = async (request: FastifyRequest) => {
    setupRequired(ctx);
    emailPasswordLoginEnabled(ctx);
    const body = jsonBody(request);
    const mail = email(body);
    const account = ctx.db.findAccountByEmail(mail);
    // one reset mail per address per minute, shared by both endpoints (observed: /reset-password
    // right after /forgot-password → 429); a sliding window in a sorted set, like Dify's RateLimiter
    const limitKey = ctx.keys.key(`reset_password_rate_limit:${account?.email ?? mail}`);
    const nowMs = ctx.now();
    await ctx.redis.zremrangebyscore(limitKey, 0, nowMs - RESET_RATE_WINDOW_SECONDS * 1000);
    if ((await ctx.redis.zcard(limitKey)) >= 1) {
      throw new DifyHttpError(
        429,
        'password_reset_rate_limit_exceeded',
        `Too many password reset emails have been sent. Please try again in ${RESET_RATE_WINDOW_SECONDS / 60} minutes.`,
      );
    }
    const code = String(Math.floor(Math.random() * 1_000_000)).padStart(6, '0');
    const token = await generateToken(ctx, 'reset_password', account?.id ?? null, account?.email ?? mail, { code });
    ctx.outbox.push({ kind: 'reset_password', to: account?.email ?? mail, code, at: new Date(nowMs).toISOString() });
    await ctx.redis
      .multi()
      .zadd(limitKey, nowMs, `${nowMs}:${token}`)
      .expire(limitKey, RESET_RATE_WINDOW_SECONDS * 2)
      .exec();
    return { result: 'success', data: token };
  };
  app.post('/console/api/reset-password', sendReset);
  app.post('/console/api/forgot-password', sendReset);

  app.post('/console/api/forgot-password/validity', async (request) => {
    setupRequired(ctx);
    emailPasswordLoginEnabled(ctx);
    const body = jsonBody(request);
    // Unlike /email-code-login/validity, this endpoint takes the code in plain text (observed on
    // real dify-api 1.11.0, 1.12.1, 1.15.0 and 1.16.1: a base64 code is refused with 400).
    const mail = email(body);
    const data = await getTokenData(ctx, 'reset_password', str(body, 'token') ?? '');
    if (!data) throw DifyErrors.invalidToken();
    if (data['email'] !== mail) throw DifyErrors.invalidEmail();
    if (data['code'] !== str(body, 'code')) throw DifyErrors.emailCode();
    await revokeToken(ctx, 'reset_password', str(body, 'token') ?? '');
    const next = await generateToken(ctx, 'reset_password', (data['account_id'] as string | null) ?? null, mail, {
      code: data['code'],
      phase: 'reset',
    });
    return { is_valid: true, email: mail, token: next };
  });

  app.post('/console/api/forgot-password/resets', async (request) => {
    setupRequired(ctx);
    emailPasswordLoginEnabled(ctx);
    const body = jsonBody(request);
    decrypt(ctx, body, 'password', new DifyHttpError(401, 'authentication_failed', 'Invalid encrypted data'));
    const newPassword = str(body, 'new_password') ?? '';
    if (newPassword !== str(body, 'password_confirm')) throw DifyErrors.passwordMismatch();
    const token = str(body, 'token') ?? '';
    const data = await getTokenData(ctx, 'reset_password', token);
    if (data?.['phase'] !== 'reset') throw DifyErrors.invalidToken();
    await revokeToken(ctx, 'reset_password', token);
    const account = ctx.db.findAccountByEmail(String(data['email']));
    if (!account) throw DifyErrors.accountNotFound();
    ctx.db.setPassword(account, newPassword);
    return { result: 'success' };
  });

  // ---- e-mail registration (email_password_login_enabled + email_register_enabled) ------------
  app.post('/console/api/email-register/send-email', async (request) => {
    setupRequired(ctx);
    emailPasswordLoginEnabled(ctx);
    emailRegisterEnabled(ctx);
    const mail = email(jsonBody(request));
    const code = String(Math.floor(Math.random() * 1_000_000)).padStart(6, '0');
    const token = await generateToken(ctx, 'email_register', null, mail, { code });
    ctx.outbox.push({ kind: 'email_register', to: mail, code, at: new Date(ctx.now()).toISOString() });
    return { result: 'success', data: token };
  });

  app.post('/console/api/email-register/validity', async (request) => {
    setupRequired(ctx);
    emailPasswordLoginEnabled(ctx);
    emailRegisterEnabled(ctx);
    // this endpoint takes the code in plain text (no decrypt_code_field), unlike the others
    const body = jsonBody(request);
    const mail = email(body);
    const token = str(body, 'token') ?? '';
    const data = await getTokenData(ctx, 'email_register', token);
    if (!data) throw DifyErrors.invalidToken();
    if (data['email'] !== mail) throw DifyErrors.invalidEmail();
    if (data['code'] !== str(body, 'code')) throw DifyErrors.emailCode();
    await revokeToken(ctx, 'email_register', token);
    const next = await generateToken(ctx, 'email_register', null, mail, { code: data['code'], phase: 'register' });
    return { is_valid: true, email: mail, token: next };
  });

  app.post('/console/api/email-register', async (request) => {
    setupRequired(ctx);
    emailPasswordLoginEnabled(ctx);
    emailRegisterEnabled(ctx);
    const body = jsonBody(request);
    decrypt(ctx, body, 'password', new DifyHttpError(401, 'authentication_failed', 'Invalid encrypted data'));
    const newPassword = str(body, 'new_password') ?? '';
    if (newPassword !== str(body, 'password_confirm')) throw DifyErrors.passwordMismatch();
    const token = str(body, 'token') ?? '';
    const data = await getTokenData(ctx, 'email_register', token);
    if (data?.['phase'] !== 'register') throw DifyErrors.invalidToken();
    await revokeToken(ctx, 'email_register', token);
    const mail = String(data['email']);
    if (ctx.db.findAccountByEmail(mail)) throw DifyErrors.emailAlreadyInUse();
    const account = ctx.db.createAccount({
      name: mail,
      email: mail,
      password: newPassword,
      ...newAccountLocale(undefined),
    });
    // without workspace creation the account stays (active, password set, no workspace) and the
    // request answers 400 invalid_param with an empty message (observed on 1.12.1 and 1.16.1)
    if (!ctx.options.allowCreateWorkspace) throw invalidParam('');
    createOwnWorkspace(ctx, account.id, account.name);
    // the final step answers with the three tokens in the body and sets no cookies
    const tokens = await login(ctx, account, remoteIp(request));
    return {
      result: 'success',
      data: { access_token: tokens.accessToken, refresh_token: tokens.refreshToken, csrf_token: tokens.csrfToken },
    };
  });

  // ---- social OAuth ----------------------------------------------------------------------------
  const provider = (name: string): { authorize: string; clientId: string } | null => {
    const o = ctx.options;
    if (name === 'github' && o.githubClientId && o.githubClientSecret) {
      return { authorize: 'https://github.com/login/oauth/authorize', clientId: o.githubClientId };
    }
    if (name === 'google' && o.googleClientId && o.googleClientSecret) {
      return { authorize: 'https://accounts.google.com/o/oauth2/v2/auth', clientId: o.googleClientId };
    }
    return null;
  };
  app.get<{ Params: { provider: string }; Querystring: Record<string, string> }>(
    '/console/api/oauth/login/:provider',
    async (request, reply) => {
      const p = provider(request.params.provider);
      if (!p) return reply.code(400).send({ error: 'Invalid provider' });
      const url = new URL(p.authorize);
      url.searchParams.set('client_id', p.clientId);
      url.searchParams.set(
        'redirect_uri',
        `${ctx.options.consoleApiUrl}/console/api/oauth/authorize/${request.params.provider}`,
      );
      if (request.query['invite_token']) url.searchParams.set('state', request.query['invite_token']);
      return reply.redirect(url.toString());
    },
  );
  app.get<{ Params: { provider: string } }>('/console/api/oauth/authorize/:provider', async (request, reply) => {
    const p = provider(request.params.provider);
    if (!p) return reply.code(400).send({ error: 'Invalid provider' });
    // the stand-in never talks to a real social provider
    return reply.redirect(`${ctx.options.consoleWebUrl}/signin?message=${encodeURIComponent('OAuth process failed')}`);
  });

  // ---- setup -----------------------------------------------------------------------------------
  // `setup_at` is a naive UTC ISO timestamp with whole seconds; from 1.12.0 (fastopenapi) the field
  // is always present (null before setup) and a second POST answers fastopenapi's 403 body
  app.get('/console/api/setup', async () => {
    if (ctx.db.setupAt) return { step: 'finished', setup_at: ctx.db.setupAt.toISOString().slice(0, 19) };
    return ctx.features.fastopenapiSetup ? { step: 'not_started', setup_at: null } : { step: 'not_started' };
  });
  app.post('/console/api/setup', async (request, reply) => {
    if (ctx.db.setupAt || ctx.db.workspaces.size > 0)
      throw ctx.features.fastopenapiSetup ? fastopenapiForbidden() : DifyErrors.alreadySetup();
    const body = jsonBody(request);
    const mail = email(body);
    const name = str(body, 'name') ?? '';
    const password = str(body, 'password') ?? '';
    if (name.length === 0 || name.length > 30) throw invalidParam('name must be 1 to 30 characters');
    const account = ctx.db.createAccount({ name, email: mail, password, ...newAccountLocale(body['language']) });
    createOwnWorkspace(ctx, account.id, name, true);
    ctx.db.setupAt = new Date(ctx.now());
    return reply.code(201).send({ result: 'success' });
  });

  // follows api/controllers/console/init_validate.py: no INIT_PASSWORD is modelled, so the
  // validation step always reads "finished"; a POST after setup is refused like POST /setup
  app.get('/console/api/init', async () => ({ status: 'finished' }));
  app.post('/console/api/init', async (_request, reply) => {
    if (ctx.db.setupAt) throw ctx.features.fastopenapiSetup ? fastopenapiForbidden() : DifyErrors.alreadySetup();
    return reply.code(201).send({ result: 'success' });
  });

  // ---- invitation activation (no auth) ---------------------------------------------------------
  // Query/body parameters are passed on as given: `workspace_id` together with `email` selects
  // Dify's legacy token key, which nothing writes any more (see getInvitation).
  app.get<{ Querystring: Record<string, string | undefined> }>('/console/api/activate/check', async (request) => {
    const q = request.query;
    if (q['token'] === undefined) {
      throw validationError('ActivateCheckQuery', [
        { field: 'token', message: 'Field required', type: 'missing', input: { ...q } },
      ]);
    }
    const invitation = await getInvitation(ctx, q['workspace_id'], q['email'], q['token']);
    if (!invitation) return { is_valid: false };
    const data: Record<string, unknown> = {
      workspace_name: invitation.workspaceName,
      workspace_id: invitation.workspaceId,
      email: invitation.data.email,
    };
    if (ctx.features.inviteFlowV2) {
      const account = ctx.db.accounts.get(invitation.accountId);
      data['account_status'] = account?.status ?? null;
      data['requires_setup'] = invitation.data.requires_setup ?? account?.status === 'pending';
    }
    return { is_valid: true, data };
  });

  app.post('/console/api/activate', async (request) => {
    const body = jsonBody(request);
    const missing = ['token', ...(ctx.features.inviteFlowV2 ? [] : ['name', 'interface_language', 'timezone'])].filter(
      (k) => typeof body[k] !== 'string',
    );
    if (missing.length > 0) {
      throw validationError(
        'ActivatePayload',
        missing.map((field) => ({ field, message: 'Field required', type: 'missing', input: body })),
      );
    }
    const token = body['token'] as string;
    const name = optionalString(body, 'name');
    const language = optionalString(body, 'interface_language');
    const timezone = optionalString(body, 'timezone');
    if (name !== undefined && name.length > 30) {
      throw validationError('ActivatePayload', [
        { field: 'name', message: 'String should have at most 30 characters', type: 'string_too_long', input: name },
      ]);
    }
    if (timezone !== undefined && !validTimezone(timezone)) {
      throw validationError('ActivatePayload', [
        {
          field: 'timezone',
          message: `Value error, ${timezone} is not a valid timezone.`,
          type: 'value_error',
          input: timezone,
        },
      ]);
    }
    const workspaceId = optionalString(body, 'workspace_id');
    const requestEmail = optionalString(body, 'email');
    const invitation = await getInvitation(ctx, workspaceId, requestEmail, token);
    if (!invitation) throw DifyErrors.alreadyActivate();
    const account = ctx.db.accounts.get(invitation.accountId);
    if (!account) throw DifyErrors.alreadyActivate();
    const revokeEmail = requestEmail?.toLowerCase();

    if (!ctx.features.inviteFlowV2) {
      // before 1.15.0: the three fields are required by the schema and always applied; before
      // 1.11.2 the invitee is also logged in and the token triple answered in the body
      await revokeInvitation(ctx, workspaceId, revokeEmail, token);
      setUp(account, name ?? '', language ?? '', timezone ?? '');
      if (!ctx.features.activateIssuesNoLogin) {
        const tokens = await login(ctx, account, remoteIp(request));
        return {
          result: 'success',
          data: { access_token: tokens.accessToken, refresh_token: tokens.refreshToken, csrf_token: tokens.csrfToken },
        };
      }
      return { result: 'success' };
    }

    // ≥1.15.0: join with the invited role if needed; set-up fields only when setup is required
    let role = (invitation.data.role ?? 'normal') as WorkspaceRole;
    if (!(NON_OWNER_ROLES as readonly string[]).includes(role)) role = 'normal';
    const requiresSetup = invitation.data.requires_setup ?? account.status === 'pending';
    if (requiresSetup && (!name || !language || !timezone)) throw DifyErrors.alreadyActivate();
    await revokeInvitation(ctx, workspaceId, revokeEmail, token);
    if (!ctx.db.membership(invitation.workspaceId, account.id))
      ctx.db.addMember(invitation.workspaceId, account.id, role, null);
    if (requiresSetup) setUp(account, name ?? '', language ?? '', timezone ?? '');
    ctx.db.switchCurrent(account.id, invitation.workspaceId);
    return { result: 'success' };
  });

  const setUp = (account: Account, name: string, language: string, timezone: string): void => {
    account.name = name;
    account.interfaceLanguage = language;
    account.timezone = timezone;
    account.interfaceTheme = 'light';
    account.status = 'active';
    account.initializedAt = new Date(ctx.now());
  };
}

/** Interface language and its mapped timezone for an account Dify creates. */
function newAccountLocale(language: unknown): { interfaceLanguage: string; timezone: string } {
  const l = typeof language === 'string' && language ? language : 'en-US';
  return { interfaceLanguage: l, timezone: timezoneForLanguage(l) };
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string')
    throw validationError('ActivatePayload', [
      { field: key, message: 'Input should be a valid string', type: 'string_type', input: v },
    ]);
  return v;
}

/** `libs.helper.timezone`: an IANA zone name. */
function validTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** `TenantService.create_owner_tenant_if_not_exist` (only where Dify's policy allows it). */
function createOwnWorkspace(ctx: StandinContext, accountId: string, name: string, isSetup = false): void {
  const id = crypto.randomUUID();
  ctx.db.workspaces.set(id, {
    id,
    name: isSetup ? `${name}'s Workspace` : `${name}'s Workspace`,
    status: 'normal',
    createdAt: new Date(ctx.now()),
  });
  ctx.db.addMember(id, accountId, 'owner', null, true);
}
