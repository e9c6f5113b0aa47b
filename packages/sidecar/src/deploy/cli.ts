/**
 * `dify-sso deploy --dify-docker <dir> [--image <ref>] [--port 8080] [--gate-subnet 172.31.255.248/29] [--web-image <ref>] [--gate-web-apps [--webapp-policy <file>]] [--gate-service-api] [--break-glass] [--force] [--dry]`
 * — writes `docker-compose.override.yaml`, `sso/nginx/conf.d/default.conf.template` and
 * `sso/sso.env.example` into a Dify `docker/` directory (`compose.ts`, `nginx.ts`).
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { SIDECAR_IMAGE } from '../image.js';
import { reportThrown, usageError, type CliIo, type Env } from '../lib/cli-io.js';
import { renderDeployment, writeDeployment } from './compose.js';
import { kubernetesDeployMain } from './kubernetes.js';

/** The image this repository builds (`images/sidecar/Containerfile`), same name and tag. */
export const DEFAULT_IMAGE = SIDECAR_IMAGE;

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
  --kubernetes         write a Helm values file and the ingress-nginx wiring instead
                       (see dify-sso deploy --kubernetes --help)
  -h, --help           show this help
`;

/**
 * `dify-sso deploy`: renders (or writes) the deployment files for a Dify `docker/` directory.
 *
 * @example
 * process.exitCode = await deployMain(['--dify-docker', '/opt/dify/docker', '--dry'], io)
 */
export async function deployMain(argv: string[], io: CliIo, _env: Env = {}): Promise<number> {
  // Kubernetes: Helm values + ingress-nginx wiring (deploy/kubernetes.ts).
  if (argv.includes('--kubernetes'))
    return kubernetesDeployMain(
      argv.filter((a) => a !== '--kubernetes'),
      io,
    );
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        'dify-docker': { type: 'string' },
        image: { type: 'string' },
        port: { type: 'string' },
        'gate-subnet': { type: 'string' },
        'web-image': { type: 'string' },
        'gate-web-apps': { type: 'boolean', default: false },
        'webapp-policy': { type: 'string' },
        'gate-service-api': { type: 'boolean', default: false },
        'break-glass': { type: 'boolean', default: false },
        force: { type: 'boolean', default: false },
        dry: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    return usageError(io, 'deploy', (err as Error).message, DEPLOY_USAGE);
  }
  if (values.help) {
    io.out(DEPLOY_USAGE);
    return 0;
  }
  const dir = values['dify-docker'];
  if (!dir) return usageError(io, 'deploy', '--dify-docker <dir> is required', DEPLOY_USAGE);
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    return usageError(
      io,
      'deploy',
      `--port must be a TCP port (1-65535), got ${JSON.stringify(values.port)}`,
      DEPLOY_USAGE,
    );
  }
  if (values['webapp-policy'] !== undefined && !values['gate-web-apps'])
    return usageError(io, 'deploy', '--webapp-policy needs --gate-web-apps', DEPLOY_USAGE);
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
  };
  try {
    if (values.dry) {
      const r = renderDeployment(opts);
      for (const [name, text] of Object.entries(r.files)) io.out(`==> ${name}\n${text}\n`);
      return 0;
    }
    const r = writeDeployment(opts);
    io.err(`dify-sso deploy: wrote ${Object.keys(r.files).join(', ')} for Dify ${r.difyVersion} in ${dir}\n`);
    return 0;
  } catch (err) {
    return reportThrown(io, 'deploy', err);
  }
}
