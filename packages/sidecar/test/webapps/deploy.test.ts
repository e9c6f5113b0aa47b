/** `dify-sso deploy --gate-web-apps --webapp-policy <file>` (issue 12). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deployMain } from '../../src/deploy/cli.js';
import { renderDeployment } from '../../src/deploy/compose.js';
import { tempDir } from '../gate/nginx-helpers.js';

const fixtures = fileURLToPath(new URL('../gate/__fixtures__/', import.meta.url));

function dockerDir(): string {
  const dir = tempDir();
  cpSync(join(fixtures, 'dify-1.12', 'docker'), dir, { recursive: true });
  return dir;
}

test('deploy with a web-app policy: validated, copied, mounted read-only, env set, /api/passport routed to the sidecar', () => {
  const dir = dockerDir();
  const policy = join(tempDir(), 'apps.yaml');
  writeFileSync(policy, 'default: authenticated\napps:\n  Abc123: public\n');
  const r = renderDeployment({ difyDockerDir: dir, image: 'x/y:1', gateWebApps: true, webAppPolicy: policy });
  assert.equal(r.files['sso/webapp-policy.yaml'], readFileSync(policy, 'utf8'));
  const override = r.files['docker-compose.override.yaml'] as string;
  assert.match(override, /DIFY_SSO_GATE_WEB_APPS: "true"/);
  assert.match(override, /DIFY_SSO_GATE_WEB_APP_POLICY: "\/etc\/dify-sso\/webapp-policy\.yaml"/);
  assert.match(override, /- \.\/sso\/webapp-policy\.yaml:\/etc\/dify-sso\/webapp-policy\.yaml:ro/);
  const nginx = r.files['sso/nginx/conf.d/default.conf.template'] as string;
  assert.match(nginx, /location = \/api\/passport \{\n\s+proxy_pass http:\/\/dify_sso_sidecar;/);
  const plain = renderDeployment({ difyDockerDir: dir, image: 'x/y:1', gateWebApps: true });
  assert.doesNotMatch(plain.files['sso/nginx/conf.d/default.conf.template'] as string, /\/api\/passport/);
  assert.doesNotMatch(plain.files['docker-compose.override.yaml'] as string, /WEB_APP_POLICY/);
});

test('deploy refuses an invalid policy (ERR_CONFIG_WEBAPP_POLICY) and --webapp-policy without --gate-web-apps', async () => {
  const dir = dockerDir();
  const policy = join(tempDir(), 'apps.json');
  writeFileSync(policy, '{"default": "nobody"}');
  const out: string[] = [];
  const io = { out: (s: string) => void out.push(s), err: (s: string) => void out.push(s) };
  assert.equal(
    await deployMain(['--dify-docker', dir, '--gate-web-apps', '--webapp-policy', policy, '--dry'], io as never, {}),
    1,
  );
  assert.match(out.join(''), /ERR_CONFIG_WEBAPP_POLICY/);
  out.length = 0;
  assert.equal(await deployMain(['--dify-docker', dir, '--webapp-policy', policy, '--dry'], io as never, {}), 2);
  assert.match(out.join(''), /--webapp-policy needs --gate-web-apps/);
});
