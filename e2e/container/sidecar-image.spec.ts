import { test, expect } from '@playwright/test';
import { detectEngine, runEngine } from '../../scripts/lib/podman.js';
import { sidecarContainerName, WEBAPP_POLICY_FILE } from '../../scripts/lib/stack.js';
import {
  SIDECAR_IMAGE,
  SIDECAR_IMAGE_SBOM_PATH,
  SIDECAR_IMAGE_UID,
  SIDECAR_VERSION,
} from '../../packages/sidecar/src/image.js';

// Runs only with DIFY_SSO_E2E_SIDECAR=container (project `sidecar-image`), while the stack's
// sidecar is the container of the image this repository builds: the scenarios in e2e/specs pass
// against it, and this file proves what that container is: non-root, read-only, without
// capabilities, no shell, the compiled JavaScript and nothing of tsx.

const engine = detectEngine();
const container = sidecarContainerName('sidecar');
const uid = String(SIDECAR_IMAGE_UID);

/** Runs node inside the running container (as the container's own user) and returns its result. */
async function nodeInside(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return runEngine(engine, ['exec', container, 'node', '-e', script]);
}

interface ContainerInspect {
  State: { Running: boolean };
  Config: { User: string; Image?: string };
  ImageName?: string;
  EffectiveCaps?: string[] | null;
  HostConfig: {
    ReadonlyRootfs: boolean;
    CapDrop?: string[] | null;
    CapAdd?: string[] | null;
    SecurityOpt?: string[] | null;
    Tmpfs?: Record<string, string> | null;
  };
  Mounts?: Array<{ Destination: string; Type: string; RW?: boolean }>;
}

