import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { SsoError } from './errors.js';
import type { FileChange } from './patch.js';
import { applyPlan, applyRevert, checkPatch, planPatch, planRevert, renderDiff } from './patch.js';
import { SUPPORTED_VERSIONS } from './registry.js';

const USAGE = `Usage: dify-sso patch <dify-checkout> [options]

Turns a stock Dify web/ into an SSO-only console (see the codemods README).

Options:
  --dry              compute everything, write nothing
  --check            exit 1 unless the checkout is patched and unchanged since
  --revert           restore the files the patch changed (from web/.dify-sso/)
  --emit-diff FILE   write a unified diff of the checkout before/after ('-' = stdout)
  --force            proceed although web/ has uncommitted changes (or revert drifted files)
  -h, --help         show this help

Supported Dify versions: ${SUPPORTED_VERSIONS.join(', ')}`;

/** Where the CLI writes, one line per call (injected by tests). */
export type CliIo = { out: (line: string) => void; err: (line: string) => void };

/** What to do about each error code (the README's error table, short). */
const FIXES: Partial<Record<string, string>> = {
  ERR_PATCH_UNSUPPORTED_VERSION: 'use a supported Dify version, or a kit release that supports yours',
  ERR_PATCH_NOT_A_CHECKOUT: 'pass the Dify repository root (the folder that holds web/package.json)',
  ERR_PATCH_DIRTY_TREE: 'commit or stash the changes under web/, or pass --force',
  ERR_CODEMOD_TARGET_NOT_FOUND: 'the checkout differs from the stock release; report it with the file named above',
  ERR_CODEMOD_UNEXPECTED_SHAPE: 'the checkout differs from the stock release; report it with the file named above',
  ERR_CODEMOD_SYNTAX_ERROR: 'fix the file named above so that it parses',
  ERR_PATCH_NOT_APPLIED: 'run dify-sso patch <dify-checkout>',
  ERR_PATCH_DRIFTED: 'run dify-sso patch <dify-checkout> --revert --force, then patch again',
  ERR_PATCH_NOTHING_TO_REVERT: 'nothing to do: the checkout is not patched',
  ERR_PATCH_WRITE_FAILED: 'check permissions and free disk space, then run the command again',
};

/** `dify-sso patch: error <code> <message>`, then a `fix:` line where there is one (the `dify-sso` CLI format). */
function reportError(io: CliIo, code: string, message: string, fix = FIXES[code]): void {
  io.err(`dify-sso patch: error ${code} ${message}`);
  if (fix !== undefined) io.err(`fix: ${fix}`);
}

const defaultIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

function describe(changes: readonly FileChange[]): string[] {
  return changes.map((c) => {
    const mark = c.before === undefined ? 'A' : c.after === undefined ? 'D' : 'M';
    return `  ${mark} ${c.path}`;
  });
}

function emitDiff(file: string | undefined, changes: readonly FileChange[], io: CliIo): void {
  if (file === undefined) return;
  const diff = renderDiff(changes);
  if (file === '-') process.stdout.write(diff);
  else writeFileSync(resolve(file), diff);
  if (file !== '-') io.out(`diff written to ${file}`);
}

/**
 * Runs `dify-sso patch` with `argv` (without the node and script paths; a leading `patch`
 * word is accepted). Returns the exit code: 0 success, 1 failure or check failed, 2 usage.
 * Errors are reported as `dify-sso patch: error ERR_… <message>` plus a `fix:` line.
 *
 * @example
 * process.exitCode = await main(['patch', '/src/dify', '--check'])
 */
export async function main(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  const args = argv[0] === 'patch' ? argv.slice(1) : [...argv];
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        dry: { type: 'boolean', default: false },
        check: { type: 'boolean', default: false },
        revert: { type: 'boolean', default: false },
        'emit-diff': { type: 'string' },
        force: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    reportError(io, 'ERR_INVALID_ARG_VALUE', (e as Error).message, 'see dify-sso patch --help');
    io.err(USAGE);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const checkout = positionals[0];
  if (positionals.length !== 1 || checkout === undefined) {
    reportError(io, 'ERR_INVALID_ARG_VALUE', 'exactly one <dify-checkout> is required', 'see dify-sso patch --help');
    io.err(USAGE);
    return 2;
  }
  if (values.check && (values.revert || values.dry)) {
    reportError(
      io,
      'ERR_INVALID_ARG_VALUE',
      '--check cannot be combined with --revert or --dry',
      'see dify-sso patch --help',
    );
    return 2;
  }
  const emit = values['emit-diff'];
  try {
    if (values.check) {
      const result = checkPatch(checkout);
      if (result.ok) {
        io.out(`Dify ${result.version}: patched, and unchanged since`);
        return 0;
      }
      for (const p of result.problems) reportError(io, p.code, p.message);
      io.err(
        `Dify ${result.version}: check failed (${result.problems.length} problem${result.problems.length === 1 ? '' : 's'})`,
      );
      return 1;
    }
    if (values.revert) {
      if (values.dry) {
        const plan = planRevert(checkout, { force: values.force });
        io.out(`Dify ${plan.version}: --dry: revert would restore ${plan.changes.length} file(s)`);
        for (const l of describe(plan.changes)) io.out(l);
        emitDiff(emit, plan.changes, io);
        return 0;
      }
      const plan = planRevert(checkout, { force: values.force });
      const result = applyRevert(checkout, { force: values.force });
      io.out(`Dify ${plan.version}: reverted ${result.changed.length} file(s)`);
      for (const l of describe(result.changed)) io.out(l);
      emitDiff(emit, result.changed, io);
      return 0;
    }
    const plan = planPatch(checkout);
    if (values.dry) {
      io.out(
        plan.changes.length === 0
          ? `Dify ${plan.version}: --dry: already patched, nothing to do`
          : `Dify ${plan.version}: --dry: would change ${plan.changes.length} file(s) with ${plan.slugs.join(', ')}`,
      );
      for (const l of describe(plan.changes)) io.out(l);
      emitDiff(emit, plan.changes, io);
      return 0;
    }
    const result = applyPlan(plan, { force: values.force });
    if (result.changed.length === 0) {
      io.out(`Dify ${plan.version}: already patched, nothing to do`);
    } else {
      io.out(`Dify ${plan.version}: patched ${result.changed.length} file(s) with ${plan.slugs.join(', ')}`);
      for (const l of describe(result.changed)) io.out(l);
    }
    emitDiff(emit, result.changed, io);
    return 0;
  } catch (e) {
    if (e instanceof SsoError) {
      reportError(io, e.code, e.message);
      return 1;
    }
    throw e;
  }
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(resolve(entry)).href) {
  // Output piped into a reader that quits early (`| head`) is not an error of the patch.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  process.exitCode = await main(process.argv.slice(2));
}
