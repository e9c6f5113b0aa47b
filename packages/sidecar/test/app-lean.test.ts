/**
 * What the app leaves unloaded (issue 14, memory): fastify's schema compilers (Ajv,
 * fast-json-stringify) — no route declares a schema, and one that does is refused at
 * registration — and the YAML parser until a YAML web-app policy is read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { HostileOp } from './helpers/hostile-op.js';
import { makeApp } from './helpers/harness.js';

const loaded = (re: RegExp) => Object.keys(createRequire(import.meta.url).cache).filter((p) => re.test(p));

test('a built and ready app has not loaded Ajv, the fast-json-stringify compiler or the YAML parser', async (t) => {
  const op = await HostileOp.start();
  t.after(() => op.close());
  const a = await makeApp(op);
  t.after(() => a.app.close());
  // fastify itself loads fast-json-stringify's small serializer runtime for its error replies.
  assert.deepEqual(
    loaded(/node_modules\/(ajv|ajv-formats|@fastify\/ajv-compiler|@fastify\/fast-json-stringify-compiler)\//),
    [],
  );
  assert.deepEqual(loaded(/node_modules\/fast-json-stringify\/index\.js$/), []);
  assert.deepEqual(loaded(/node_modules\/yaml\//), []);
  // The app still answers JSON.
  const r = await a.app.inject({ method: 'GET', url: '/sso/health/live' });
  assert.equal(r.statusCode, 200);
  assert.deepEqual(r.json(), { status: 'ok' });
});

test('a route that declares a fastify schema is refused at registration', async (t) => {
  const op = await HostileOp.start();
  t.after(() => op.close());
  await assert.rejects(
    makeApp(op, {}, {}, (app) => {
      app.post('/sso/test-schema', { schema: { body: { type: 'object' } } }, async () => ({ ok: true }));
    }),
    /declare no fastify schemas/,
  );
  await assert.rejects(
    makeApp(op, {}, {}, (app) => {
      app.get(
        '/sso/test-schema',
        { schema: { response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } } } },
        async () => ({ ok: true }),
      );
    }),
    /declare no fastify schemas/,
  );
});
