/**
 * A throwaway kit next to the shared stack, for specs that must not disturb it: its own IdP (the
 * embedded demo OP on a free port, which the spec may kill), its own sidecar (own Redis key
 * prefix) and — in auth_request mode — its own nginx, all in front of the shared Dify stand-in.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { repoRoot } from '../../scripts/lib/paths.js';
import { httpOk, startService, waitUntil, type Service } from '../../scripts/lib/proc.js';
import { freePort, startFrontDoor, startSidecar, type StackInfo } from '../../scripts/lib/stack.js';
import { HOST, ports } from '../../scripts/lib/ports.js';

export interface ThrowawayKit {
  publicUrl: string;
  issuer: string;
  /** Key prefix of this kit's store in Redis (deleted by `stop`). */
  keyPrefix: string;
  op: Service;
  sidecar: Service;
  nginx?: Service;
  /** Kills the IdP (idempotent) and checks that it no longer answers. */
  idpDown(): Promise<void>;
  stop(): Promise<void>;
}

export async function startThrowawayKit(
  stack: StackInfo,
  opts: { name: string; mode: 'authrequest' | 'proxy' },
): Promise<ThrowawayKit> {
  const [opPort, sidecarPort, frontPort] = [await freePort(), await freePort(), await freePort()];
  const publicUrl = `http://${HOST}:${opts.mode === 'proxy' ? sidecarPort : frontPort}`;
  const issuer = `http://${HOST}:${opPort}`;
  // A new issuer (port) every run: the kit rightly refuses to link a Dify account already linked
  // to another identity, so each run gets its own store.
  const keyPrefix = `dify-sso:${opts.name}:${randomBytes(4).toString('hex')}:`;
  const authRequestSecret = randomBytes(24).toString('hex');
  const started: Service[] = [];
  const stop = async (): Promise<void> => {
    for (const s of [...started].reverse()) await s.stop();
    const redis = new Redis(stack.redisUrl, { maxRetriesPerRequest: 1 });
    try {
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
    } finally {
      await redis.quit();
    }
  };
  try {
    const op = startService({
      name: `${opts.name}-op`,
      command: process.execPath,
      args: ['--import', 'tsx', 'e2e/support/throwaway-op.ts', String(opPort), publicUrl],
      cwd: repoRoot,
    });
    started.push(op);
    await waitUntil(`${opts.name} IdP`, () => httpOk(`${issuer}/.well-known/openid-configuration`), {
      timeoutMs: 30_000,
      service: op,
    });
    const sidecar = await startSidecar({
      name: `${opts.name}-sidecar`,
      port: sidecarPort,
      publicUrl,
      issuer,
      apiUrl: stack.standinApiUrl,
      webUrl: stack.standinWebUrl,
      adminApiKey: stack.adminApiKey,
      workspaceId: stack.workspaceId,
      redisUrl: stack.redisUrl,
      sessionKeyPrefix: keyPrefix,
      livenessSeconds: 0,
      daemon: false,
      idp: 'embedded',
      authRequestSecret,
      env: { DIFY_SSO_GATE_MODE: opts.mode },
    });
    started.push(sidecar);
    let nginx: Service | undefined;
    if (opts.mode === 'authrequest') {
      nginx = await startFrontDoor({
        name: `${opts.name}-nginx`,
        port: frontPort,
        sidecarPort,
        apiPort: ports.standinApi,
        webPort: ports.standinWeb,
        daemon: false,
        authRequestSecret,
      });
      started.push(nginx);
    }
    return {
      publicUrl,
      issuer,
      keyPrefix,
      op,
      sidecar,
      ...(nginx ? { nginx } : {}),
      async idpDown() {
        await op.stop();
        if (await httpOk(`${issuer}/.well-known/openid-configuration`))
          throw new Error('the throwaway IdP still answers');
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
