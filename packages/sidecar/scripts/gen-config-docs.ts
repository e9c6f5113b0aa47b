/**
 * Regenerates the options and error tables in packages/sidecar/README.md from the schema.
 *
 *   node --import tsx packages/sidecar/scripts/gen-config-docs.ts          # write
 *   node --import tsx packages/sidecar/scripts/gen-config-docs.ts --check  # exit 1 on drift (CI)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderReadme } from '../src/config/docs.js';

const readmePath = fileURLToPath(new URL('../README.md', import.meta.url));
const current = readFileSync(readmePath, 'utf8');
const next = renderReadme(current);
if (process.argv.includes('--check')) {
  if (next !== current) {
    process.stderr.write(
      'packages/sidecar/README.md is out of date: run `node --import tsx packages/sidecar/scripts/gen-config-docs.ts`\n',
    );
    process.exit(1);
  }
  process.stdout.write('packages/sidecar/README.md config and error tables are up to date\n');
} else if (next !== current) {
  writeFileSync(readmePath, next);
  process.stdout.write('packages/sidecar/README.md updated\n');
} else {
  process.stdout.write('packages/sidecar/README.md already up to date\n');
}
