/**
 * Writes the deployment artefacts (compose override + nginx template with the sidecar's
 * locations) into a Dify `docker/` directory. Same as `dify-sso deploy`.
 *
 *   node --import tsx scripts/gen-deploy.ts --dify-docker /path/to/dify/docker [--image <ref>] [--dry]
 */
import { runCli } from '../packages/sidecar/src/cli.js';

process.exitCode = await runCli(['deploy', ...process.argv.slice(2)], process.env, {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
});
