/**
 * The sidecar's commands of the `dify-sso` CLI (package `@dify-sso-kit/cli`, subpath
 * `@dify-sso-kit/sidecar/cli`):
 * - `dify-sso break-glass issue [--ttl 10m]` — prints a one-time break-glass token (stored
 *   hashed in the kit store). Runs with the sidecar's own environment (same store: Redis).
 * - `dify-sso deploy --dify-docker <dir> [--image <ref>] [--port 8080] [--gate-subnet 172.31.255.248/29] [--web-image <ref>] [--gate-web-apps [--webapp-policy <file>]] [--gate-service-api] [--break-glass] [--force] [--dry]`
 *   — writes `docker-compose.override.yaml`, `sso/nginx/conf.d/default.conf.template` and
 *   `sso/sso.env.example` into a Dify `docker/` directory.
 *
 * Every command returns its exit code (0 ok, 1 failure, 2 usage) and reports errors as
 * `dify-sso <command>: error ERR_… <message>`, followed by a `fix:` line where there is one.
 *
 * @module
 */
import { parseArgs } from 'node:util'
import { loadConfig } from '../config/load.js'
import { ERROR_ADVICE } from '../config/docs.js'
import { ConfigError } from '../errors.js'
import { createAudit, createLogger } from '../plugins/audit.js'
import { createStore } from '../store/index.js'
import { renderDeployment, writeDeployment } from '../gate/deploy.js'
import { issueBreakGlassToken, parseTtl } from './break-glass.js'
import { SIDECAR_IMAGE } from '../image.js'

/** The image this repository builds (`images/sidecar/Containerfile`), same name and tag. */
export const DEFAULT_IMAGE = SIDECAR_IMAGE

/** Where a command writes: raw text, the command adds its own newlines. */
export interface CliIo {
  out(text: string): void
  err(text: string): void
}

type Env = Record<string, string | undefined>

export const DEPLOY_USAGE = `Usage: dify-sso deploy --dify-docker <dir> [options]

Writes the kit's deployment files into a Dify docker/ directory: docker-compose.override.yaml
(the sidecar service, Dify's login flags), sso/nginx/conf.d/ (Dify's own nginx template with the
kit's locations) and sso/sso.env.example (the OIDC settings to fill in).

Options:
  --dify-docker DIR    Dify's docker/ directory (required)
  --image REF          sidecar image (default ${DEFAULT_IMAGE})
  --port N             port the sidecar listens on inside the compose network (default 8080)
  --web-image REF      run Dify's web service on the patched, hardened image built by
                       \`dify-sso image web\` (read-only, non-root, no capabilities)
  --gate-subnet CIDR   subnet of the dedicated network nginx and the sidecar share; nginx gets a
                       fixed address in it, the only address the sidecar trusts for X-Forwarded-For
                       (default 172.31.255.248/29)
  --gate-web-apps      also gate the published web-app API
  --webapp-policy FILE web-app SSO (with --gate-web-apps): per-app access policy (JSON or YAML),
                       validated now, copied to sso/ and mounted into the sidecar; the sidecar
                       then issues passports per person and checks their ownership
  --gate-service-api   also gate the service API (IdP bearer in X-Sso-Token next to the app key)
  --break-glass        keep dify-api's password login on so that break-glass can reopen it
  --force              replace a docker-compose.override.yaml this command did not write
  --dry                print the files, write nothing
  -h, --help           show this help
`

export const BREAK_GLASS_USAGE = `Usage: dify-sso break-glass issue [--ttl 10m]

Prints a one-time break-glass token (stored hashed in the kit's Redis store) that reopens
password login for one client address in DIFY_SSO_BREAK_GLASS_CIDRS. Run it with the sidecar's
own environment (DIFY_SSO_*): the command and the running sidecar must share the store.

Options:
  --ttl DURATION       how long the token can be redeemed, 1m to 24h (default 10m)
  -h, --help           show this help
`

/** Prints `dify-sso <cmd>: error <code> <message>` and a `fix:` line when there is advice. */
function fail(io: CliIo, cmd: string, code: string, message: string, fix?: string): void {
  io.err(`${cmd ? `dify-sso ${cmd}` : 'dify-sso'}: error ${code} ${message}\n`)
  if (fix) io.err(`fix: ${fix}\n`)
}

function usageError(io: CliIo, cmd: string, message: string, usage: string): 2 {
  fail(io, cmd, 'ERR_INVALID_ARG_VALUE', message, `see dify-sso ${cmd} --help`)
  io.err(`\n${usage}`)
  return 2
}

function adviceFor(code: string): string | undefined {
  return (ERROR_ADVICE as Record<string, string>)[code]
}

/** Reports an error a command threw (stable code + advice); the exit code is 1. */
function reportThrown(io: CliIo, cmd: string, err: unknown): 1 {
  const code = (err as { code?: unknown }).code
  if (err instanceof ConfigError) {
    fail(io, cmd, err.code, err.message, 'set the DIFY_SSO_* variables listed above (see the sidecar README options table)')
  } else if (typeof code === 'string' && code.startsWith('ERR_')) {
    fail(io, cmd, code, (err as Error).message, adviceFor(code))
  } else {
    throw err
  }
  return 1
}

/**
 * `dify-sso deploy`: renders (or writes) the deployment files for a Dify `docker/` directory.
 *
 * @example
 * process.exitCode = await deployMain(['--dify-docker', '/opt/dify/docker', '--dry'], io)
 */
