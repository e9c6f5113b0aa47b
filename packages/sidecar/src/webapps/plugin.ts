/**
 * Web-app SSO routes (issue 12), registered by the Dify bridge when `gate.webApps` and
 * `gate.webAppPolicy` are set:
 * - `GET /api/passport` — the passport broker (nginx routes `= /api/passport` here; in
 *   reverse-proxy mode this route wins over the catch-all);
 * - `GET /sso/webapp/denied?app=<code>` — the denial page (403, HTML);
 * - `GET /sso/webapp/embed?app=<code>&kind=<chat|chatbot|…>` — the page a framed navigation
 *   without a kit session gets (401, HTML, a `target=_blank` link to the app).
 *
 * Every refusal and every issued passport is audited as `webapp.access` (person, app code,
 * outcome, reason); the passport itself is never logged.
 *
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WEBAPP_PAGE_PREFIXES } from '../gate/route-table.js';
import { accessDenial, APP_CODE_RE, WebAppPolicyHolder } from './policy.js';
import { APP_CODE_HEADER, decodePassport } from './passport.js';
import { deniedPage, embedPage, PAGE_CSP } from './pages.js';
import { WebAppService, type PersonLookup, type WebAppPerson, type WebAppVerdict } from './service.js';

const services = new WeakMap<object, WebAppService>();

/** The web-app service of an app (undefined when web-app SSO is off). */
export function webAppServiceOf(app: FastifyInstance): WebAppService | undefined {
  return services.get(app.sso);
}

/** The person of a request's live kit session, if any (memoised per lookup). */
export function personLookup(
  app: FastifyInstance,
  request: FastifyRequest,
  check?: () => Promise<{ ok: boolean; session?: unknown }>,
): PersonLookup {
  let p: Promise<WebAppPerson | undefined> | undefined;
  return () =>
    (p ??= (check ? check() : app.sso.checkSession(request)).then((s) =>
      s.ok ? (s as { session: WebAppPerson }).session : undefined,
    ));
}

/** Writes the `webapp.access` audit event. */
export function auditWebApp(
  app: FastifyInstance,
  request: FastifyRequest,
  person: WebAppPerson | undefined,
  v: WebAppVerdict | { allow: true; appCode: string },
): void {
  app.sso.audit('webapp.access', {
    request,
    ...(person ? { iss: person.iss, sub: person.sub } : {}),
    app_code: v.appCode ?? null,
    outcome: v.allow ? 'allowed' : 'denied',
    ...(v.allow ? {} : { reason: v.code, detail: v.detail }),
  });
}

function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', PAGE_CSP)
    .header('cache-control', 'no-store')
    .send(body);
}

export interface WebAppPluginOptions {
  readonly apiUrl: string;
  readonly fetch?: typeof fetch;
  readonly timeoutMs: number;
}

/**
 * Registers the broker and the pages and decorates the service for the gate.
 *
 * @throws {WebAppPolicyError} `ERR_CONFIG_WEBAPP_POLICY` when the policy file is invalid (start-up fails).
 */
