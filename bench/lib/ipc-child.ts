/**
 * The in-process servers of the gate benches (`lib/upstream.ts`, `lib/sidecar.ts`) run as forked
 * children (under tsx) that answer over IPC: `child` starts one and waits for its first message,
 * `ask` sends a question (`cpu`, `rss`, …) and reads the number answered.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Forks `bench/lib/<file>` and resolves with its first message (rejects if it exits first). */
export function child(
  file: string,
  args: string[] = [],
): Promise<{ proc: ChildProcess; msg: Record<string, unknown> }> {
  const proc = fork(fileURLToPath(new URL(file, import.meta.url)), args, {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    proc.once('message', (msg) => resolve({ proc, msg: msg as Record<string, unknown> }));
    proc.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
}

/** Asks a forked child `what` and resolves with the number it answers under that key. */
export function ask(proc: ChildProcess, what: string): Promise<number> {
  return new Promise((resolve) => {
    proc.once('message', (m) => resolve(Number((m as Record<string, unknown>)[what])));
    proc.send(what);
  });
}
