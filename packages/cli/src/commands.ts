/**
 * The command table of `dify-sso`. Each entry loads its implementation on first use (dynamic
 * import), so `dify-sso --help` loads neither ts-morph (codemods) nor fastify (sidecar).
 *
 * @module
 */

/** Where a command writes: raw text; a command adds its own newlines. */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
}

/** The process environment as a command may read it. */
export type CommandEnv = Record<string, string | undefined>;

/**
 * A command's entry point: its own arguments (without the command word), the output, the
 * environment. Resolves to the exit code ({@link EXIT}). Every command answers `--help` with
 * exit 0 and reports errors as `dify-sso <command>: error ERR_… <message>` plus a `fix:` line.
 */
export type CommandMain = (argv: string[], io: CommandIo, env: CommandEnv) => Promise<number>;

/** Exit codes shared by every command. */
export const EXIT = {
  /** Done; for `doctor` and `patch --check`: every check passed. */
  ok: 0,
  /** The command failed, or a check (`doctor`, `patch --check`) found a problem. */
  failure: 1,
  /** Usage error: unknown command or option, missing or malformed argument. */
  usage: 2,
} as const;

export interface Command {
  /** The command word (`dify-sso <name>`). */
  readonly name: string;
  /** One line for `dify-sso --help`. */
  readonly summary: string;
  /** Loads the implementation. */
  load(): Promise<CommandMain>;
}

/** Adapts the codemods' line-based CLI (`main(argv, io)`) to a {@link CommandMain}. */
async function loadPatch(): Promise<CommandMain> {
  const { main } = await import('@dify-sso-kit/codemods/cli');
  return (argv, io) => main(argv, { out: (line) => io.out(`${line}\n`), err: (line) => io.err(`${line}\n`) });
}

/** Adapts `dify-sso image` (codemods: patch, the checkout's own web/Dockerfile, hardening layer). */
async function loadImage(): Promise<CommandMain> {
  const { imageMain } = await import('@dify-sso-kit/codemods/image');
  return (argv, io) => imageMain(argv, { out: (line) => io.out(`${line}\n`), err: (line) => io.err(`${line}\n`) });
}

/** Every command, in the order `dify-sso --help` lists them. */
export const COMMANDS: readonly Command[] = [
  { name: 'patch', summary: "patch a Dify checkout's web/ into an SSO-only console (codemods)", load: loadPatch },
  {
    name: 'image',
    summary: 'build the patched, hardened Dify web image from a checkout (image web <checkout> --tag <ref>)',
    load: loadImage,
  },
  {
    name: 'deploy',
    summary: 'write the compose override and nginx files into a Dify docker/ directory',
    load: async () => (await import('@dify-sso-kit/sidecar/cli')).deployMain,
  },
  {
    name: 'break-glass',
    summary: 'issue a one-time token that reopens password login for an emergency',
    load: async () => (await import('@dify-sso-kit/sidecar/cli')).breakGlassMain,
  },
  {
    name: 'doctor',
    summary: 'check a running deployment from the outside and say what to fix',
    load: async () => (await import('./doctor/index.js')).doctorMain,
  },
];
