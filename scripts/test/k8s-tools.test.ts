// scripts/lib/k8s-tools.ts: the offline schema generation (strict objects, Kubernetes' special
// formats, file names kubeconform looks up) and the Go lookup's failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../lib/paths.js';
import { generateSchemas } from '../lib/k8s-tools.js';

test('generateSchemas: one strict schema per group/version/kind, refs into _definitions.json, int-or-string and quantity', () => {
  const out = mkdtempSync(join(tmpdir(), 'k8s-schemas-'));
  try {
    const swagger = {
      definitions: {
        'io.k8s.api.apps.v1.Deployment': {
          type: 'object',
          properties: {
            apiVersion: { type: 'string' },
            spec: { $ref: '#/definitions/io.k8s.api.apps.v1.DeploymentSpec' },
          },
          'x-kubernetes-group-version-kind': [{ group: 'apps', version: 'v1', kind: 'Deployment' }],
        },
        'io.k8s.api.apps.v1.DeploymentSpec': { type: 'object', properties: { replicas: { type: 'integer' } } },
        'io.k8s.api.core.v1.Service': {
          type: 'object',
          properties: {},
          'x-kubernetes-group-version-kind': [{ group: '', version: 'v1', kind: 'Service' }],
        },
        'io.k8s.api.networking.v1.NetworkPolicy': {
          type: 'object',
          properties: {},
          'x-kubernetes-group-version-kind': [{ group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' }],
        },
        'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { type: 'string', format: 'int-or-string' },
        'io.k8s.apimachinery.pkg.api.resource.Quantity': { type: 'string', format: 'quantity' },
        'free.form': {
          type: 'object',
          properties: { a: { type: 'string' } },
          'x-kubernetes-preserve-unknown-fields': true,
        },
      },
    };
    const crd = {
      spec: {
        group: 'monitoring.coreos.com',
        names: { kind: 'ServiceMonitor' },
        versions: [
          {
            name: 'v1',
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: { spec: { type: 'object', properties: { endpoints: { type: 'array' } } } },
              },
            },
          },
        ],
      },
    };
    assert.equal(generateSchemas(swagger, [crd], out), 4);
    assert.deepEqual(readdirSync(out).sort(), [
      '_definitions.json',
      'deployment-apps-v1.json',
      'networkpolicy-networking-v1.json',
      'service-v1.json',
      'servicemonitor-monitoring-v1.json',
    ]);
    const dep = JSON.parse(readFileSync(join(out, 'deployment-apps-v1.json'), 'utf8'));
    assert.equal(dep.additionalProperties, false);
    assert.equal(dep.properties.spec.$ref, '_definitions.json#/definitions/io.k8s.api.apps.v1.DeploymentSpec');
    const defs = JSON.parse(readFileSync(join(out, '_definitions.json'), 'utf8')).definitions;
    assert.equal(defs['io.k8s.api.apps.v1.DeploymentSpec'].additionalProperties, false);
    assert.deepEqual(defs['io.k8s.apimachinery.pkg.util.intstr.IntOrString'], {
      oneOf: [{ type: 'string' }, { type: 'integer' }],
    });
    assert.deepEqual(defs['io.k8s.apimachinery.pkg.api.resource.Quantity'], {
      format: 'quantity',
      oneOf: [{ type: 'string' }, { type: 'number' }],
    });
    assert.equal(defs['free.form'].additionalProperties, undefined, 'preserve-unknown-fields stays open');
    const sm = JSON.parse(readFileSync(join(out, 'servicemonitor-monitoring-v1.json'), 'utf8'));
    assert.equal(sm.properties.spec.additionalProperties, false);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('a DIFY_SSO_GO that does not work fails with ERR_ENV_NO_GO and the fix (no silent fallback)', () => {
  const code = `
    import { formatError } from './scripts/lib/proc.ts';
    import { findGo } from './scripts/lib/k8s-tools.ts';
    try { findGo(); } catch (err) { process.stderr.write(formatError(err) + '\\n'); process.exit(1); }`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: repoRoot,
    env: { ...process.env, DIFY_SSO_GO: join(tmpdir(), 'no-go-here', 'go') },
    encoding: 'utf8',
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /error ERR_ENV_NO_GO: DIFY_SSO_GO=.*no-go-here\/go does not run `go version`/);
  assert.match(r.stderr, /fix: point DIFY_SSO_GO at a Go 1\.24\+ `go` binary/);
});
