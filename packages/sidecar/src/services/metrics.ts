/**
 * Prometheus metrics (prom-client), served at `GET /sso/metrics` on a listener of its own
 * (`metrics.listen`), never on the port nginx proxies `/sso/` to: the front door cannot reach it.
 * With more than one worker the primary serves it and sums every worker's counters.
 *
 * Sources, so that no request path pays for more than a counter increment:
 * - gate decisions: an `onResponse` hook on `/sso/auth` (status and `X-Sso-Code`) and
 *   {@link SidecarMetrics.gateDecision} for reverse-proxy mode;
 * - logins, logouts, back-channel events: the audit trail (every `app.sso.audit` event is counted
 *   by name and reason; the reason codes are the stable ones of the audit log);
 * - store latency and errors: a wrapper around the session store;
 * - IdP latency: Node's fetch diagnostics channels, for requests to the issuer's origin;
 * - session count (memory store) and the process metrics of prom-client.
 * Every metric name is listed in {@link METRIC_NAMES} and documented in the sidecar README.
 *
 * @module
 */
import diagnostics from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import cluster from 'node:cluster';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import type { SessionStore } from '../store/types.js';
import type { AuditFn } from './audit.js';

/** Metric names (public: dashboards and alert rules key on them). */
export const METRIC_NAMES = [
  'dify_sso_gate_decisions_total',
  'dify_sso_audit_events_total',
  'dify_sso_logins_total',
  'dify_sso_backchannel_logouts_total',
  'dify_sso_store_operation_duration_seconds',
  'dify_sso_store_errors_total',
  'dify_sso_idp_request_duration_seconds',
  'dify_sso_idp_request_errors_total',
  'dify_sso_sessions',
] as const;

export type MetricName = (typeof METRIC_NAMES)[number];

/** Labels are closed sets or stable codes; anything else is folded into `other` (bounded cardinality). */
const REASON = /^[a-z0-9_]{1,48}$/;
const label = (v: unknown, fallback = 'none'): string =>
  typeof v === 'string' && REASON.test(v) ? v : v === undefined ? fallback : 'other';

/** The sidecar's metrics. */
export interface SidecarMetrics {
  readonly registry: Registry;
  /** Counts one gate decision. */
  gateDecision(mode: 'authrequest' | 'proxy', allow: boolean, reason: string): void;
  /** An audit function that also counts the event. */
  wrapAudit(audit: AuditFn): AuditFn;
  /** A store whose operations are timed and whose failures are counted. */
  wrapStore(store: SessionStore): SessionStore;
  /** Times requests to `origin` (the IdP) through Node's fetch diagnostics channels. */
  watchIdp(origin: string): () => void;
}

/**
 * Creates the registry and metrics of one process.
 *
 * @example
 * const metrics = createMetrics(); const store = metrics.wrapStore(createStore(config))
 */
