/**
 * The sidecar's commands of the `dify-sso` CLI (package `@dify-sso-kit/cli`, subpath
 * `@dify-sso-kit/sidecar/cli`):
 * - `dify-sso break-glass issue [--ttl 10m]` (`break-glass/cli.ts`) — prints a one-time break-glass token (stored
 *   hashed in the kit store). Runs with the sidecar's own environment (same store: Redis).
 * - `dify-sso deploy --dify-docker <dir> [--image <ref>] [--port 8080] [--gate-subnet 172.31.255.248/29] [--web-image <ref>] [--gate-web-apps] [--gate-service-api] [--break-glass] [--force] [--dry]`
 *   — writes `docker-compose.override.yaml`, `sso/nginx/conf.d/default.conf.template` and
 *   `sso/sso.env.example` into a Dify `docker/` directory.
 *
 * Every command returns its exit code (0 ok, 1 failure, 2 usage) and reports errors as
 * `dify-sso <command>: error ERR_… <message>`, followed by a `fix:` line where there is one.
 *
 * @module
 */
import { BREAK_GLASS_USAGE, breakGlassMain } from './break-glass/cli.js';
import { DEFAULT_IMAGE, DEPLOY_USAGE, deployMain } from './deploy/cli.js';
import { fail, type CliIo, type Env } from './lib/cli-io.js';

export { BREAK_GLASS_USAGE, DEFAULT_IMAGE, DEPLOY_USAGE, breakGlassMain, deployMain, type CliIo };

/**
 * Runs `deploy` or `break-glass` from a full argument list (`['deploy', …]`); resolves to the
 * exit code. `env` is the process environment (read only here). The `dify-sso` bin of
 * `@dify-sso-kit/cli` dispatches to {@link deployMain} and {@link breakGlassMain} directly.
 */
export async function runCli(argv: string[], env: Env, io: CliIo): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === 'deploy') return deployMain(rest, io, env);
  if (cmd === 'break-glass') return breakGlassMain(rest, io, env);
  fail(
    io,
    '',
    'ERR_INVALID_ARG_VALUE',
    `unknown command ${JSON.stringify(cmd ?? '')} (expected deploy or break-glass)`,
    'see dify-sso --help',
  );
  io.err(`\n${DEPLOY_USAGE}\n${BREAK_GLASS_USAGE}`);
  return 2;
}