export async function deployMain(argv: string[], io: CliIo, _env: Env = {}): Promise<number> {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        'dify-docker': { type: 'string' },
        'image': { type: 'string' },
        'port': { type: 'string' },
        'gate-subnet': { type: 'string' },
        'web-image': { type: 'string' },
        'gate-web-apps': { type: 'boolean', default: false },
        'webapp-policy': { type: 'string' },
        'gate-service-api': { type: 'boolean', default: false },
        'break-glass': { type: 'boolean', default: false },
        'force': { type: 'boolean', default: false },
        'dry': { type: 'boolean', default: false },
        'help': { type: 'boolean', short: 'h', default: false },
      },
    }))
  } catch (err) {
    return usageError(io, 'deploy', (err as Error).message, DEPLOY_USAGE)
  }
  if (values.help) {
    io.out(DEPLOY_USAGE)
    return 0
  }
  const dir = values['dify-docker']
  if (!dir) return usageError(io, 'deploy', '--dify-docker <dir> is required', DEPLOY_USAGE)
  const port = values.port === undefined ? undefined : Number(values.port)
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    return usageError(io, 'deploy', `--port must be a TCP port (1-65535), got ${JSON.stringify(values.port)}`, DEPLOY_USAGE)
  }
  if (values['webapp-policy'] !== undefined && !values['gate-web-apps']) return usageError(io, 'deploy', '--webapp-policy needs --gate-web-apps', DEPLOY_USAGE)
  const opts = {
    ...(values['webapp-policy'] !== undefined ? { webAppPolicy: values['webapp-policy'] } : {}),
    ...(values['gate-subnet'] ? { gateSubnet: values['gate-subnet'] } : {}),
    ...(values['web-image'] ? { webImage: values['web-image'] } : {}),
    difyDockerDir: dir,
    image: values.image ?? DEFAULT_IMAGE,
    ...(port !== undefined ? { sidecarPort: port } : {}),
    gateWebApps: values['gate-web-apps'],
    gateServiceApi: values['gate-service-api'],
    breakGlass: values['break-glass'],
    force: values.force,
  }
  try {
    if (values.dry) {
      const r = renderDeployment(opts)
      for (const [name, text] of Object.entries(r.files)) io.out(`==> ${name}\n${text}\n`)
      return 0
    }
    const r = writeDeployment(opts)
    io.err(`dify-sso deploy: wrote ${Object.keys(r.files).join(', ')} for Dify ${r.difyVersion} in ${dir}\n`)
    return 0
  } catch (err) {
    return reportThrown(io, 'deploy', err)
  }
}

/**
 * `dify-sso break-glass issue`: prints a one-time token on stdout (only there), audits
 * `break_glass.issued` on stderr.
 *
 * @example
 * process.exitCode = await breakGlassMain(['issue', '--ttl', '10m'], io, process.env)
 */
export async function breakGlassMain(argv: string[], io: CliIo, env: Env): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        ttl: { type: 'string', default: '10m' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
  } catch (err) {
    return usageError(io, 'break-glass', (err as Error).message, BREAK_GLASS_USAGE)
  }
  const { values, positionals } = parsed
  if (values.help) {
    io.out(BREAK_GLASS_USAGE)
    return 0
  }
  if (positionals.length !== 1 || positionals[0] !== 'issue') {
    return usageError(io, 'break-glass', positionals.length === 0 ? 'a subcommand is required (issue)' : `unknown subcommand ${JSON.stringify(positionals.join(' '))}`, BREAK_GLASS_USAGE)
  }
  const ttl = parseTtl(values.ttl)
  if (ttl === undefined) {
    return usageError(io, 'break-glass', `--ttl must be between 1m and 24h (e.g. 10m), got ${JSON.stringify(values.ttl)}`, BREAK_GLASS_USAGE)
  }
  try {
    const config = loadConfig(env)
    if (config.store !== 'redis') {
      fail(io, 'break-glass', 'ERR_CONFIG_INVALID', 'break-glass needs DIFY_SSO_STORE=redis: the command and the running sidecar must share the store', 'run it with the sidecar\'s environment (DIFY_SSO_STORE=redis, DIFY_SSO_REDIS_URL)')
      return 1
    }
    if (config.breakGlass.cidrs.length === 0) io.err('dify-sso break-glass: warning: DIFY_SSO_BREAK_GLASS_CIDRS is empty; the sidecar will refuse every redemption\n')
    const store = createStore(config)
    try {
      const { token, expiresAt } = await issueBreakGlassToken(store.kv, ttl)
      const audit = createAudit(createLogger({ level: 'info', stream: { write: (s: string) => io.err(s) } }), config.oidc.preset)
      audit('break_glass.issued', { ttlSeconds: ttl, expiresAt: new Date(expiresAt).toISOString() })
      io.out(`${token}\n`)
      io.err(`dify-sso break-glass: one-time break-glass token printed above; redeem it at ${config.publicUrl}/sso/break-glass before ${new Date(expiresAt).toISOString()}\n`)
      return 0
    } finally {
      await store.close()
    }
  } catch (err) {
    return reportThrown(io, 'break-glass', err)
  }
}

/**
 * Runs `deploy` or `break-glass` from a full argument list (`['deploy', …]`); resolves to the
 * exit code. `env` is the process environment (read only here). The `dify-sso` bin of
 * `@dify-sso-kit/cli` dispatches to {@link deployMain} and {@link breakGlassMain} directly.
 */
export async function runCli(argv: string[], env: Env, io: CliIo): Promise<number> {
  const [cmd, ...rest] = argv
  if (cmd === 'deploy') return deployMain(rest, io, env)
  if (cmd === 'break-glass') return breakGlassMain(rest, io, env)
  fail(io, '', 'ERR_INVALID_ARG_VALUE', `unknown command ${JSON.stringify(cmd ?? '')} (expected deploy or break-glass)`, 'see dify-sso --help')
  io.err(`\n${DEPLOY_USAGE}\n${BREAK_GLASS_USAGE}`)
  return 2
}