export function createMetrics(options: { defaultMetrics?: boolean } = {}): SidecarMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'dify_sso_' });
  // Gate decisions are counted in a plain map and added to the counter when it is read (scrape,
  // worker aggregation): one map lookup per decision instead of prom-client's label hashing and
  // validation.
  const decisions = new Map<string, { labels: { mode: string; result: string; reason: string }; n: number }>();
  new Counter({
    name: 'dify_sso_gate_decisions_total',
    help: 'Gate decisions by mode (authrequest = nginx auth_request, proxy = reverse-proxy mode), result and reason code.',
    labelNames: ['mode', 'result', 'reason'] as const,
    registers: [registry],
    collect() {
      for (const d of decisions.values())
        if (d.n > 0) {
          this.inc(d.labels, d.n);
          d.n = 0;
        }
    },
  });
  const events = new Counter({
    name: 'dify_sso_audit_events_total',
    help: 'Audit events by event name.',
    labelNames: ['event'] as const,
    registers: [registry],
  });
  const logins = new Counter({
    name: 'dify_sso_logins_total',
    help: 'Completed sign-ins by outcome (success, failure) and reason code.',
    labelNames: ['outcome', 'reason'] as const,
    registers: [registry],
  });
  const backchannel = new Counter({
    name: 'dify_sso_backchannel_logouts_total',
    help: 'Back-channel logout requests by outcome (accepted, rejected) and reason code.',
    labelNames: ['outcome', 'reason'] as const,
    registers: [registry],
  });
  const storeOps = new Histogram({
    name: 'dify_sso_store_operation_duration_seconds',
    help: 'Session store operation latency by operation and store kind.',
    labelNames: ['op', 'store'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const storeErrors = new Counter({
    name: 'dify_sso_store_errors_total',
    help: 'Failed session store operations by operation and store kind.',
    labelNames: ['op', 'store'] as const,
    registers: [registry],
  });
  const idp = new Histogram({
    name: 'dify_sso_idp_request_duration_seconds',
    help: 'Requests to the OpenID Provider (discovery, JWKS, token, UserInfo, end-session) by method and status class, until response headers.',
    labelNames: ['method', 'status'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const idpErrors = new Counter({
    name: 'dify_sso_idp_request_errors_total',
    help: 'Requests to the OpenID Provider that failed without a response (network, timeout).',
    registers: [registry],
  });
  let sized: { stats(): { sessions: number } } | undefined;
  new Gauge({
    name: 'dify_sso_sessions',
    help: 'Sessions held by the memory store of this process (absent with the Redis store).',
    labelNames: ['store'] as const,
    registers: [registry],
    collect() {
      if (sized) this.set({ store: 'memory' }, sized.stats().sessions);
    },
  });

  return {
    registry,
    gateDecision(mode, allow, reason) {
      const result = allow ? 'allow' : 'deny';
      const r = allow ? 'ok' : label(reason, 'unknown');
      const key = `${mode} ${result} ${r}`;
      let d = decisions.get(key);
      if (d === undefined) {
        d = { labels: { mode, result, reason: r }, n: 0 };
        decisions.set(key, d);
      }
      d.n++;
    },
    wrapAudit(audit) {
      return (event, fields) => {
        events.inc({ event: /^[a-z0-9_.]{1,64}$/.test(event) ? event : 'other' });
        if (event === 'auth.login.success') logins.inc({ outcome: 'success', reason: 'ok' });
        else if (event === 'auth.login.failure') logins.inc({ outcome: 'failure', reason: label(fields?.reason) });
        else if (event === 'auth.backchannel') backchannel.inc({ outcome: 'accepted', reason: 'ok' });
        else if (event === 'auth.backchannel.rejected')
          backchannel.inc({ outcome: 'rejected', reason: label(fields?.reason) });
        audit(event, fields);
      };
    },
    wrapStore(store) {
      const kind = store.kind;
      if (kind === 'memory' && typeof (store as { stats?: unknown }).stats === 'function')
        sized = store as unknown as { stats(): { sessions: number } };
      const timed = <A extends unknown[], R>(op: string, fn: (...a: A) => Promise<R>) => {
        const labels = { op, store: kind };
        // No async wrapper and no timer object: one clock read at each end (a store read is on every gate decision).
        return (...a: A): Promise<R> => {
          const start = performance.now();
          let pending: Promise<R>;
          try {
            pending = fn(...a);
          } catch (err) {
            pending = Promise.reject(err);
          }
          return pending.then(
            (v) => {
              storeOps.observe(labels, (performance.now() - start) / 1000);
              return v;
            },
            (err: unknown) => {
              storeOps.observe(labels, (performance.now() - start) / 1000);
              storeErrors.inc(labels);
              throw err;
            },
          );
        };
      };
      const kv = store.kv;
      return Object.freeze({
        ...store,
        kind,
        get: timed('get', (id: string, touch?: Parameters<SessionStore['get']>[1]) => store.get(id, touch)),
        create: timed('create', (r: Parameters<SessionStore['create']>[0]) => store.create(r)),
        update: timed('update', (id: string, p: Parameters<SessionStore['update']>[1]) => store.update(id, p)),
        delete: timed('delete', (id: string) => store.delete(id)),
        deleteBySid: timed('delete_by_sid', (iss: string, sid: string) => store.deleteBySid(iss, sid)),
        deleteBySub: timed('delete_by_sub', (iss: string, sub: string) => store.deleteBySub(iss, sub)),
        listBySub: timed('list_by_sub', (iss: string, sub: string) => store.listBySub(iss, sub)),
        ping: timed('ping', () => store.ping()),
        close: () => store.close(),
        kv: Object.freeze({
          get: timed('kv_get', (k: string) => kv.get(k)),
          set: timed('kv_set', (k: string, v: string, ttl: number) => kv.set(k, v, ttl)),
          del: timed('kv_del', (k: string) => kv.del(k)),
          setIfAbsent: timed('kv_set_if_absent', (k: string, v: string, ttl: number) => kv.setIfAbsent(k, v, ttl)),
          getDel: timed('kv_get_del', (k: string) => kv.getDel(k)),
        }),
      } satisfies SessionStore);
    },
    watchIdp(origin) {
      const started = new WeakMap<object, { end: (labels: { status: string }) => void }>();
      type Msg = { request: { origin?: string | URL; method?: string }; response?: { statusCode?: number } };
      const ours = (m: Msg) => String(m.request.origin ?? '') === origin;
      const onCreate = (m: unknown) => {
        const msg = m as Msg;
        if (ours(msg))
          started.set(msg.request, {
            end: idp.startTimer({ method: label((msg.request.method ?? 'GET').toLowerCase(), 'get') }),
          });
      };
      const onHeaders = (m: unknown) => {
        const msg = m as Msg;
        const t = started.get(msg.request);
        if (!t) return;
        started.delete(msg.request);
        t.end({ status: `${Math.floor((msg.response?.statusCode ?? 0) / 100)}xx` });
      };
      const onError = (m: unknown) => {
        const msg = m as Msg;
        if (started.delete(msg.request)) idpErrors.inc();
      };
      diagnostics.subscribe('undici:request:create', onCreate);
      diagnostics.subscribe('undici:request:headers', onHeaders);
      diagnostics.subscribe('undici:request:error', onError);
      return () => {
        diagnostics.unsubscribe('undici:request:create', onCreate);
        diagnostics.unsubscribe('undici:request:headers', onHeaders);
        diagnostics.unsubscribe('undici:request:error', onError);
      };
    },
  };
}

/**
 * Counts `/sso/auth` answers (204 = allow; 401/403 = deny with the `X-Sso-Code` reason).
 *
 * @example
 * countAuthRequestDecisions(app, metrics)
 */
export function countAuthRequestDecisions(app: FastifyInstance, metrics: SidecarMetrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    if (request.routeOptions.url === '/sso/auth') {
      const code = reply.getHeader('x-sso-code');
      metrics.gateDecision('authrequest', reply.statusCode === 204, typeof code === 'string' ? code : 'unknown');
    }
    done();
  });
}

/**
 * Serves `GET /sso/metrics` on its own listener. In the primary of worker mode it answers with
 * the sum over every worker (prom-client's cluster aggregation); otherwise with this process's
 * registry.
 *
 * @example
 * const server = await serveMetrics({ host: '0.0.0.0', port: 9464 }, metrics.registry)
 */
export async function serveMetrics(
  at: { host: string; port: number },
  registry: Registry | 'cluster',
): Promise<Server> {
  const aggregator = registry === 'cluster' ? new AggregatorRegistry() : undefined;
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/sso/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const body = aggregator ? aggregator.clusterMetrics() : (registry as Registry).metrics();
    body.then(
      (text) =>
        res
          .writeHead(200, {
            'content-type': (aggregator ?? (registry as Registry)).contentType,
            'cache-control': 'no-store',
          })
          .end(text),
      () => res.writeHead(503, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => resolve());
  });
  return server;
}

/** In a worker of worker mode: lets the primary's aggregator collect this registry. */
export function shareWithPrimary(registry: Registry): void {
  if (!cluster.isWorker) return;
  AggregatorRegistry.setRegistries([registry]);
  // prom-client answers the primary's requests only once an aggregator exists in the worker.
  new AggregatorRegistry();
}
