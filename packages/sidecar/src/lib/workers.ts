/**
 * Worker mode (`workers`): the primary process forks N workers that share the listen port
 * (node:cluster, round-robin hand-out of connections) and only supervises them:
 * - a worker that dies unexpectedly is replaced; more than {@link CRASH_LIMIT} deaths within
 *   {@link CRASH_WINDOW_MS} stop the whole sidecar with exit code 1 (a crash loop is a
 *   configuration or environment problem, not something to hide);
 * - SIGINT/SIGTERM to the primary are passed to every worker, which closes its server
 *   (in-flight requests finish); workers still running after {@link SHUTDOWN_GRACE_MS} are killed;
 * - the primary exits when the last worker has exited;
 * - health: every {@link HEARTBEAT_MS} the primary asks each worker whether it is ready (IdP
 *   discovered, store answering); a worker that has answered before but not for
 *   {@link UNRESPONSIVE_MS} (a blocked event loop, a stopped process) is killed and replaced
 *   (`ERR_WORKER_UNRESPONSIVE`); one still starting counts as not ready and is left to start.
 *   The primary sends the tally to every worker, and `/sso/health/ready` — answered by whichever
 *   worker gets the connection — is 200 only when every expected worker is running and ready
 *   (`checks.workers`), so a worker that is down or restarting shows on every worker.
 * Workers share nothing in memory: sessions live in Redis (`store=redis` is required for more
 * than one worker), so a revocation seen by one worker is seen by all on their next request.
 *
 * @module
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { SidecarConfig } from '../config/schema.js';

/** Deaths within {@link CRASH_WINDOW_MS} that stop the sidecar. */
export const CRASH_LIMIT = 5;
export const CRASH_WINDOW_MS = 60_000;
/** Time workers get to finish in-flight requests on shutdown. */
export const SHUTDOWN_GRACE_MS = 10_000;
/** Interval of the primary's readiness questions to its workers. */
export const HEARTBEAT_MS = 1000;
/** A worker silent this long is killed and replaced. */
export const UNRESPONSIVE_MS = 10_000;

/** IPC messages between the primary and its workers (tagged, so other IPC traffic is ignored). */
type HealthMessage =
  | { difySso: 'health?'; seq: number }
  | { difySso: 'health'; seq: number; ready: boolean }
  | { difySso: 'cluster'; expected: number; ready: number };

const isHealthMessage = (m: unknown): m is HealthMessage =>
  typeof m === 'object' && m !== null && typeof (m as { difySso?: unknown }).difySso === 'string';

/** Readiness of the whole worker set as the primary last saw it. */
export interface ClusterHealth {
  /** Workers the sidecar runs. */
  readonly expected: number;
  /** Workers running that answered the last question with ready. */
  readonly ready: number;
}

/**
 * Number of worker processes for a configuration: `workers`, or for `0` one per available
 * CPU with the Redis store and 1 with the memory store.
 *
 * @example
 * workerCount({ workers: 0, store: 'redis' }) // availableParallelism()
 */
export function workerCount(
  config: Pick<SidecarConfig, 'workers' | 'store'>,
  cpus: () => number = availableParallelism,
): number {
  if (config.workers === 0) return config.store === 'redis' ? Math.max(1, cpus()) : 1;
  return config.workers;
}

