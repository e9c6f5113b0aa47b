/**
 * Bundles the console plugin (packages/console-plugin) into one browser script with React, the
 * way Dify's web build would include it, so the stand-in console can render the real components.
 *
 * The entry is generated here as source text (not a checked-in module) so this package
 * type-checks whether or not the plugin is present.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

/** Default location of the plugin's public entry in this repository. */
export const DEFAULT_PLUGIN_ENTRY = resolve(here, '../../../console-plugin/src/index.ts');

function entrySource(pluginEntry: string): string {
  return `
import * as React from 'react';
import { createRoot } from 'react-dom/client';
import * as plugin from ${JSON.stringify(pluginEntry)};

window.DifySsoPlugin = plugin;
const root = document.getElementById('plugin-root');
if (root && root.dataset.page === 'signin') {
  const params = new URLSearchParams(window.location.search);
  const h = React.createElement;
  const idpName = root.dataset.idpName || undefined;
  const breakGlass = root.dataset.breakGlassHref || undefined;
  const redirect = params.get('redirect_url') || undefined;
  createRoot(root).render(
    h('div', { className: 'standin-card' },
      plugin.SsoErrorBanner ? h(plugin.SsoErrorBanner, {}) : null,
      plugin.SsoSignInButton ? h(plugin.SsoSignInButton, { idpName, redirect }) : null,
      plugin.BreakGlassLink ? h(plugin.BreakGlassLink, { href: breakGlass }) : null,
    ),
  );
}
`;
}

/**
 * Build the browser bundle (IIFE, minified, React in production mode).
 *
 * @example const js = await bundleConsolePlugin(DEFAULT_PLUGIN_ENTRY);
 */
export async function bundleConsolePlugin(pluginEntry: string = DEFAULT_PLUGIN_ENTRY): Promise<string> {
  const result = await build({
    stdin: {
      contents: entrySource(pluginEntry),
      resolveDir: here,
      sourcefile: 'standin-plugin-entry.js',
      loader: 'js',
    },
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    jsx: 'automatic',
    minify: true,
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const out = result.outputFiles[0];
  if (!out) throw new Error('esbuild produced no output');
  return out.text;
}
