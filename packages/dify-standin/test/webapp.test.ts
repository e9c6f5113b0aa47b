/** The web-app passport model (dify `api/controllers/web/passport.py`, `api/libs/token.py`). */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { decodeJwt, jwtVerify } from 'jose';
import { STANDIN_WEB_APPS } from '../src/routes/webapp.js';
import { SECRET, standin } from './helpers.js';

const [alpha, beta] = STANDIN_WEB_APPS as [(typeof STANDIN_WEB_APPS)[0], (typeof STANDIN_WEB_APPS)[0]];

it('passport: HS256 with SECRET_KEY, dify claims, no exp; one end user per (app, user_id); a new one without user_id', async (t) => {
  const s = standin();
  t.after(() => s.close());
  const get = async (code: string | undefined, userId?: string) =>
    s.app.inject({
      method: 'GET',
      url: `/api/passport${userId ? `?user_id=${userId}` : ''}`,
      headers: code ? { 'x-app-code': code } : {},
    });
  assert.equal((await get(undefined)).statusCode, 401);
  assert.equal((await get('NoSuchApp')).statusCode, 404);
  const a1 = (await get(alpha.code, 'u1')).json().access_token as string;
  const { payload, protectedHeader } = await jwtVerify(a1, new TextEncoder().encode(SECRET), { algorithms: ['HS256'] });
  assert.deepEqual(protectedHeader, { alg: 'HS256', typ: 'JWT' });
  assert.deepEqual(Object.keys(payload).sort(), ['app_code', 'app_id', 'end_user_id', 'iss', 'sub']);
  assert.equal(payload['sub'], 'Web API Passport');
  assert.equal(payload['iss'], alpha.appId);
  const again = decodeJwt((await get(alpha.code, 'u1')).json().access_token as string);
  assert.equal(again['end_user_id'], payload['end_user_id']);
  assert.notEqual(
    decodeJwt((await get(beta.code, 'u1')).json().access_token as string)['end_user_id'],
    payload['end_user_id'],
  );
  const anon1 = decodeJwt((await get(alpha.code)).json().access_token as string)['end_user_id'];
  const anon2 = decodeJwt((await get(alpha.code)).json().access_token as string)['end_user_id'];
  assert.notEqual(anon1, anon2);
});

it('the passport cookie is read before X-App-Passport; a forged passport is refused', async (t) => {
  const s = standin();
  t.after(() => s.close());
  const tk = async (userId: string) =>
    (
      await s.app.inject({
        method: 'GET',
        url: `/api/passport?user_id=${userId}`,
        headers: { 'x-app-code': alpha.code },
      })
    ).json().access_token as string;
  const mine = await tk('me');
  const other = await tk('other');
  const post = (headers: Record<string, string>) =>
    s.app.inject({
      method: 'POST',
      url: '/api/chat-messages',
      headers: { 'content-type': 'application/json', 'x-app-code': alpha.code, ...headers },
      payload: { query: 'hi' },
    });
  assert.equal((await post({ 'x-app-passport': mine })).statusCode, 200);
  const site = (headers: Record<string, string>) =>
    s.app.inject({ method: 'GET', url: '/api/site', headers: { 'x-app-code': alpha.code, ...headers } });
  const viaCookie = (await site({ 'x-app-passport': mine, cookie: `passport-${alpha.code}=${other}` })).json();
  assert.equal(viaCookie.end_user_session_id, 'other');
  const [h, p] = mine.split('.');
  assert.equal((await site({ 'x-app-passport': `${h}.${p}.forged` })).statusCode, 401);
  assert.equal((await site({})).statusCode, 401);
});
