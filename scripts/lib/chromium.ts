/** Debian's Chromium, which Playwright drives through `executablePath`. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { EnvError } from './proc.js';

/** Path of the Chromium binary: DIFY_SSO_CHROMIUM, else `chromium` on PATH. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.DIFY_SSO_CHROMIUM;
  let path = explicit;
  if (!path) {
    try {
      path = execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
    } catch {
      path = undefined;
    }
  }
  const fix = "run: npm run provision (installs Debian's chromium), or set DIFY_SSO_CHROMIUM to a Chromium binary";
  if (!path || !existsSync(path)) {
    throw new EnvError(
      'ERR_ENV_NO_CHROMIUM',
      explicit ? `DIFY_SSO_CHROMIUM=${explicit} does not exist` : 'chromium is not installed',
      fix,
    );
  }
  const r = spawnSync(path, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0 || !/Chrom/.test(r.stdout)) {
    throw new EnvError('ERR_ENV_NO_CHROMIUM', `${path} does not run as Chromium`, fix);
  }
  return path;
}

/** Flags that keep Chromium off the network it cannot reach anyway. */
export const chromiumArgs = [
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
