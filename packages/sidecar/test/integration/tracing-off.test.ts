/**
 * Tracing off (the default) loads no OpenTelemetry module at all: the gate's memory does not
 * grow by the SDK. A child process records every module it loads while it signs a user in,
 * checks the session and takes a back-channel logout; the same run with an endpoint set proves
 * that the recording sees the OpenTelemetry modules when they are loaded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./fixtures/loaded-modules.ts', import.meta.url));

function run(endpoint: string): Promise<{ ok: boolean; loaded: string[] }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CHILD, endpoint],
      { env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: '' }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`child failed: ${stderr}`));
        resolve(JSON.parse(stdout) as { ok: boolean; loaded: string[] });
      },
    );
  });
}

const otel = (urls: string[]) => urls.filter((u) => u.includes('/@opentelemetry/'));

test('tracing off: no @opentelemetry module is loaded during sign-in, session checks and back-channel logout', async () => {
  const off = await run('off');
  assert.equal(off.ok, true, 'the child signed in and was logged out');
  assert.ok(
    off.loaded.some((u) => u.includes('/node_modules/fastify/')),
    'the module recording works (fastify seen)',
  );
  assert.ok(
    off.loaded.some((u) => u.endsWith('/src/lib/tracing.ts')),
    'the tracing module itself is loaded',
  );
  assert.deepEqual(otel(off.loaded), []);
});

test('tracing on: the OpenTelemetry SDK and exporter are loaded (the recording sees them)', async () => {
  const on = await run('http://127.0.0.1:9/v1/traces');
  assert.equal(on.ok, true);
  const names = new Set(otel(on.loaded).map((u) => /\/@opentelemetry\/([^/]+)\//.exec(u)?.[1]));
  for (const p of ['api', 'sdk-trace', 'exporter-trace-otlp-http', 'context-async-hooks'])
    assert.ok(names.has(p), `@opentelemetry/${p} loaded`);
});
