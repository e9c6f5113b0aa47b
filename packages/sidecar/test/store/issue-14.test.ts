/**
 * Issue 14 item 2: at most one Redis round trip per gate decision, counted on a dedicated
 * redis-server with `MONITOR` (every command a client sends; commands a script runs are listed
 * with source `lua` and are not round trips). The full bridge decides `/sso/auth` with the Redis
 * store on that server; Dify's Redis is the shared test Redis (DIFY_SSO_TEST_REDIS_URL). The
 * app's clock is injected so that "a minute later" needs no sleep.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { createRedisStore } from '../../src/store/redis.js';
import type { SessionRecord, SessionStore } from '../../src/store/types.js';
import { cookieHeader, login, type Jar } from '../helpers/harness.js';
import { HostileOp } from '../helpers/hostile-op.js';
import { StandaloneRedis } from '../helpers/redis-procs.js';
import { USERS, bridgeEnv, setCookieValue, startStandin, type Standin } from '../dify/helpers.js';

/** Client commands seen by MONITOR, cut into windows by a marker command. */
class CommandLog {
  private lines: { args: string[]; source: string }[] = [];
  private waiters: { marker: string; resolve: () => void }[] = [];
  private constructor(
    private readonly base: Redis,
    private readonly monitor: Redis,
    private readonly marker: Redis,
  ) {
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      this.lines.push({ args, source });
      const w = this.waiters.find((x) => args[0]?.toLowerCase() === 'echo' && args[1] === x.marker);
      if (w) w.resolve();
    });
  }

  static async start(url: string): Promise<CommandLog> {
    const base = new Redis(url);
    const monitor = await base.monitor();
    const marker = new Redis(url);
    await marker.ping();
    const log = new CommandLog(base, monitor as Redis, marker);
    await log.window();
    return log;
  }

  /** Client commands since the previous call (markers and script-internal commands left out). */
  async window(): Promise<string[]> {
    const marker = `mark-${randomBytes(6).toString('hex')}`;
    const seen = new Promise<void>((resolve) => this.waiters.push({ marker, resolve }));
    await this.marker.echo(marker);
    await seen;
    const out = this.lines
      .filter(
        (l) =>
          l.source !== 'lua' &&
          !(l.args[0]?.toLowerCase() === 'echo' && /^mark-/.test(l.args[1] ?? '')) &&
          l.args[0]?.toLowerCase() !== 'ping',
      )
      .map((l) => l.args[0]!.toLowerCase());
    this.lines = [];
    return out;
  }

  close(): void {
    this.monitor.disconnect();
    this.marker.disconnect();
    this.base.disconnect();
  }
}

let op: HostileOp;
let standin: Standin;
let redis: StandaloneRedis;
let b: { app: FastifyInstance };
let offset = 0;
let store: SessionStore;
let raw: Redis;
let cmds: CommandLog;
const prefix = `rt-${randomBytes(4).toString('hex')}:`;
before(async () => {
  op = await HostileOp.start();
  standin = await startStandin();
  redis = await StandaloneRedis.start();
  const config = loadConfig(
    bridgeEnv(op, standin, {
      DIFY_SSO_STORE: 'redis',
      DIFY_SSO_REDIS_URL: redis.url,
      DIFY_SSO_REDIS_KEY_PREFIX: prefix,
    }),
  );
  b = { app: buildApp(config, { now: () => Date.now() + offset, logStream: { write: () => {} } }) };
  await b.app.ready();
  store = createRedisStore({ url: redis.url, keyPrefix: prefix });
  raw = new Redis(redis.url);
  cmds = await CommandLog.start(redis.url);
});
after(async () => {
  cmds?.close();
  raw?.disconnect();
  await store?.close();
  await b?.app.close();
  await standin?.close();
  await op?.close();
  await redis?.stop();
});

function auth(app: FastifyInstance, cookie: string) {
  return app.inject({
    method: 'GET',
    url: '/sso/auth',
    remoteAddress: '127.0.0.1',
    headers: {
      'x-original-uri': '/console/api/account/profile',
      'x-original-method': 'GET',
      'x-forwarded-for': '192.0.2.7',
      cookie,
    },
  });
}

