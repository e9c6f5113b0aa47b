/**
 * What every command of the sidecar's part of the `dify-sso` CLI shares: where it writes, and one
 * error format (`dify-sso <command>: error ERR_… <message>`, then a `fix:` line where there is one).
 *
 * @module
 */
import { ERROR_ADVICE } from '../config/docs.js';
import { ConfigError } from '../errors.js';

/** Where a command writes: raw text, the command adds its own newlines. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** The process environment, as a command reads it. */
export type Env = Record<string, string | undefined>;

/** Prints `dify-sso <cmd>: error <code> <message>` and a `fix:` line when there is advice. */
export function fail(io: CliIo, cmd: string, code: string, message: string, fix?: string): void {
  io.err(`${cmd ? `dify-sso ${cmd}` : 'dify-sso'}: error ${code} ${message}\n`);
  if (fix) io.err(`fix: ${fix}\n`);
}

export function usageError(io: CliIo, cmd: string, message: string, usage: string): 2 {
  fail(io, cmd, 'ERR_INVALID_ARG_VALUE', message, `see dify-sso ${cmd} --help`);
  io.err(`\n${usage}`);
  return 2;
}

function adviceFor(code: string): string | undefined {
  return (ERROR_ADVICE as Record<string, string>)[code];
}

/** Reports an error a command threw (stable code + advice); the exit code is 1. */
export function reportThrown(io: CliIo, cmd: string, err: unknown): 1 {
  const code = (err as { code?: unknown }).code;
  if (err instanceof ConfigError) {
    fail(
      io,
      cmd,
      err.code,
      err.message,
      'set the DIFY_SSO_* variables listed above (see the sidecar README options table)',
    );
  } else if (typeof code === 'string' && code.startsWith('ERR_')) {
    fail(io, cmd, code, (err as Error).message, adviceFor(code));
  } else {
    throw err;
  }
  return 1;
}
