/**
 * The sidecar's only entry point: reads `process.env`, validates it (exit 1 listing every
 * problem once), builds the app and listens on `DIFY_SSO_LISTEN` — or, with more than one
 * worker (`DIFY_SSO_WORKERS`), supervises worker processes that each do so on the shared port.
 *
 * @module
 */
import { loadConfig, maskedConfig } from './config/load.js';
import { ConfigError } from './errors.js';
import { createLogger } from './services/audit.js';
import { answerHealthQuestions, isWorker, superviseWorkers, workerCount } from './lib/workers.js';
import { otelEnvDefaults } from './lib/tracing.js';

/**
 * Starts the sidecar from an environment; resolves to the running app.
 *
 * @example
 * ```ts
 * await startServer(process.env)
 * ```
 */
export async function startServer(
  env: Record<string, string | undefined>,
): Promise<ReturnType<typeof import('./app.js').buildApp> | undefined> {
  const config = loadConfig(otelEnvDefaults(env));
  const workers = workerCount(config);
  // An object whose only property is optional is absent from the loaded config when unset.
  const metricsListen = (config.metrics as Partial<typeof config.metrics> | undefined)?.listen;
  const metricsAt = metricsListen ? hostPort(metricsListen) : undefined;
  if (workers > 1 && !isWorker()) {
    // The primary only supervises: it never loads the app (fastify, the OIDC client, the stores),
    // which would cost a worker's memory once more for nothing (bench/memory.bench.ts, worker set).
    const log = createLogger({ level: config.logLevel });
    log.info({ config: maskedConfig(config) }, 'configuration loaded');
    const metricsServer = metricsAt
      ? await (await import('./services/metrics.js')).serveMetrics(metricsAt, 'cluster')
      : undefined;
    process.exitCode = await superviseWorkers(workers, log);
    metricsServer?.close();
    return undefined;
  }
  const [{ buildApp }, { readiness }, { createMetrics, serveMetrics, shareWithPrimary }, { startTracing }] =
    await Promise.all([
      import('./app.js'),
      import('./services/readiness.js'),
      import('./services/metrics.js'),
      import('./lib/tracing.js'),
    ]);
  const metrics = createMetrics();
  shareWithPrimary(metrics.registry);
  // Before buildApp: the app wraps its store and adds request spans only when tracing runs.
  const stopTracing = await startTracing(config.otel);
  const app = buildApp(config, { metrics });
  app.addHook('onClose', async () => stopTracing());
  if (!isWorker()) app.log.info({ config: maskedConfig(config) }, 'configuration loaded');
  let metricsServer: Awaited<ReturnType<typeof serveMetrics>> | undefined;
  app.addHook('onClose', async () => void metricsServer?.close());
  await app.listen(hostPort(config.listen));
  if (metricsAt && !isWorker()) metricsServer = await serveMetrics(metricsAt, metrics.registry);
  answerHealthQuestions(async () => {
    const r = await readiness(app);
    return r.oidc && r.store;
  });
  // Graceful: stop accepting, let in-flight requests finish, then exit (once, whichever signal comes first).
  let closing: Promise<void> | undefined;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (closing) return;
      app.log.info({ signal }, 'shutting down: finishing in-flight requests');
      closing = app.close().then(() => process.exit(0));
    });
  }
  return app;
}

function hostPort(listen: string): { host: string; port: number } {
  const idx = listen.lastIndexOf(':');
  return { host: listen.slice(0, idx).replace(/^\[|\]$/g, ''), port: Number(listen.slice(idx + 1)) };
}

startServer(process.env).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`dify-sso-sidecar: ${err.message}\n`);
  } else {
    process.stderr.write(`dify-sso-sidecar: failed to start: ${(err as { code?: string }).code ?? 'unknown error'}\n`);
  }
  process.exit(1);
});