test.describe('the containerised sidecar', () => {
  // Every check execs the engine a few times; on a loaded 2-core machine each exec takes seconds.
  test.describe.configure({ timeout: 180_000 });
  test('runs as the image user, read-only, with every capability dropped and no privilege gain (inspect)', async () => {
    const r = await runEngine(engine, ['container', 'inspect', container]);
    expect(r.code, r.stderr).toBe(0);
    const [c] = JSON.parse(r.stdout) as ContainerInspect[];
    expect(c!.State.Running).toBe(true);
    expect(c!.Config.User).toBe(`${uid}:${uid}`);
    expect(c!.HostConfig.ReadonlyRootfs).toBe(true);
    expect((c!.HostConfig.CapDrop ?? []).map((x) => x.toUpperCase())).toEqual(
      expect.arrayContaining([expect.stringMatching(/^(CAP_)?ALL$|^CAP_/)]),
    );
    expect(c!.HostConfig.CapAdd ?? []).toEqual([]);
    if (c!.EffectiveCaps !== undefined) expect(c!.EffectiveCaps ?? []).toEqual([]);
    expect((c!.HostConfig.SecurityOpt ?? []).join(',')).toMatch(/no-new-privileges/);
    expect(Object.keys(c!.HostConfig.Tmpfs ?? {}), 'no tmpfs: the image writes nothing').toEqual([]);
    // Nothing writable is mounted; the only bind mount is the web-app policy file, read-only.
    const mounts = c!.Mounts ?? [];
    expect(mounts.filter((m) => m.Type === 'tmpfs' || m.Type === 'volume' || m.RW !== false)).toEqual([]);
    expect(mounts.map((m) => m.Destination)).toEqual(mounts.length ? [WEBAPP_POLICY_FILE] : []);
  });

  test('process 1 is the compiled sidecar as uid 65532 with no capabilities and no_new_privs (/proc inside)', async () => {
    const r = await nodeInside(
      "const fs=require('fs');process.stdout.write(JSON.stringify({status:fs.readFileSync('/proc/1/status','utf8'),cmdline:fs.readFileSync('/proc/1/cmdline','utf8').split('\\0').filter(Boolean),environ:fs.readFileSync('/proc/1/environ','utf8').split('\\0').map((e)=>e.split('=')[0])}))",
    );
    expect(r.code, r.stderr).toBe(0);
    const { status, cmdline, environ } = JSON.parse(r.stdout) as {
      status: string;
      cmdline: string[];
      environ: string[];
    };
    const field = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
    expect(field('Uid').split(/\s+/)).toEqual([uid, uid, uid, uid]);
    expect(field('Gid').split(/\s+/)).toEqual([uid, uid, uid, uid]);
    for (const cap of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'])
      expect(field(cap), cap).toBe('0000000000000000');
    expect(field('NoNewPrivs')).toBe('1');
    // The compiled JavaScript, started by plain node: no loader, no TypeScript.
    expect(cmdline).toEqual(['node', '--max-semi-space-size=2', '--v8-pool-size=1', '/app/dist/server.js']);
    expect(environ).not.toContain('NODE_OPTIONS');
  });

  test('the root filesystem refuses writes everywhere, /tmp included, and there is nothing of tsx or TypeScript', async () => {
    const r = await nodeInside(
      "const fs=require('fs');const tryWrite=(p)=>{try{fs.writeFileSync(p,'x');return 'written'}catch(e){return e.code}};" +
        "const walk=(d)=>fs.readdirSync(d,{withFileTypes:true}).flatMap((e)=>e.isDirectory()?walk(d+'/'+e.name):[d+'/'+e.name]);" +
        "process.stdout.write(JSON.stringify({tmp:tryWrite('/tmp/probe'),app:tryWrite('/app/dist/probe.js'),home:tryWrite('/home/probe')," +
        "dist:walk('/app/dist').filter((f)=>/\\.(ts|tsx|mts|cts)$/.test(f)&&!f.endsWith('.d.ts')),server:fs.existsSync('/app/dist/server.js')," +
        "tsx:['tsx','esbuild','typescript','ts-morph','@esbuild'].filter((m)=>fs.existsSync('/app/node_modules/'+m))}))",
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      tmp: string;
      app: string;
      home: string;
      dist: string[];
      server: boolean;
      tsx: string[];
    };
    expect(out.tmp, 'a write to /tmp').toBe('EROFS');
    expect(out.app, 'a write next to the code').toBe('EROFS');
    expect(out.home).toBe('EROFS');
    expect(out.server).toBe(true);
    expect(out.dist, 'TypeScript sources in dist/').toEqual([]);
    expect(out.tsx, 'build-time packages in node_modules').toEqual([]);
  });

  test('has no shell and no package manager to exec', async () => {
    for (const argv of [
      ['sh', '-c', 'true'],
      ['/bin/sh', '-c', 'true'],
      ['bash', '-c', 'true'],
      ['apt-get', '--version'],
      ['dpkg', '--version'],
      ['npm', '--version'],
    ]) {
      const r = await runEngine(engine, ['exec', container, ...argv]);
      expect(r.code, `${argv[0]} ran in the container`).not.toBe(0);
    }
  });

  test('reports healthy through its own HEALTHCHECK', async () => {
    const r = await runEngine(
      engine,
      engine === 'podman' ? ['healthcheck', 'run', container] : ['exec', container, 'node', '/app/healthcheck.mjs'],
    );
    expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
  });

  test('carries the OCI labels and a CycloneDX SBOM of exactly its production dependencies', async () => {
    const r = await runEngine(engine, ['image', 'inspect', SIDECAR_IMAGE]);
    expect(r.code, r.stderr).toBe(0);
    // podman reports the Docker-format healthcheck next to the OCI config, docker inside it.
    const [img] = JSON.parse(r.stdout) as Array<{
      Config: { User: string; Labels: Record<string, string>; Healthcheck?: { Test: string[] } };
      Healthcheck?: { Test: string[] };
    }>;
    const labels = img!.Config.Labels;
    expect(labels['org.opencontainers.image.version']).toBe(SIDECAR_VERSION);
    expect(labels['org.opencontainers.image.licenses']).toBe('Apache-2.0');
    expect(labels['org.opencontainers.image.revision']).toMatch(/^[0-9a-f]{40}(-dirty)?$/);
    expect(labels['org.opencontainers.image.created']).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(labels['org.opencontainers.image.base.name']).toBeTruthy();
    expect(img!.Config.User).toBe(`${uid}:${uid}`);
    expect(img!.Config.Healthcheck?.Test ?? img!.Healthcheck?.Test).toEqual(['CMD', 'node', '/app/healthcheck.mjs']);

    const sbom = await nodeInside(
      `process.stdout.write(require('fs').readFileSync(${JSON.stringify(SIDECAR_IMAGE_SBOM_PATH)},'utf8'))`,
    );
    expect(sbom.code, sbom.stderr).toBe(0);
    const doc = JSON.parse(sbom.stdout) as {
      bomFormat: string;
      metadata: { component: { name: string; version: string } };
      components: Array<{ name: string; purl: string }>;
    };
    expect(doc.bomFormat).toBe('CycloneDX');
    expect(doc.metadata.component).toMatchObject({ name: '@dify-sso-kit/sidecar', version: SIDECAR_VERSION });
    const names = doc.components.map((c) => c.name);
    for (const dep of ['fastify', 'openid-client', 'jose', 'ioredis', 'pino']) expect(names).toContain(dep);
    for (const dev of ['tsx', 'typescript', 'ts-morph', '@playwright/test', 'oidc-provider', 'esbuild'])
      expect(names).not.toContain(dev);
    // The SBOM lists what is installed, and the image has what the SBOM lists.
    const listed = await nodeInside(
      `const fs=require('fs');const s=JSON.parse(fs.readFileSync(${JSON.stringify(SIDECAR_IMAGE_SBOM_PATH)},'utf8'));process.stdout.write(JSON.stringify(s.components.filter((c)=>!fs.existsSync('/app/node_modules/'+c.name)).map((c)=>c.name)))`,
    );
    expect(JSON.parse(listed.stdout)).toEqual([]);
  });
});
