/**
 * `buildStandinWeb(options)`: a minimal double of Dify's console web (the `web:3000` container),
 * only as far as the sign-in contract goes. It talks to the API solely through same-origin
 * relative `/console/api/...` (Dify's SPA with an empty `CONSOLE_API_URL`), so in the local stack
 * it sits behind nginx at `/`. Never listens by itself.
 *
 * NOT DIFY: a private test double; never shipped.
 *
 * Variants: `stock` (plain HTML + inline JS following the stock sign-in page) and `plugin` (the
 * console plugin's React components, bundled with esbuild on first use). The default comes from
 * `options.variant`; `?variant=stock|plugin` on any page overrides it and is remembered in the
 * cookie `dify_standin_variant` (path `/`), so redirects back into the console keep it.
 */
import fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import { parseCookieHeader } from './lib/cookies.js';
import { bundleConsolePlugin, DEFAULT_PLUGIN_ENTRY } from './web/plugin-bundle.js';
import { appsPage, signinPage, type PageConfig, type WebVariant } from './web/pages.js';
import { webAppPage } from './web/webapp-page.js';
import { NEWEST_VERSION, versionFeatures } from './version.js';

export type { WebVariant } from './web/pages.js';

export const VARIANT_COOKIE = 'dify_standin_variant';

export interface StandinWebOptions {
  /** The Dify version the console imitates (base64 password/code from 1.11.2). Default {@link NEWEST_VERSION}. */
  version?: string;
  /** Default page variant. Default `stock`. */
  variant?: WebVariant;
  /** The SPA's API prefix (`NEXT_PUBLIC_API_PREFIX`). Default `/console/api` (same origin). */
  apiPrefix?: string;
  /** `NEXT_PUBLIC_COOKIE_DOMAIN` (only decides the CSRF cookie name, as web/config does). Default ''. */
  cookieDomain?: string;
  /** Identity provider name for the plugin's button ("Sign in with <name>"). Default ''. */
  idpName?: string;
  /** Break-glass page for the plugin's `BreakGlassLink`; empty hides it. Default ''. */
  breakGlassHref?: string;
  /** Path of the console plugin's entry module. Default packages/console-plugin/src/index.ts. */
  pluginEntry?: string;
  /** Fastify logger option. Default false. */
  logger?: FastifyServerOptions['logger'];
}

function variantOf(request: FastifyRequest, reply: FastifyReply, fallback: WebVariant): WebVariant {
  const q = (request.query as Record<string, string | undefined>)['variant'];
  if (q === 'stock' || q === 'plugin') {
    reply.header('set-cookie', `${VARIANT_COOKIE}=${q}; Path=/; SameSite=Lax`);
    return q;
  }
  const c = parseCookieHeader(request.headers.cookie).get(VARIANT_COOKIE);
  return c === 'stock' || c === 'plugin' ? c : fallback;
}

/**
 * Build the console UI double.
 *
 * @example
 * const web = buildStandinWeb({ variant: 'stock' });
 * await web.listen({ host: '127.0.0.1', port: 13000 });
 */
export function buildStandinWeb(options: StandinWebOptions = {}): FastifyInstance {
  const fallback: WebVariant = options.variant ?? 'stock';
  if (fallback !== 'stock' && fallback !== 'plugin') {
    throw Object.assign(new TypeError('"variant" must be "stock" or "plugin"'), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  const base = {
    version: versionFeatures(options.version ?? NEWEST_VERSION).version,
    apiPrefix: options.apiPrefix ?? '/console/api',
    cookieDomain: options.cookieDomain ?? '',
    idpName: options.idpName ?? '',
    breakGlassHref: options.breakGlassHref ?? '',
  };
  const app = fastify({ logger: options.logger ?? false });
  let bundle: Promise<string> | undefined;

  const config = (variant: WebVariant): PageConfig => ({ ...base, variant });
  const html = (reply: FastifyReply, body: string) =>
    reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(body);

  app.get('/', async (_request, reply) => reply.redirect('/apps'));
  app.get('/signin', async (request, reply) => html(reply, signinPage(config(variantOf(request, reply, fallback)))));
  app.get('/apps', async (request, reply) => html(reply, appsPage(config(variantOf(request, reply, fallback)))));
  app.get('/health', async () => ({ status: 'ok' }));
  for (const kind of ['chat', 'chatbot', 'completion', 'workflow', 'agent']) {
    app.get(`/${kind}/:code`, async (request, reply) =>
      html(reply, webAppPage((request.params as { code: string }).code)),
    );
  }

  app.get('/_standin/web/plugin.js', async (request, reply) => {
    bundle ??= bundleConsolePlugin(options.pluginEntry ?? DEFAULT_PLUGIN_ENTRY);
    try {
      const js = await bundle;
      return reply.header('content-type', 'text/javascript; charset=utf-8').send(js);
    } catch (err) {
      bundle = undefined;
      request.log.error({ err }, 'console plugin bundle failed');
      const msg = 'Console plugin bundle unavailable';
      return reply
        .code(500)
        .header('content-type', 'text/javascript; charset=utf-8')
        .send(
          `(function(){var r=document.getElementById('plugin-root');if(r){var d=document.createElement('div');d.setAttribute('role','alert');d.textContent=${JSON.stringify(msg)};r.append(d);}})();`,
        );
    }
  });

  return app;
}
