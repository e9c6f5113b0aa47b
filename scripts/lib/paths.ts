/**
 * Where the kit keeps things that never go into git: the Keycloak distribution, logs and
 * runtime state of the local stack. Override with DIFY_SSO_CACHE_DIR.
 */
import { homedir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DIFY_SSO_CACHE_DIR) return resolve(env.DIFY_SSO_CACHE_DIR);
  const base = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache');
  return join(base, 'dify-sso-kit');
}

export const runDir = (env: NodeJS.ProcessEnv = process.env): string => join(cacheDir(env), 'run');
export const logDir = (env: NodeJS.ProcessEnv = process.env): string => join(cacheDir(env), 'logs');
