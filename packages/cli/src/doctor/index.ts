/**
 * `dify-sso doctor --url <front door>`: checks a running deployment from the outside, the way
 * a browser sees it, and prints per check ok or what is wrong plus the fix. Exit 0 only when
 * every check passes.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import type { CommandEnv, CommandIo } from '../commands.js';
import {
  checkCookies,
  checkFrontDoor,
  checkGate,
  checkPasswordLogin,
  checkReady,
  checkSystemFeatures,
  checkVersion,
  CHECK_NAMES,
  type CheckResult,
  type Probe,
} from './checks.js';

export const DOCTOR_USAGE = `Usage: dify-sso doctor --url <front door> [options]

Checks a running deployment from the outside: front door reachable, /sso/health/ready answering,
the gate answering the console API, the Dify version supported, password login refused,
system-features saying SSO-only, and (on https) the kit's cookies __Host-/Secure. Prints ok or
what is wrong plus the fix per check; exit 0 only when every check passes.

Options:
  --url URL            the front door, as users open it (DIFY_SSO_PUBLIC_URL), e.g. https://dify.example.com
  --allow-http         accept a plain-http front door (a local development stack only)
  --timeout SECONDS    per request (default 10)
  -h, --help           show this help
`;

/** The most of an answer's body the doctor keeps (error bodies are small JSON). */
const MAX_BODY = 16 * 1024;

async function probe(url: string, init: RequestInit, timeoutSeconds: number): Promise<Probe> {
  try {
    const res = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutSeconds * 1000) });
    const body = (await res.text()).slice(0, MAX_BODY);
    return { ok: true, answer: { status: res.status, headers: res.headers, body } };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const reason =
      e.name === 'TimeoutError'
        ? `no answer within ${timeoutSeconds} s`
        : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { ok: false, error: reason };
  }
}

function usageError(io: CommandIo, message: string): 2 {
  io.err(`dify-sso doctor: error ERR_INVALID_ARG_VALUE ${message}\n`);
  io.err('fix: see dify-sso doctor --help\n');
  return 2;
}

/** Runs every check against `base` (an http(s) origin, optionally with a path prefix). */
export async function runChecks(
  base: URL,
  options: { allowHttp: boolean; timeoutSeconds: number },
): Promise<CheckResult[]> {
  const root = base.href.replace(/\/$/, '');
  const get = (path: string, init: RequestInit = {}) => probe(`${root}${path}`, init, options.timeoutSeconds);
  const front = checkFrontDoor(base.href, await get('/'));
  if (front.status === 'fail') {
    const skipped = Object.values(CHECK_NAMES).filter((n) => n !== front.name);
    return [
      front,
      ...skipped.map(
        (name): CheckResult => ({ name, status: 'skip', detail: 'not run: the front door is unreachable' }),
      ),
    ];
  }
  const ready = checkReady(await get('/sso/health/ready'));
  const gate = checkGate(await get('/console/api/account/profile', { headers: { accept: 'application/json' } }));
  const features = await get('/console/api/system-features', { headers: { accept: 'application/json' } });
  const version = checkVersion(features);
  // An empty JSON body: if the gate is missing, Dify refuses it as invalid input (no login attempt).
  const password = checkPasswordLogin(
    await get('/console/api/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: '{}',
    }),
  );
  const sso = checkSystemFeatures(features);
  const cookies = checkCookies(base, await get('/sso/login'), { allowHttp: options.allowHttp });
  return [front, ready, gate, version, password, sso, cookies];
}

/** Formats one result: `  ok    name: detail`, failures with an indented `fix:` line. */
export function formatResult(r: CheckResult): string {
  const mark = r.status === 'ok' ? 'ok  ' : r.status === 'fail' ? 'FAIL' : 'skip';
  return `  ${mark}  ${r.name}: ${r.detail}\n${r.fix ? `        fix: ${r.fix}\n` : ''}`;
}

/**
 * `dify-sso doctor` entry point.
 *
 * @example
 * process.exitCode = await doctorMain(['--url', 'https://dify.example.com'], io, process.env)
 */
export async function doctorMain(argv: string[], io: CommandIo, _env: CommandEnv = {}): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        'allow-http': { type: 'boolean', default: false },
        timeout: { type: 'string', default: '10' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    return usageError(io, (err as Error).message);
  }
  if (values.help) {
    io.out(DOCTOR_USAGE);
    return 0;
  }
  if (!values.url) return usageError(io, '--url <front door> is required');
  let base: URL;
  try {
    base = new URL(values.url);
  } catch {
    return usageError(io, `--url must be an http(s) URL, got ${JSON.stringify(values.url)}`);
  }
  if (
    (base.protocol !== 'https:' && base.protocol !== 'http:') ||
    base.username ||
    base.password ||
    base.search ||
    base.hash
  ) {
    return usageError(io, '--url must be an http(s) URL without credentials, query or fragment');
  }
  const timeoutSeconds = Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > 300) {
    return usageError(io, `--timeout must be a number of seconds (1-300), got ${JSON.stringify(values.timeout)}`);
  }
  io.out(`dify-sso doctor: checking ${base.href}\n`);
  const results = await runChecks(base, { allowHttp: values['allow-http'], timeoutSeconds });
  for (const r of results) io.out(formatResult(r));
  const failed = results.filter((r) => r.status === 'fail').length;
  const skipped = results.filter((r) => r.status === 'skip').length;
  if (failed === 0 && skipped === 0) {
    io.out(`dify-sso doctor: all ${results.length} checks passed\n`);
    return 0;
  }
  io.err(
    `dify-sso doctor: error ERR_DOCTOR_CHECKS_FAILED ${failed} of ${results.length} checks failed${skipped ? `, ${skipped} not run` : ''}\n`,
  );
  io.err('fix: see the fix: lines above\n');
  return 1;
}