/** Minimal logger the supervisor writes to (pino's interface). */
export interface SupervisorLog {
  info(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

/**
 * Runs the primary: forks `count` workers (each re-runs the entry module, where
 * `cluster.isPrimary` is false) and supervises them. Resolves with the exit code once every
 * worker has exited after a shutdown.
 *
 * @example
 * if (cluster.isPrimary && n > 1) process.exitCode = await superviseWorkers(n, log)
 */
export function superviseWorkers(count: number, log: SupervisorLog, now: () => number = Date.now): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    let exitCode = 0;
    const deaths: number[] = [];
    const workers = new Set<Worker>();

    // `at` = last answer; a worker still starting (no answer yet) is not ready and is never judged silent.
    const seen = new Map<Worker, { at: number | undefined; ready: boolean }>();
    let seq = 0;
    const fork = () => {
      const w = cluster.fork();
      workers.add(w);
      seen.set(w, { at: undefined, ready: false });
      w.on('message', (m: unknown) => {
        if (isHealthMessage(m) && m.difySso === 'health') seen.set(w, { at: now(), ready: m.ready });
      });
      w.once('exit', (code, signal) => {
        workers.delete(w);
        seen.delete(w);
        if (stopping) {
          if (workers.size === 0) resolve(exitCode);
          return;
        }
        const t = now();
        deaths.push(t);
        while (deaths.length > 0 && (deaths[0] as number) < t - CRASH_WINDOW_MS) deaths.shift();
        log.error({ code: 'ERR_WORKER_EXITED', worker: w.id, exitCode: code, signal }, 'worker exited unexpectedly');
        if (deaths.length > CRASH_LIMIT) {
          log.error(
            { code: 'ERR_WORKER_CRASH_LOOP', deaths: deaths.length, windowSeconds: CRASH_WINDOW_MS / 1000 },
            'workers keep dying; stopping the sidecar',
          );
          exitCode = 1;
          stop();
          if (workers.size === 0) resolve(exitCode);
          return;
        }
        fork();
      });
    };

    const heartbeat = setInterval(() => {
      if (stopping) return;
      const t = now();
      let ready = 0;
      for (const w of workers) {
        const state = seen.get(w);
        if (!state) continue;
        if (state.at !== undefined && t - state.at > UNRESPONSIVE_MS) {
          log.error(
            { code: 'ERR_WORKER_UNRESPONSIVE', worker: w.id, silentMs: t - state.at },
            'worker stopped answering; replacing it',
          );
          seen.delete(w);
          w.process.kill('SIGKILL');
          continue;
        }
        if (state.ready) ready++;
        if (w.isConnected()) w.send({ difySso: 'health?', seq: ++seq } satisfies HealthMessage, undefined, () => {});
      }
      const tally: HealthMessage = { difySso: 'cluster', expected: count, ready };
      for (const w of workers) if (w.isConnected()) w.send(tally, undefined, () => {});
    }, HEARTBEAT_MS);
    heartbeat.unref();

    const stop = () => {
      if (stopping) return;
      stopping = true;
      clearInterval(heartbeat);
      for (const w of workers) w.process.kill('SIGTERM');
      setTimeout(() => {
        for (const w of workers) w.process.kill('SIGKILL');
      }, SHUTDOWN_GRACE_MS).unref();
    };
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        log.info({ signal, workers: workers.size }, 'shutting down workers');
        stop();
      });
    }
    for (let i = 0; i < count; i++) fork();
    log.info({ workers: count }, 'workers started');
  });
}

/** True in a process forked by {@link superviseWorkers}. */
export function isWorker(): boolean {
  return cluster.isWorker;
}

let clusterHealth: ClusterHealth | undefined;

/**
 * In a worker: answers the primary's readiness questions with `ready()` and keeps the tally the
 * primary sends (read by {@link workerSetHealth}). No-op outside worker mode.
 *
 * @example
 * answerHealthQuestions(async () => app.sso.oidc.ready)
 */
export function answerHealthQuestions(ready: () => Promise<boolean>): void {
  if (!cluster.isWorker) return;
  let pending: Promise<boolean> | undefined; // one check at a time, however slow the store answers
  process.on('message', (m: unknown) => {
    if (!isHealthMessage(m)) return;
    if (m.difySso === 'cluster') clusterHealth = { expected: m.expected, ready: m.ready };
    else if (m.difySso === 'health?') {
      pending ??= ready()
        .catch(() => false)
        .finally(() => (pending = undefined));
      void pending.then((ok) =>
        process.send?.({ difySso: 'health', seq: m.seq, ready: ok } satisfies HealthMessage, undefined, {}, () => {}),
      );
    }
  });
}

/**
 * The worker set's readiness as last reported by the primary; `undefined` outside worker mode
 * or before the first report (then the set counts as not ready).
 *
 * @example
 * const h = workerSetHealth(); const allReady = h !== undefined && h.ready === h.expected
 */
export function workerSetHealth(): ClusterHealth | undefined {
  return clusterHealth;
}
