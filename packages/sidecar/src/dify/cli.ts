/**
 * `dify-sso` command line:
 * - `dify-sso break-glass issue [--ttl 10m]` — prints a one-time break-glass token (stored
 *   hashed in the kit store). Runs with the sidecar's own environment (same store: Redis).
 * - `dify-sso deploy --dify-docker <dir> [--image <ref>] [--port 8080] [--gate-web-apps] [--gate-service-api] [--break-glass] [--force] [--dry]`
 *   — writes `docker-compose.override.yaml`, `sso/nginx/conf.d/default.conf.template` and
 *   `sso/sso.env.example` into a Dify `docker/` directory.
 *
 * @module
 */
import { loadConfig } from '../config/load.js'
import { ConfigError } from '../errors.js'
import { createAudit, createLogger } from '../plugins/audit.js'
import { createStore } from '../store/index.js'
import { renderDeployment, writeDeployment } from '../gate/deploy.js'
import { issueBreakGlassToken, parseTtl } from './break-glass.js'
import { SIDECAR_IMAGE } from '../image.js'

/** The image this repository builds (`images/sidecar/Containerfile`), same name and tag. */
export const DEFAULT_IMAGE = SIDECAR_IMAGE

const USAGE = `usage:
  dify-sso break-glass issue [--ttl 10m]
  dify-sso deploy --dify-docker <dir> [--image <ref>] [--port 8080] [--gate-web-apps] [--gate-service-api] [--break-glass] [--force] [--dry]
`

interface Io {
  out(text: string): void
  err(text: string): void
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name)
  if (i === -1) return undefined
  const v = args[i + 1]
  if (v === undefined || v.startsWith('--')) throw Object.assign(new TypeError(`${name} needs a value`), { code: 'ERR_INVALID_ARG_VALUE' })
  return v
}

/** Runs the CLI; resolves to the exit code. `env` is the process environment (read only here). */
export async function runCli(argv: string[], env: Record<string, string | undefined>, io: Io): Promise<number> {
  const [cmd, sub, ...rest] = argv
  try {
    if (cmd === 'break-glass' && sub === 'issue') {
      const ttlText = flag(rest, '--ttl') ?? '10m'
      const ttl = parseTtl(ttlText)
      if (ttl === undefined) {
        io.err(`dify-sso: --ttl must be between 1m and 24h (e.g. 10m), got ${JSON.stringify(ttlText)}\n`)
        return 2
      }
      const config = loadConfig(env)
      if (config.store !== 'redis') {
        io.err('dify-sso: break-glass needs DIFY_SSO_STORE=redis: the command and the running sidecar must share the store\n')
        return 1
      }
      if (config.breakGlass.cidrs.length === 0) io.err('dify-sso: warning: DIFY_SSO_BREAK_GLASS_CIDRS is empty; the sidecar will refuse every redemption\n')
      const store = createStore(config)
      try {
        const { token, expiresAt } = await issueBreakGlassToken(store.kv, ttl)
        const audit = createAudit(createLogger({ level: 'info', stream: { write: (s: string) => io.err(s) } }), config.oidc.preset)
        audit('break_glass.issued', { ttlSeconds: ttl, expiresAt: new Date(expiresAt).toISOString() })
        io.out(`${token}\n`)
        io.err(`dify-sso: one-time break-glass token printed above; redeem it at ${config.publicUrl}/sso/break-glass before ${new Date(expiresAt).toISOString()}\n`)
        return 0
      } finally {
        await store.close()
      }
    }
    if (cmd === 'deploy') {
      const args = [sub, ...rest].filter((a): a is string => a !== undefined)
      const dir = flag(args, '--dify-docker')
      if (!dir) {
        io.err(USAGE)
        return 2
      }
      const portText = flag(args, '--port')
      const opts = {
        difyDockerDir: dir,
        image: flag(args, '--image') ?? DEFAULT_IMAGE,
        ...(portText ? { sidecarPort: Number(portText) } : {}),
        gateWebApps: args.includes('--gate-web-apps'),
        gateServiceApi: args.includes('--gate-service-api'),
        breakGlass: args.includes('--break-glass'),
        force: args.includes('--force'),
      }
      if (args.includes('--dry')) {
        const r = renderDeployment(opts)
        for (const [name, text] of Object.entries(r.files)) io.out(`==> ${name}\n${text}\n`)
        return 0
      }
      const r = writeDeployment(opts)
      io.err(`dify-sso: wrote ${Object.keys(r.files).join(', ')} for Dify ${r.difyVersion} in ${dir}\n`)
      return 0
    }
    io.err(USAGE)
    return 2
  } catch (err) {
    if (err instanceof ConfigError) io.err(`dify-sso: ${err.message}\n`)
    else io.err(`dify-sso: ${(err as { code?: string }).code ?? 'error'}: ${(err as Error).message}\n`)
    return 1
  }
}
