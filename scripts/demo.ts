/**
 * npm run demo: the whole local stack in the foreground — Keycloak when provisioned (else the
 * embedded demo OP), the Dify stand-in, the sidecar and nginx as the front door — then the URL
 * to open and the test users. The console shows the kit's patched sign-in page (the console
 * plugin's components: readable SSO messages); `--stock` shows Dify's stock page instead.
 * Ctrl-C, or SIGINT/SIGTERM/SIGHUP sent to npm or to this process, stops everything it started;
 * so does the end of the parent (npm killed outright).
 *
 * Options: --idp keycloak|embedded|auto (default auto), --stock.
 *
 * npm run stack -- start|stop|status [--idp …]: the same stack as daemons (for working on the
 * e2e specs or the stand-in): `start` leaves it running and records what it started, `stop`
 * stops exactly that (a Redis or Keycloak that was already running is left alone).
 * `start --liveness 2` sets the sidecar's liveness interval as the e2e setup does (default 60 s).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runDir } from './lib/paths.js';
import { formatError, say } from './lib/proc.js';
import { realmUsers } from './lib/demo-op.js';
import {
  daemonAlive,
  startStack,
  stopStackDaemons,
  type IdpChoice,
  type StackInfo,
  type WebVariant,
} from './lib/stack.js';

const stackFile = (): string => join(runDir(), 'stack.json');

function idpArg(argv: string[]): IdpChoice {
  const i = argv.indexOf('--idp');
  const value = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--idp='))?.slice(6);
  if (value === undefined) return 'auto';
  if (value === 'keycloak' || value === 'embedded' || value === 'auto') return value;
  throw new TypeError(`--idp must be keycloak, embedded or auto (got ${value})`);
}

function printUsers(): void {
  const users = realmUsers();
  const width = Math.max(...users.map((u) => u.username.length));
  say('  users (password, groups):');
  for (const u of users) {
    const notes = [
      u.groups.length ? u.groups.join(', ') : 'no group: denied',
      u.enabled ? '' : 'disabled',
      u.emailVerified ? '' : 'e-mail not verified',
    ]
      .filter(Boolean)
      .join('; ');
    say(`    ${u.username.padEnd(width)}  ${u.password}  (${notes})`);
  }
}

/** --stock: Dify's stock sign-in page; else `fallback` (the demo: the kit's patched page). */
function variantArg(argv: string[], fallback: WebVariant): WebVariant {
  if (argv.includes('--stock')) return 'stock';
  if (argv.includes('--plugin')) return 'plugin';
  return fallback;
}

/** --liveness N: the sidecar's liveness refresh interval (default 60 s; the e2e stack uses 2 s). */
function livenessArg(argv: string[]): number {
  const i = argv.indexOf('--liveness');
  if (i < 0) return 60;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 0) throw new TypeError(`--liveness must be a number of seconds (got ${argv[i + 1]})`);
  return n;
}

async function stackCommand(command: string, argv: string[]): Promise<void> {
  const file = stackFile();
  const recorded = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as StackInfo) : undefined;
  if (command === 'status') {
    if (!recorded) say('stack: not started by npm run stack');
    else for (const name of recorded.started) say(`stack: ${name} ${daemonAlive(name) ? 'running' : 'not running'}`);
    return;
  }
  if (command === 'stop') {
    if (!recorded) return say('stack: nothing to stop');
    await stopStackDaemons(recorded.started);
    rmSync(file, { force: true });
    return say(`stack: stopped ${recorded.started.join(', ') || 'nothing (all reused)'}`);
  }
  if (recorded?.started.some(daemonAlive))
    throw new TypeError('the stack is already running (npm run stack -- stop first)');
  const stack = await startStack({
    idp: idpArg(argv),
    daemon: true,
    log: (m) => say(`  ${m}`),
    livenessSeconds: livenessArg(argv),
    webVariant: variantArg(argv, 'stock'),
  });
  mkdirSync(runDir(), { recursive: true });
  writeFileSync(file, JSON.stringify(stack.info, null, 2), { mode: 0o600 });
  say(`stack: running; open ${stack.info.signinUrl} (details: ${file}); stop with: npm run stack -- stop`);
  printUsers();
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const command = argv[0];
  if (command === 'start' || command === 'stop' || command === 'status') return stackCommand(command, argv.slice(1));
  const idp = idpArg(argv);
  const webVariant = variantArg(argv, 'plugin');
  // A signal while the stack is still starting: proc.ts's own hooks stop what has started so far.
  const parent = process.ppid;
  say(`demo: starting the local stack (IdP: ${idp})`);
  const stack = await startStack({ idp, daemon: false, log: (m) => say(`  ${m}`), livenessSeconds: 60, webVariant });
  const { info } = stack;
  say('');
  say(`demo: ready. Open ${info.signinUrl}`);
  say(
    webVariant === 'plugin'
      ? "  sign-in page: the kit's patched page (console plugin); Dify's stock page: npm run demo -- --stock"
      : "  sign-in page: Dify's stock page (--stock); the kit's patched page: npm run demo",
  );
  say(`  identity provider: ${info.idp === 'keycloak' ? 'Keycloak' : 'embedded demo OP'} (${info.issuer})`);
  printUsers();
  say('  dify-admins → Dify admin, dify-editors → Dify editor; password login and registration are closed.');
  say(
    `  logs: ${
      Object.values(info.logs)
        .filter(Boolean)[0]
        ?.replace(/\/[^/]+$/, '') ?? ''
    }`,
  );
  say('Press Ctrl-C to stop.');
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    say('\ndemo: stopping');
    void stack.stop().then(() => process.exit(0));
  };
  // Our own handlers run before proc.ts's generic ones, so the stop is orderly.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.prependListener(sig, shutdown);
  // npm forwards SIGINT/SIGTERM to its child; should the parent end without passing a signal on
  // (npm or its shell killed outright), this process is re-parented: stop then too.
  const watch = setInterval(() => {
    if (process.ppid !== parent) shutdown();
  }, 1000);
  watch.unref();
  await new Promise(() => undefined);
}

main().catch((err: unknown) => {
  process.stderr.write(`${formatError(err)}\n`);
  process.exit(1);
});
