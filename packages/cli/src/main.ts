/**
 * `dify-sso <command> [options]`: dispatches to the command table ({@link COMMANDS}).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { COMMANDS, EXIT, type CommandEnv, type CommandIo } from './commands.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The top-level help: commands, exit codes, error format. */
export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: dify-sso <command> [options]

Single sign-on for self-hosted Dify (dify-sso-kit ${version()}).

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run dify-sso <command> --help for the options of a command.

Exit codes: ${EXIT.ok} ok, ${EXIT.failure} failure (or a check found a problem), ${EXIT.usage} usage error.
Errors: dify-sso <command>: error ERR_<CODE> <message>, then a "fix:" line where there is one.
`;
}

/**
 * Runs `dify-sso` with `argv` (without the node and script paths); resolves to the exit code.
 *
 * @example
 * process.exitCode = await main(process.argv.slice(2), process.env, { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) })
 */
export async function main(argv: readonly string[], env: CommandEnv, io: CommandIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h') {
    (first === undefined ? io.err : io.out)(usage());
    return first === undefined ? EXIT.usage : EXIT.ok;
  }
  if (first === '--version' || first === '-v') {
    io.out(`${version()}\n`);
    return EXIT.ok;
  }
  // `dify-sso help <command>` is `dify-sso <command> --help`.
  const [name, args] = first === 'help' && rest[0] !== undefined ? [rest[0], ['--help']] : [first, rest];
  if (first === 'help' && rest[0] === undefined) {
    io.out(usage());
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`dify-sso: error ERR_INVALID_ARG_VALUE unknown command ${JSON.stringify(name)}\n`);
    io.err(`fix: use one of ${COMMANDS.map((c) => c.name).join(', ')} (dify-sso --help)\n`);
    return EXIT.usage;
  }
  const run = await command.load();
  return run([...args], io, env);
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(resolve(entry)).href) {
  process.exitCode = await main(process.argv.slice(2), process.env, {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
  });
}
