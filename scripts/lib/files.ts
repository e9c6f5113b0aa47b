import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Files under `dir` (recursively, skipping node_modules and fixtures) whose name ends with `suffix`. */
export function findFiles(dir: string, suffix: string, root = dir): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries.sort()) {
    if (name === 'node_modules' || name === '__fixtures__' || name.startsWith('.')) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out = out.concat(findFiles(full, suffix, root));
    else if (name.endsWith(suffix)) out.push(relative(root, full) === '' ? full : full);
  }
  return out;
}