export async function webAppRoutes(app: FastifyInstance, opts: WebAppPluginOptions): Promise<void> {
  const config = app.sso.config;
  const svc = new WebAppService({
    policy: new WebAppPolicyHolder(config.gate.webAppPolicy),
    kv: app.sso.store.kv,
    userIdSource: config.gate.webAppUserId,
    userIdKey: config.gate.webAppUserIdKey,
  });
  services.set(app.sso, svc);
  const doFetch = opts.fetch ?? fetch;

  // SIGHUP reloads the policy; an invalid file keeps the previous one (logged, never half-applied).
  if (config.gate.webAppPolicy !== undefined) {
    const onHup = () => {
      try {
        svc.policy.reload();
        app.log.info({ apps: svc.policy.current.apps.size }, 'web-app policy reloaded');
      } catch (e) {
        app.log.error(
          { code: (e as { code?: string }).code, detail: (e as Error).message },
          'web-app policy reload failed; the previous policy stays in force',
        );
      }
    };
    process.on('SIGHUP', onHup);
    app.addHook('onClose', async () => void process.off('SIGHUP', onHup));
  }

  // dify-api has no unique constraint on (app_id, session_id): two concurrent first passports for
  // the same person could create two end users. One request per (app, user_id) at a time in this
  // process; the first one's answer is shared.
  const inFlight = new Map<string, Promise<{ status: number; token?: string; body?: unknown }>>();
  function fetchPassport(
    appCode: string,
    userId: string | undefined,
  ): Promise<{ status: number; token?: string; body?: unknown }> {
    if (userId === undefined) return fetchPassportOnce(appCode, undefined);
    const key = `${appCode}\0${userId}`;
    let p = inFlight.get(key);
    if (!p) {
      p = fetchPassportOnce(appCode, userId).finally(() => inFlight.delete(key));
      inFlight.set(key, p);
    }
    return p;
  }
  async function fetchPassportOnce(
    appCode: string,
    userId: string | undefined,
  ): Promise<{ status: number; token?: string; body?: unknown }> {
    const q = userId !== undefined ? `?${new URLSearchParams({ user_id: userId })}` : '';
    const res = await doFetch(`${opts.apiUrl}/api/passport${q}`, {
      headers: { [APP_CODE_HEADER]: appCode, accept: 'application/json' },
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    const body = (await res.json().catch(() => undefined)) as { access_token?: unknown } | undefined;
    return res.ok && typeof body?.access_token === 'string'
      ? { status: res.status, token: body.access_token }
      : { status: res.status, body };
  }

  const deny = (reply: FastifyReply, v: Extract<WebAppVerdict, { allow: false }>) =>
    reply
      .code(v.status)
      .header('cache-control', 'no-store')
      .send({
        code: v.code,
        message: v.status === 403 ? 'You may not use this app.' : 'Not authorized.',
        status: v.status,
      });

  app.get('/api/passport', { logLevel: 'warn' }, async (request, reply) => {
    const rawCode = request.headers[APP_CODE_HEADER];
    if (
      typeof rawCode !== 'string' ||
      !APP_CODE_RE.test(rawCode) ||
      Object.keys(request.headers).some((h) => h !== APP_CODE_HEADER && h.replace(/_/g, '-') === APP_CODE_HEADER)
    ) {
      return deny(reply, {
        allow: false,
        status: 400,
        code: 'invalid_request',
        detail: 'X-App-Code missing or malformed',
      });
    }
    const code = rawCode;
    const person = personLookup(app, request);
    // Public by code: Dify's own behaviour (the client's user_id, anonymous end users).
    const clientUserId =
      typeof (request.query as Record<string, unknown>)['user_id'] === 'string'
        ? ((request.query as Record<string, string>)['user_id'] as string)
        : undefined;
    let p = await person();
    let mode = svc.modeOf(code, undefined);
    for (let attempt = 0; attempt < 2; attempt++) {
      let userId: string | undefined;
      if (mode === 'public') userId = clientUserId;
      else {
        const denial = accessDenial(mode, p?.claims);
        if (denial || !p) {
          const v: WebAppVerdict =
            denial === 'webapp_login_required' || !p
              ? { allow: false, status: 401, code: 'unauthorized', detail: 'passport without session', appCode: code }
              : { allow: false, status: 403, code: 'webapp_access_denied', detail: denial as string, appCode: code };
          auditWebApp(app, request, p, v);
          return deny(reply, v);
        }
        userId = svc.userIdOf(p);
        if (userId === undefined) {
          const v: WebAppVerdict = {
            allow: false,
            status: 403,
            code: 'webapp_identity_unavailable',
            detail: `no ${config.gate.webAppUserId} for this person`,
            appCode: code,
          };
          auditWebApp(app, request, p, v);
          return deny(reply, v);
        }
      }
      const got = await fetchPassport(code, userId);
      if (!got.token)
        return reply
          .code(got.status >= 400 && got.status < 500 ? got.status : 502)
          .header('cache-control', 'no-store')
          .send(got.body ?? { code: 'upstream_error', status: 502 });
      const claims = decodePassport(got.token);
      if (!claims || claims.appCode !== code)
        return reply
          .code(502)
          .header('cache-control', 'no-store')
          .send({ code: 'upstream_error', message: 'dify-api returned an unexpected passport.', status: 502 });
      // The app id may carry its own entry: decide again with it before handing anything out.
      const byId = svc.modeOf(code, claims.appId);
      if (JSON.stringify(byId) !== JSON.stringify(mode)) {
        mode = byId;
        p ??= await person();
        continue;
      }
      if (mode !== 'public' && p) {
        await svc.recordOwner(claims.endUserId, p);
        auditWebApp(app, request, p, { allow: true, appCode: code });
      }
      return reply.header('cache-control', 'no-store').send({ access_token: got.token });
    }
    return reply.code(502).header('cache-control', 'no-store').send({ code: 'upstream_error', status: 502 });
  });

  app.get('/sso/webapp/denied', async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const code = typeof q['app'] === 'string' && APP_CODE_RE.test(q['app']) ? q['app'] : undefined;
    const p = await personLookup(app, request)();
    // The page re-derives the reason (nothing from the query is trusted but the validated app code).
    const reason =
      accessDenial(svc.modeOf(code, undefined), p?.claims) ?? (p ? 'webapp_group_required' : 'webapp_login_required');
    return html(reply, 403, deniedPage({ appCode: code, reason, contact: svc.policy.current.contact }));
  });

  app.get('/sso/webapp/embed', async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const code = typeof q['app'] === 'string' && APP_CODE_RE.test(q['app']) ? q['app'] : undefined;
    const kind =
      typeof q['kind'] === 'string' && WEBAPP_PAGE_PREFIXES.includes(`/${q['kind']}`) ? q['kind'] : 'chatbot';
    if (!code)
      return html(
        reply,
        400,
        deniedPage({ appCode: undefined, reason: 'webapp_login_required', contact: svc.policy.current.contact }),
      );
    return html(reply, 401, embedPage({ appCode: code, href: `/${kind}/${code}` }));
  });
}
