import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { SsoError } from './errors.js'
import type { FileChange } from './patch.js'
import { applyPlan, applyRevert, checkPatch, planPatch, planRevert, renderDiff } from './patch.js'
import { SUPPORTED_VERSIONS } from './registry.js'

const USAGE = `Usage: dify-sso patch <dify-checkout> [options]

Turns a stock Dify web/ into an SSO-only console (see the codemods README).

Options:
  --dry              compute everything, write nothing
  --check            exit 1 unless the checkout is patched and unchanged since
  --revert           restore the files the patch changed (from web/.dify-sso/)
  --emit-diff FILE   write a unified diff of the checkout before/after ('-' = stdout)
  --force            proceed although web/ has uncommitted changes (or revert drifted files)
  -h, --help         show this help

Supported Dify versions: ${SUPPORTED_VERSIONS.join(', ')}`

/** Where the CLI writes (injected by tests). */
export type CliIo = { out: (line: string) => void, err: (line: string) => void }

const defaultIo: CliIo = {
  out: line => process.stdout.write(`${line}\n`),
  err: line => process.stderr.write(`${line}\n`),
}

function describe(changes: readonly FileChange[]): string[] {
  return changes.map((c) => {
    const mark = c.before === undefined ? 'A' : c.after === undefined ? 'D' : 'M'
    return `  ${mark} ${c.path}`
  })
}

function emitDiff(file: string | undefined, changes: readonly FileChange[], io: CliIo): void {
  if (file === undefined)
    return
  const diff = renderDiff(changes)
  if (file === '-')
    process.stdout.write(diff)
  else
    writeFileSync(resolve(file), diff)
  if (file !== '-')
    io.out(`diff written to ${file}`)
}

/**
 * Runs `dify-sso patch` with `argv` (without the node and script paths; a leading `patch`
 * word is accepted). Returns the exit code: 0 success, 1 failure or check failed, 2 usage.
 *
 * @example
 * process.exitCode = await main(['patch', '/src/dify', '--check'])
 */
export async function main(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  const args = argv[0] === 'patch' ? argv.slice(1) : [...argv]
  let parsed
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        'dry': { type: 'boolean', default: false },
        'check': { type: 'boolean', default: false },
        'revert': { type: 'boolean', default: false },
        'emit-diff': { type: 'string' },
        'force': { type: 'boolean', default: false },
        'help': { type: 'boolean', short: 'h', default: false },
      },
    })
  }
  catch (e) {
    io.err(`error ERR_INVALID_ARG_VALUE: ${(e as Error).message}`)
    io.err(USAGE)
    return 2
  }
  const { values, positionals } = parsed
  if (values.help) {
    io.out(USAGE)
    return 0
  }
  const checkout = positionals[0]
  if (positionals.length !== 1 || checkout === undefined) {
    io.err('error ERR_INVALID_ARG_VALUE: exactly one <dify-checkout> is required')
    io.err(USAGE)
    return 2
  }
  if (values.check && (values.revert || values.dry)) {
    io.err('error ERR_INVALID_ARG_VALUE: --check cannot be combined with --revert or --dry')
    return 2
  }
  const emit = values['emit-diff']
  try {
    if (values.check) {
      const result = checkPatch(checkout)
      if (result.ok) {
        io.out(`Dify ${result.version}: patched, and unchanged since`)
        return 0
      }
      for (const p of result.problems)
        io.err(`${p.code}: ${p.message}`)
      io.err(`Dify ${result.version}: check failed (${result.problems.length} problem${result.problems.length === 1 ? '' : 's'})`)
      return 1
    }
    if (values.revert) {
      if (values.dry) {
        const plan = planRevert(checkout, { force: values.force })
        io.out(`Dify ${plan.version}: --dry: revert would restore ${plan.changes.length} file(s)`)
        describe(plan.changes).forEach(l => io.out(l))
        emitDiff(emit, plan.changes, io)
        return 0
      }
      const plan = planRevert(checkout, { force: values.force })
      const result = applyRevert(checkout, { force: values.force })
      io.out(`Dify ${plan.version}: reverted ${result.changed.length} file(s)`)
      describe(result.changed).forEach(l => io.out(l))
      emitDiff(emit, result.changed, io)
      return 0
    }
    const plan = planPatch(checkout)
    if (values.dry) {
      io.out(plan.changes.length === 0
        ? `Dify ${plan.version}: --dry: already patched, nothing to do`
        : `Dify ${plan.version}: --dry: would change ${plan.changes.length} file(s) with ${plan.slugs.join(', ')}`)
      describe(plan.changes).forEach(l => io.out(l))
      emitDiff(emit, plan.changes, io)
      return 0
    }
    const result = applyPlan(plan, { force: values.force })
    if (result.changed.length === 0) {
      io.out(`Dify ${plan.version}: already patched, nothing to do`)
    }
    else {
      io.out(`Dify ${plan.version}: patched ${result.changed.length} file(s) with ${plan.slugs.join(', ')}`)
      describe(result.changed).forEach(l => io.out(l))
    }
    emitDiff(emit, result.changed, io)
    return 0
  }
  catch (e) {
    if (e instanceof SsoError) {
      io.err(`error ${e.code}: ${e.message}`)
      return 1
    }
    throw e
  }
}

const entry = process.argv[1]
if (entry !== undefined && import.meta.url === pathToFileURL(resolve(entry)).href) {
  // Output piped into a reader that quits early (`| head`) is not an error of the patch.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE')
      process.exit(process.exitCode ?? 0)
    throw e
  })
  process.exitCode = await main(process.argv.slice(2))
}
