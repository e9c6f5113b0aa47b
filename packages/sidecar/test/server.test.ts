/**
 * The entry point: bad configuration exits non-zero before listening, listing every problem once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HostileOp } from './helpers/hostile-op.js';
import { SECRET } from './helpers/harness.js';

const SERVER = fileURLToPath(new URL('../src/server.ts', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/dify-sso-sidecar.js', import.meta.url));

function run(
  cmd: string[],
  env: Record<string, string>,
  until?: RegExp,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, cmd, {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (until?.test(stdout)) child.kill('SIGTERM');
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('bad config: exit 1 before listening, every problem listed once', async () => {
  const { code, stdout, stderr } = await run(['--import', 'tsx', SERVER], {
    DIFY_SSO_OIDC_ISSUER: 'http://idp.example.com',
    DIFY_SSO_STORE: 'mongo',
    DIFY_SSO_SESSION_SECRET: 'short',
  });
  assert.equal(code, 1);
  assert.equal(stdout.includes('Server listening'), false);
  assert.match(stderr, /ERR_CONFIG_INVALID|Invalid configuration \(\d+ problems\)/);
  const expected = [
    '"publicUrl" (DIFY_SSO_PUBLIC_URL) is required',
    '"store" (DIFY_SSO_STORE) must be one of: memory, redis',
    '"oidc.issuer" (DIFY_SSO_OIDC_ISSUER) must be an https URL (plain http needs DIFY_SSO_ALLOW_INSECURE_HTTP=true and a loopback host)',
    '"oidc.clientId" (DIFY_SSO_OIDC_CLIENT_ID) is required',
    '"session.secret" (DIFY_SSO_SESSION_SECRET) must be at least 32 characters',
    '"oidc.clientSecret" (DIFY_SSO_OIDC_CLIENT_SECRET) is required when oidc.clientAuthMethod=client_secret_basic',
  ];
  for (const line of expected) assert.equal(stderr.split(line).length - 1, 1, line);
  assert.match(stderr, /Invalid configuration \(6 problems\)/);
  assert.equal(stderr.includes('short'), false, 'secret values are not echoed');
});

test('bin shim starts the server from the environment (and warns loudly in insecure-http mode)', async (t) => {
  const op = await HostileOp.start();
  t.after(() => op.close());
  const { stdout, code } = await run(
    [BIN],
    {
      DIFY_SSO_OIDC_ISSUER: op.issuer,
      DIFY_SSO_OIDC_CLIENT_ID: op.clientId,
      DIFY_SSO_OIDC_CLIENT_SECRET: op.clientSecret,
      DIFY_SSO_PUBLIC_URL: 'http://127.0.0.1:18000',
      DIFY_SSO_SESSION_SECRET: SECRET,
      DIFY_SSO_ALLOW_INSECURE_HTTP: 'true',
      DIFY_SSO_LISTEN: '127.0.0.1:0',
    },
    /Server listening/,
  );
  assert.equal(code, 0);
  assert.match(stdout, /WARN_CONFIG_INSECURE_HTTP/);
  assert.match(stdout, /Server listening at http:\/\/127\.0\.0\.1:\d+/);
  assert.equal(stdout.includes(SECRET), false);
  assert.equal(stdout.includes(op.clientSecret), false);
});
