import { readdirSync, readFileSync, statSync } from 'node:fs';
import { PLUGIN_DIR } from '../lib/dify-paths.js';
import type { Transform } from '../lib/types.js';

// The console plugin's TypeScript sources ship in its package (`files` includes `src/`), so this
// works from the workspace and from an installed tarball alike.
const PLUGIN_PACKAGE_JSON = new URL(import.meta.resolve('@dify-sso-kit/console-plugin/package.json'));
const PLUGIN_SRC = new URL('./src/', PLUGIN_PACKAGE_JSON);

const HEADER =
  '// Added by dify-sso-kit (`dify-sso patch`). Do not edit: re-run the patch to update, `--revert` to remove.\n';

function listFiles(dir: URL, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const url = new URL(name, dir);
    if (statSync(url).isDirectory()) out.push(...listFiles(new URL(`${name}/`, dir), `${prefix}${name}/`));
    else if (/\.(ts|tsx)$/.test(name)) out.push(`${prefix}${name}`);
  }
  return out;
}

/**
 * Rewrites one plugin source file for Dify's bundler: relative `./x.js` specifiers (needed by
 * the kit's NodeNext build) become extensionless, and a header marks the file as managed.
 */
export function toDifySource(source: string): string {
  const body = source.replace(/(from\s+'\.{1,2}\/[^']+)\.js'/g, "$1'");
  return HEADER + body;
}

/** The plugin files as they are written into a checkout (path → content). */
export function pluginFiles(): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const rel of listFiles(PLUGIN_SRC)) {
    const text = readFileSync(new URL(rel, PLUGIN_SRC), 'utf8');
    files.set(`${PLUGIN_DIR}/${rel}`, new TextEncoder().encode(toDifySource(text)));
  }
  return files;
}

/**
 * The console-plugin package the plugin files are taken from (name and version of the installed
 * package).
 *
 * @example
 * consolePluginPackage()   // { name: '@dify-sso-kit/console-plugin', version: '0.1.0' }
 */
export function consolePluginPackage(): { name: string; version: string } {
  const pkg = JSON.parse(readFileSync(PLUGIN_PACKAGE_JSON, 'utf8')) as { name: string; version: string };
  return { name: pkg.name, version: pkg.version };
}

/** Where each plugin file comes from: checkout path → `<console-plugin package>/src/<file>`. */
export function pluginSources(): Map<string, string> {
  const { name } = consolePluginPackage();
  return new Map(listFiles(PLUGIN_SRC).map((rel) => [`${PLUGIN_DIR}/${rel}`, `${name}/src/${rel}`]));
}

/** Adds the console plugin (sign-in button, error banner, logout helper, break-glass link) to `web/`. */
export const addPluginFiles: Transform = {
  slug: 'add-plugin-files',
  description: 'Add the console plugin under web/app/components/dify-sso/',
  edits: [],
  adds: pluginFiles,
  sources: pluginSources,
};
