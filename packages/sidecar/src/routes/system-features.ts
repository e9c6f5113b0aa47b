/**
 * `GET /console/api/system-features`: dify-api's answer, adjusted to the SSO policy.
 *
 * Fields (dify `api/services/feature_service.py` `SystemFeatureModel`; docs/dify-contract.md §5):
 * `sso_enforced_for_signin` → true and `sso_enforced_for_signin_protocol` → `oidc` make the stock
 * sign-in page render its SSO button (dify `web/app/signin/normal-form.tsx`,
 * `components/sso-auth.tsx`); the login methods and registration are switched off in the UI.
 * Nothing else is touched: licence, billing, branding, web-app auth and plugin fields pass
 * through exactly as dify-api sent them.
 *
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** The fields the sidecar sets; everything else passes through. */
export const ADJUSTED_FIELDS = [
  'sso_enforced_for_signin',
  'sso_enforced_for_signin_protocol',
  'enable_email_password_login',
  'enable_email_code_login',
  'enable_social_oauth_login',
  'is_allow_register',
] as const;

/**
 * @example
 * adjustSystemFeatures({ sso_enforced_for_signin: false, license: { status: 'none' } }, { breakGlass: false })
 * // { sso_enforced_for_signin: true, sso_enforced_for_signin_protocol: 'oidc', …, license: { status: 'none' } }
 */
export function adjustSystemFeatures(
  body: Record<string, unknown>,
  options: { breakGlass: boolean },
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...body };
  out['sso_enforced_for_signin'] = true;
  out['sso_enforced_for_signin_protocol'] = 'oidc';
  // Break-glass reopens password login for that client only: keep dify-api's own value then.
  if (!options.breakGlass) out['enable_email_password_login'] = false;
  out['enable_email_code_login'] = false;
  out['enable_social_oauth_login'] = false;
  out['is_allow_register'] = false;
  return out;
}

/** What the system-features route needs from the Dify bridge. */
export interface SystemFeaturesDeps {
  /** dify-api base URL (no trailing slash). */
  readonly apiUrl: string;
  readonly fetch: typeof fetch;
  /** Whether this request's client is inside an open break-glass window. */
  breakGlassActive(request: FastifyRequest): boolean;
}

/**
 * Registers `GET /console/api/system-features`: dify-api's answer, adjusted by
 * {@link adjustSystemFeatures}; 502 `dify_unavailable` when dify-api does not answer with JSON.
 *
 * @example
 * systemFeaturesRoute(app, { apiUrl: 'http://api:5001', fetch, breakGlassActive: () => false })
 */
export function systemFeaturesRoute(app: FastifyInstance, deps: SystemFeaturesDeps): void {
  const config = app.sso.config;
  app.get('/console/api/system-features', async (request, reply) => {
    let res: Response;
    try {
      res = await deps.fetch(`${deps.apiUrl}/console/api/system-features`, {
        headers: {
          accept: 'application/json',
          ...(request.headers['accept-language']
            ? { 'accept-language': String(request.headers['accept-language']) }
            : {}),
        },
        signal: AbortSignal.timeout(config.dify.timeoutSeconds * 1000),
      });
    } catch {
      return reply
        .code(502)
        .header('cache-control', 'no-store')
        .send({ code: 'dify_unavailable', message: 'dify-api is not reachable', status: 502 });
    }
    const version = res.headers.get('x-version');
    if (version) reply.header('x-version', version);
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return reply
        .code(502)
        .header('cache-control', 'no-store')
        .send({ code: 'dify_unavailable', message: 'dify-api answered with non-JSON', status: 502 });
    }
    reply.header('cache-control', 'no-store');
    if (res.status !== 200 || typeof body !== 'object' || body === null || Array.isArray(body))
      return reply.code(res.status).send(body);
    return reply
      .code(200)
      .send(adjustSystemFeatures(body as Record<string, unknown>, { breakGlass: deps.breakGlassActive(request) }));
  });
}
