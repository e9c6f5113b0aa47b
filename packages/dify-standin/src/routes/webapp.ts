/**
 * The published web-app API (`/api/**`) as far as web-app SSO needs it.
 *
 * NOT DIFY. A test double; each route names what it follows.
 * - follows api/controllers/web/passport.py (1.11.0–main, community edition): `GET /api/passport`
 *   needs `X-App-Code` (401 without); the end user is found or created by `(app_id, session_id =
 *   user_id)`, or created with a random session id when `user_id` is absent; the passport is an
 *   HS256 JWT with `SECRET_KEY` and claims `iss` = app id, `sub` = "Web API Passport", `app_id`,
 *   `app_code`, `end_user_id`, no `exp`.
 * - follows api/libs/token.py `extract_webapp_passport` (1.11.0–main): cookie
 *   `passport-<X-App-Code>` first, else header `X-App-Passport`; api/controllers/web/wraps.py
 *   `decode_jwt_token`: verify, then app and end user from the token's claims.
 * - conversations and messages: reduced to what the e2e needs (one list per end user and app).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { StandinContext } from '../lib/context.js';
import { DifyHttpError } from '../lib/errors.js';

/** A published app of the stand-in (Dify `Site.code` + `App.id`). */
export interface StandinWebApp {
  readonly code: string;
  readonly appId: string;
  readonly name: string;
}

/** The stand-in's published apps (fixed; the e2e policy names them). */
export const STANDIN_WEB_APPS: readonly StandinWebApp[] = [
  { code: 'AssistAlpha00001', appId: '0b6c1a5e-0000-4000-8000-00000000a001', name: 'Assistant Alpha' },
  { code: 'AssistBeta000002', appId: '0b6c1a5e-0000-4000-8000-00000000a002', name: 'Assistant Beta' },
  { code: 'FinanceBot000003', appId: '0b6c1a5e-0000-4000-8000-00000000a003', name: 'Finance Bot' },
  { code: 'PublicHelp000004', appId: '0b6c1a5e-0000-4000-8000-00000000a004', name: 'Public Help' },
];

interface EndUser {
  id: string;
  appId: string;
  sessionId: string;
}
interface Message {
  conversationId: string;
  query: string;
  answer: string;
}

export function webAppRoutes(app: FastifyInstance, ctx: StandinContext): void {
  const endUsers: EndUser[] = [];
  const messages = new Map<string, Message[]>(); // end user id → messages

  app.get('/api/passport', async (request) => {
    const code = request.headers['x-app-code'];
    if (typeof code !== 'string') throw new DifyHttpError(401, 'unauthorized', 'X-App-Code header is missing.');
    const site = STANDIN_WEB_APPS.find((a) => a.code === code);
    if (!site) throw new DifyHttpError(404, 'not_found', 'The requested URL was not found on the server.');
    const userId = (request.query as Record<string, unknown>)['user_id'];
    let eu =
      typeof userId === 'string' && userId !== ''
        ? endUsers.find((e) => e.appId === site.appId && e.sessionId === userId)
        : undefined;
    if (!eu) {
      eu = {
        id: randomUUID(),
        appId: site.appId,
        sessionId: typeof userId === 'string' && userId !== '' ? userId : randomUUID(),
      };
      endUsers.push(eu);
    }
    const access_token = await ctx.passport.issue({
      iss: site.appId,
      sub: 'Web API Passport',
      app_id: site.appId,
      app_code: site.code,
      end_user_id: eu.id,
    });
    return { access_token };
  });

  async function decode(request: FastifyRequest): Promise<{ site: StandinWebApp; eu: EndUser }> {
    const code = String(request.headers['x-app-code']);
    const cookies = String(request.headers.cookie ?? '')
      .split(';')
      .map((c) => c.trim().split('='));
    const fromCookie = cookies.find(([k]) => k === `passport-${code}`)?.[1];
    const tk = fromCookie ?? (request.headers['x-app-passport'] as string | undefined);
    if (!tk) throw new DifyHttpError(401, 'unauthorized', 'App token is missing.');
    let claims: Record<string, unknown>;
    try {
      claims = (await ctx.passport.verify(tk)) as Record<string, unknown>;
    } catch (e) {
      throw new DifyHttpError(401, 'unauthorized', (e as Error).message);
    }
    const site = STANDIN_WEB_APPS.find((a) => a.appId === claims['app_id'] && a.code === claims['app_code']);
    if (!site) throw new DifyHttpError(404, 'not_found', 'The requested URL was not found on the server.');
    const eu = endUsers.find((e) => e.id === claims['end_user_id']);
    if (!eu) throw new DifyHttpError(404, 'not_found', 'The requested URL was not found on the server.');
    return { site, eu };
  }

  app.get('/api/parameters', async (request) => {
    const { site } = await decode(request);
    return { opening_statement: `Welcome to ${site.name}`, suggested_questions: [] };
  });
  app.get('/api/meta', async (request) => {
    await decode(request);
    return { tool_icons: {} };
  });
  // Test-only view of the end user the passport names (Dify shows it in logs and annotations).
  app.get('/api/site', async (request) => {
    const { site, eu } = await decode(request);
    return {
      app_id: site.appId,
      code: site.code,
      title: site.name,
      end_user_id: eu.id,
      end_user_session_id: eu.sessionId,
    };
  });
  app.get('/api/conversations', async (request) => {
    const { eu } = await decode(request);
    const list = messages.get(eu.id) ?? [];
    const ids = [...new Set(list.map((m) => m.conversationId))];
    return {
      limit: 20,
      has_more: false,
      data: ids.map((id) => ({ id, name: list.find((m) => m.conversationId === id)?.query ?? '' })),
    };
  });
  app.post('/api/chat-messages', async (request) => {
    const { eu } = await decode(request);
    const body = (request.body ?? {}) as { query?: unknown; conversation_id?: unknown };
    if (typeof body.query !== 'string' || body.query === '')
      throw new DifyHttpError(400, 'invalid_param', 'query is required');
    const conversationId =
      typeof body.conversation_id === 'string' && body.conversation_id !== '' ? body.conversation_id : randomUUID();
    const m = { conversationId, query: body.query, answer: `echo: ${body.query}` };
    messages.set(eu.id, [...(messages.get(eu.id) ?? []), m]);
    return { event: 'message', conversation_id: conversationId, answer: m.answer };
  });
  app.get('/api/webapp/access-mode', async () => ({ accessMode: 'public' }));
}