/** Signs alice in; returns the gate's cookie header and her session's store id. */
async function signIn(): Promise<{ cookie: string; id: string }> {
  const { callbackRes, jar } = await login(b.app, op, { user: USERS.alice });
  const access = setCookieValue(callbackRes.headers['set-cookie'], 'access_token') as string;
  const kit: Jar = new Map([...jar].filter(([k]) => /dify_sso$/.test(k)));
  const id = b.app.sso.sessions.sessionIdOf({ cookies: Object.fromEntries(kit) } as never) as string;
  assert.ok(id);
  return { cookie: `${cookieHeader(kit)}; access_token=${access}`, id };
}

const sessionKey = (id: string) => `${prefix}session:${id}`;

/** Exactly one command reached Redis in `window`. */
function oneCommand(window: string[], what: string): void {
  assert.equal(window.length, 1, `${what}: one command, got ${JSON.stringify(window)}`);
}

test('a gate decision with a live session costs Redis one command, also when last-seen is due', async () => {
  offset = 0;
  const s = await signIn();
  await cmds.window();

  const res = await auth(b.app, s.cookie);
  assert.equal(res.statusCode, 204);
  assert.deepEqual(await cmds.window(), ['get'], 'read of a recently seen session: one plain GET');

  // Two minutes later the last-seen touch is due: it rides on the same command (the script).
  const before = (await store.get(s.id)) as SessionRecord;
  await cmds.window();
  offset = 120_000;
  const t = Date.now() + offset;
  assert.equal((await auth(b.app, s.cookie)).statusCode, 204);
  oneCommand(await cmds.window(), 'read + last-seen touch');
  const after = (await store.get(s.id)) as SessionRecord;
  assert.ok(after.lastSeenAt >= t, 'last-seen moved to the time of the decision');
  assert.deepEqual({ ...after, lastSeenAt: 0 }, { ...before, lastSeenAt: 0 }, 'nothing else of the record changed');
  assert.ok((await raw.pttl(sessionKey(s.id))) > 3600_000, 'the touch keeps the record TTL');

  // Many decisions, still one command each (plain GETs: the touch is not due again for a minute).
  await cmds.window();
  for (let i = 0; i < 5; i++) assert.equal((await auth(b.app, s.cookie)).statusCode, 204);
  assert.deepEqual(await cmds.window(), Array(5).fill('get'), 'five decisions, five commands');

  // Another writer set an older last-seen: the read shows the touch due, the script follows (two commands, rare).
  await store.update(s.id, { lastSeenAt: Date.now() + offset - 120_000 });
  await cmds.window();
  assert.equal((await auth(b.app, s.cookie)).statusCode, 204);
  assert.equal((await cmds.window()).length, 2);
  assert.ok(((await store.get(s.id)) as SessionRecord).lastSeenAt >= t);
});

test('an idle-expired session is refused and deleted, never revived by the touch', async () => {
  offset = 0;
  const s = await signIn();
  const idleMs = b.app.sso.config.session.idleTimeoutSeconds * 1000;
  await store.update(s.id, { lastSeenAt: Date.now() - idleMs - 1000 });
  const res = await auth(b.app, s.cookie);
  assert.equal(res.statusCode, 401);
  assert.equal(await raw.exists(sessionKey(s.id)), 0);
  assert.equal((await auth(b.app, s.cookie)).statusCode, 401);
});

test('a record stored in the earlier member order still passes, and its touch rewrites it in the new order', async () => {
  offset = 0;
  const s = await signIn();
  const record = (await store.get(s.id)) as SessionRecord;
  const { id, lastSeenAt: _seen, ...rest } = record;
  // The layout before issue 14: `id` first, `lastSeenAt` in the middle.
  await raw.set(sessionKey(s.id), JSON.stringify({ id, ...rest, lastSeenAt: Date.now() - 120_000 }), 'KEEPTTL');
  const t = Date.now();
  assert.equal((await auth(b.app, s.cookie)).statusCode, 204);
  const stored = (await raw.get(sessionKey(s.id))) as string;
  assert.match(stored, /^\{"lastSeenAt":\d+,/);
  assert.ok((JSON.parse(stored) as SessionRecord).lastSeenAt >= t);
  await cmds.window();
  assert.equal((await auth(b.app, s.cookie)).statusCode, 204);
  oneCommand(await cmds.window(), 'read after the rewrite');
});
