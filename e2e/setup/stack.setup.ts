import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test as setup, expect } from '@playwright/test';
import { runDir } from '../../scripts/lib/paths.js';
import { httpOk } from '../../scripts/lib/proc.js';
import { daemonAlive, startStack, stopStackDaemons, type StackInfo } from '../../scripts/lib/stack.js';
import { stackFile } from '../support/target.js';

/**
 * The kit's stack for the specs (after services.setup.ts: Redis and Keycloak are up):
 * Dify stand-in, sidecar and nginx, started as daemons; e2e/.auth/stack.json records what was
 * started so that stack.teardown.ts stops exactly that. Against a deployment (E2E_BASE_URL)
 * nothing is started. A stack left running by `npm run stack -- start` is reused as it is.
 */
setup('kit stack is up (stand-in, sidecar, nginx)', async () => {
  setup.setTimeout(180_000);
  if (process.env.E2E_BASE_URL) {
    rmSync(stackFile, { force: true });
    return;
  }
  // Leftovers of an interrupted run of this suite: stop what that run started.
  if (existsSync(stackFile)) {
    const old = JSON.parse(readFileSync(stackFile, 'utf8')) as StackInfo & { reused?: boolean };
    if (!old.reused) await stopStackDaemons(old.started.filter(daemonAlive));
    rmSync(stackFile, { force: true });
  }
  mkdirSync(dirname(stackFile), { recursive: true });
  const manual = join(runDir(), 'stack.json');
  let info: StackInfo & { reused?: boolean };
  if (
    existsSync(manual) &&
    (await httpOk(`${(JSON.parse(readFileSync(manual, 'utf8')) as StackInfo).publicUrl}/sso/health/live`))
  ) {
    info = { ...(JSON.parse(readFileSync(manual, 'utf8')) as StackInfo), started: [], reused: true };
    console.log('stack: reusing the stack of npm run stack');
  } else {
    // Short liveness interval: scenario 6 (a disabled user's session ends at the next check).
    const stack = await startStack({ idp: 'keycloak', daemon: true, log: (m) => console.log(m), livenessSeconds: 2 });
    info = stack.info;
  }
  writeFileSync(stackFile, JSON.stringify(info, null, 2), { mode: 0o600 });
  expect(await httpOk(`${info.publicUrl}/sso/health/ready`)).toBe(true);
});
