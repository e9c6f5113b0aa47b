/** What the setup project started, so that teardown stops exactly that and nothing else. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../scripts/lib/paths.js';

const dir = join(repoRoot, 'e2e', '.auth');
const file = join(dir, 'stack-state.json');

export interface StackState {
  /** Daemon names (pid files) started by the setup project. */
  started: string[];
}

export function readState(): StackState {
  if (!existsSync(file)) return { started: [] };
  return JSON.parse(readFileSync(file, 'utf8')) as StackState;
}

export function writeState(state: StackState): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, JSON.stringify(state, null, 2));
}
