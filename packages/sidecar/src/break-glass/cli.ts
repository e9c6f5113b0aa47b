/**
 * `dify-sso break-glass issue [--ttl 10m]` — prints a one-time break-glass token (stored hashed
 * in the kit store, `store.ts`). Runs with the sidecar's own environment (same store: Redis).
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { fail, reportThrown, usageError, type CliIo, type Env } from '../lib/cli-io.js';
import { createAudit, createLogger } from '../services/audit.js';
import { createStore } from '../store/index.js';
import { issueBreakGlassToken, parseTtl } from './store.js';

export const BREAK_GLASS_USAGE = `Usage: dify-sso break-glass issue [--ttl 10m]

Prints a one-time break-glass token (stored hashed in the kit's Redis store) that reopens
password login for one client address in DIFY_SSO_BREAK_GLASS_CIDRS. Run it with the sidecar's
own environment (DIFY_SSO_*): the command and the running sidecar must share the store.

Options:
  --ttl DURATION       how long the token can be redeemed, 1m to 24h (default 10m)
  -h, --help           show this help
`;

/**
 * `dify-sso break-glass issue`: prints a one-time token on stdout (only there), audits
 * `break_glass.issued` on stderr.
 *
 * @example
 * process.exitCode = await breakGlassMain(['issue', '--ttl', '10m'], io, process.env)
 */
export async function breakGlassMain(argv: string[], io: CliIo, env: Env): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        ttl: { type: 'string', default: '10m' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    return usageError(io, 'break-glass', (err as Error).message, BREAK_GLASS_USAGE);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(BREAK_GLASS_USAGE);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== 'issue') {
    return usageError(
      io,
      'break-glass',
      positionals.length === 0
        ? 'a subcommand is required (issue)'
        : `unknown subcommand ${JSON.stringify(positionals.join(' '))}`,
      BREAK_GLASS_USAGE,
    );
  }
  const ttl = parseTtl(values.ttl);
  if (ttl === undefined) {
    return usageError(
      io,
      'break-glass',
      `--ttl must be between 1m and 24h (e.g. 10m), got ${JSON.stringify(values.ttl)}`,
      BREAK_GLASS_USAGE,
    );
  }
  try {
    const config = loadConfig(env);
    if (config.store !== 'redis') {
      fail(
        io,
        'break-glass',
        'ERR_CONFIG_INVALID',
        'break-glass needs DIFY_SSO_STORE=redis: the command and the running sidecar must share the store',
        "run it with the sidecar's environment (DIFY_SSO_STORE=redis, DIFY_SSO_REDIS_URL)",
      );
      return 1;
    }
    if (config.breakGlass.cidrs.length === 0)
      io.err(
        'dify-sso break-glass: warning: DIFY_SSO_BREAK_GLASS_CIDRS is empty; the sidecar will refuse every redemption\n',
      );
    const store = createStore(config);
    try {
      const { token, expiresAt } = await issueBreakGlassToken(store.kv, ttl);
      const audit = createAudit(
        createLogger({ level: 'info', stream: { write: (s: string) => io.err(s) } }),
        config.oidc.preset,
      );
      audit('break_glass.issued', { ttlSeconds: ttl, expiresAt: new Date(expiresAt).toISOString() });
      io.out(`${token}\n`);
      io.err(
        `dify-sso break-glass: one-time break-glass token printed above; redeem it at ${config.publicUrl}/sso/break-glass before ${new Date(expiresAt).toISOString()}\n`,
      );
      return 0;
    } finally {
      await store.close();
    }
  } catch (err) {
    return reportThrown(io, 'break-glass', err);
  }
}
