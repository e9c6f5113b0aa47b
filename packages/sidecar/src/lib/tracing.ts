/**
 * Optional OpenTelemetry traces, **off by default**. Turned on by `otel.endpoint`
 * (`DIFY_SSO_OTEL_ENDPOINT`, or the standard `OTEL_EXPORTER_OTLP_ENDPOINT` /
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` mapped onto it by {@link otelEnvDefaults}); spans go to
 * an OTLP/HTTP receiver as JSON (`http/json`), batched.
 *
 * The OpenTelemetry packages are loaded only by {@link startTracing} (dynamic `import()`), so a
 * sidecar with tracing off never loads a single `@opentelemetry/*` module and {@link withSpan}
 * costs one branch per call.
 *
 * Spans: `dify_sso.http <route>` for the sidecar's own routes and gate decisions (nginx
 * `auth_request` and reverse-proxy mode), `dify_sso.oidc.token` (code exchange and refresh at
 * the token endpoint), `dify_sso.jwks.fetch`, `dify_sso.store.<op>` (session store calls). What
 * a span may carry is closed: only the attribute names of {@link SpanAttributeName} exist, their
 * values are short codes, numbers or booleans (anything else is dropped), and no URL, query,
 * header, cookie, token, code, `state` or user identifier is ever recorded.
 *
 * @module
 */
import type { FastifyInstance } from 'fastify';
import type { SidecarConfig } from '../config/schema.js';
import type { SessionStore } from '../store/types.js';

/** The only attribute names a span of the sidecar carries. */
export type SpanAttributeName =
  | 'http.request.method'
  | 'http.route'
  | 'http.response.status_code'
  | 'dify_sso.gate.mode'
  | 'dify_sso.gate.result'
  | 'dify_sso.reason'
  | 'dify_sso.grant_type'
  | 'dify_sso.jwks.keys'
  | 'dify_sso.store.kind'
  | 'dify_sso.error_code';

/** Attributes of one span. */
export type SpanAttributes = Partial<Record<SpanAttributeName, string | number | boolean>>;

/** What code inside {@link withSpan} may do with its span. */
export interface SpanHandle {
  setAttribute(name: SpanAttributeName, value: string | number | boolean): void;
}

/** Values are codes: letters, digits, `_ . : / * -`, at most 64 characters (methods, route patterns, reason and error codes). */
const VALUE_RE = /^[A-Za-z0-9_.:/*-]{0,64}$/;

const NOOP_SPAN: SpanHandle = { setAttribute() {} };

interface Active {
  run<T>(name: string, attrs: SpanAttributes, fn: (span: SpanHandle) => Promise<T>): Promise<T>;
  startSpan(
    name: string,
    attrs: SpanAttributes,
  ): { handle: SpanHandle; end(error?: boolean): void; bind<T>(fn: () => T): T };
  shutdown(): Promise<void>;
}

let active: Active | undefined;

/** Whether tracing was started in this process. */
export function tracingEnabled(): boolean {
  return active !== undefined;
}

/** Keeps only allowed attribute values (codes, finite numbers, booleans). */
function clean(value: unknown): string | number | boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && VALUE_RE.test(value)) return value;
  return undefined;
}

/**
 * Runs `fn` inside a span named `name` (a child of the current span); the span records an
 * error status when `fn` throws (the error's stable `code` only, never its message). With
 * tracing off, just calls `fn`.
 *
 * @example
 * ```ts
 * const tokens = await withSpan('dify_sso.oidc.token', { 'dify_sso.grant_type': 'authorization_code' }, () => grant())
 * ```
 */
export function withSpan<T>(name: string, attrs: SpanAttributes, fn: (span: SpanHandle) => Promise<T>): Promise<T> {
  if (!active) return fn(NOOP_SPAN);
  return active.run(name, attrs, fn);
}

/**
 * Starts a span that the caller ends (request hooks); `bind` runs a callback inside it so that
 * spans started there become its children. `undefined` with tracing off.
 *
 * @example
 * ```ts
 * const s = startSpan('dify_sso.http GET /sso/login', { 'http.request.method': 'GET' }); s?.end()
 * ```
 */
export function startSpan(name: string, attrs: SpanAttributes): ReturnType<Active['startSpan']> | undefined {
  return active?.startSpan(name, attrs);
}

/** Tracing settings (`otel.*`). */
export type TracingConfig = SidecarConfig['otel'];

/**
 * Maps the standard OpenTelemetry variables onto the sidecar's when its own are unset:
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (a full URL, used as is) or `OTEL_EXPORTER_OTLP_ENDPOINT`
 * (a base URL; `/v1/traces` is appended) → `DIFY_SSO_OTEL_ENDPOINT`; `OTEL_SERVICE_NAME` →
 * `DIFY_SSO_OTEL_SERVICE_NAME`. `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` keep
 * tracing off unless `DIFY_SSO_OTEL_ENDPOINT` is set explicitly.
 *
 * @example
 * ```ts
 * const config = loadConfig(otelEnvDefaults(process.env))
 * ```
 */
export function otelEnvDefaults(env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  const off =
    env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true' || env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === 'none';
  if (!env.DIFY_SSO_OTEL_ENDPOINT && !off) {
    const signal = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
    const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
    if (signal) out.DIFY_SSO_OTEL_ENDPOINT = signal;
    else if (base) out.DIFY_SSO_OTEL_ENDPOINT = `${base.replace(/\/+$/, '')}/v1/traces`;
  }
  if (!env.DIFY_SSO_OTEL_SERVICE_NAME && env.OTEL_SERVICE_NAME?.trim())
    out.DIFY_SSO_OTEL_SERVICE_NAME = env.OTEL_SERVICE_NAME.trim();
  return out;
}

/**
 * Starts tracing when `otel.endpoint` is set: loads the OpenTelemetry SDK (dynamic import),
 * registers an AsyncLocalStorage context manager and a batching OTLP/HTTP JSON exporter.
 * Resolves to a function that flushes and stops it. With no endpoint, loads nothing.
 *
 * @example
 * ```ts
 * const stop = await startTracing(config.otel); … await stop()
 * ```
 */
export async function startTracing(o: TracingConfig): Promise<() => Promise<void>> {
  const endpoint = (o as Partial<TracingConfig>).endpoint;
  if (!endpoint) return async () => {};
  if (active) return () => stopTracing();
  const [
    api,
    { TracerProvider, BatchSpanProcessor, TraceIdRatioBasedSampler, ParentBasedSampler },
    { OTLPTraceExporter },
    { resourceFromAttributes },
    { AsyncLocalStorageContextManager },
  ] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/context-async-hooks'),
  ]);
  const headers: Record<string, string> = {};
  for (const h of o.headers) {
    const i = h.indexOf('=');
    if (i > 0) headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  const exporter = new OTLPTraceExporter({ url: endpoint, headers, timeoutMillis: o.timeoutSeconds * 1000 });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': o.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(o.samplePercent / 100) }),
    spanProcessors: [new BatchSpanProcessor({ exporter })],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  api.context.setGlobalContextManager(contextManager);
  const tracer = provider.getTracer('dify-sso-sidecar');
  const toAttrs = (attrs: SpanAttributes) => {
    const out: Record<string, string | number | boolean> = {};
    for (const [k, v] of Object.entries(attrs)) {
      const c = clean(v);
      if (c !== undefined) out[k] = c;
    }
    return out;
  };
  const handleOf = (span: import('@opentelemetry/api').Span): SpanHandle => ({
    setAttribute(name, value) {
      const c = clean(value);
      if (c !== undefined) span.setAttribute(name, c);
    },
  });
  const fail = (span: import('@opentelemetry/api').Span, err: unknown) => {
    const code = clean((err as { code?: unknown } | undefined)?.code);
    if (typeof code === 'string') span.setAttribute('dify_sso.error_code', code);
    span.setStatus({ code: api.SpanStatusCode.ERROR });
  };
  active = {
    run: (name, attrs, fn) =>
      tracer.startActiveSpan(name, { attributes: toAttrs(attrs) }, async (span) => {
        try {
          return await fn(handleOf(span));
        } catch (err) {
          fail(span, err);
          throw err;
        } finally {
          span.end();
        }
      }),
    startSpan: (name, attrs) => {
      const span = tracer.startSpan(name, { attributes: toAttrs(attrs) });
      const ctx = api.trace.setSpan(api.context.active(), span);
      return {
        handle: handleOf(span),
        end: (error) => {
          if (error) span.setStatus({ code: api.SpanStatusCode.ERROR });
          span.end();
        },
        bind: (fn) => api.context.with(ctx, fn),
      };
    },
    shutdown: async () => {
      // A collector that is down loses the last batch; it never fails the sidecar's shutdown.
      await provider.shutdown().catch(() => undefined);
      contextManager.disable();
      api.context.disable();
    },
  };
  return () => stopTracing();
}

/** Flushes pending spans and stops tracing (idempotent). */
export async function stopTracing(): Promise<void> {
  const a = active;
  active = undefined;
  await a?.shutdown();
}

/** Span name of a request: the gate decision (`/sso/auth`, reverse-proxy routes) or the sidecar route. */
function requestSpanName(method: string, route: string | undefined): { name: string; attrs: SpanAttributes } {
  if (route === '/sso/auth') return { name: 'dify_sso.gate', attrs: { 'dify_sso.gate.mode': 'authrequest' } };
  if (route === '/*' || route === '/') return { name: 'dify_sso.gate', attrs: { 'dify_sso.gate.mode': 'proxy' } };
  return { name: `dify_sso.http ${method} ${route ?? 'unrouted'}`, attrs: {} };
}

/**
 * Adds request hooks that open one span per request (gate decisions, login, callback, logout,
 * back-channel logout, …) and run the handler inside it, so token, JWKS and store spans become
 * its children. Does nothing when tracing is off. Health routes are not traced.
 *
 * @example
 * ```ts
 * traceRequests(app)
 * ```
 */
export function traceRequests(app: FastifyInstance): void {
  if (!active) return;
  const spans = new WeakMap<object, NonNullable<ReturnType<typeof startSpan>>>();
  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    if (route?.startsWith('/sso/health/')) return done();
    const { name, attrs } = requestSpanName(request.method, route);
    const span = startSpan(name, {
      ...attrs,
      'http.request.method': request.method,
      ...(route ? { 'http.route': route } : {}),
    });
    if (!span) return done();
    spans.set(request, span);
    span.bind(() => done());
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = spans.get(request);
    if (span) {
      spans.delete(request);
      span.handle.setAttribute('http.response.status_code', reply.statusCode);
      const code = reply.getHeader('x-sso-code');
      if (typeof code === 'string') span.handle.setAttribute('dify_sso.reason', code);
      const route = request.routeOptions.url;
      if (route === '/sso/auth')
        span.handle.setAttribute('dify_sso.gate.result', reply.statusCode === 204 ? 'allow' : 'deny');
      const location = reply.getHeader('location');
      // The sign-in page's reason code (`/signin?message=<code>`): a code, never the rest of the URL.
      const reason =
        typeof location === 'string' ? /[?&]message=([a-z0-9_]{1,64})(?:&|$)/.exec(location)?.[1] : undefined;
      if (reason && typeof code !== 'string') span.handle.setAttribute('dify_sso.reason', reason);
      span.end(reply.statusCode >= 500);
    }
    done();
  });
}

/**
 * The store with one span per operation (`dify_sso.store.<op>`), or the store itself when
 * tracing is off. Keys, ids and values are never recorded.
 *
 * @example
 * ```ts
 * const store = traceStore(createStore(config))
 * ```
 */
export function traceStore(store: SessionStore): SessionStore {
  if (!active) return store;
  const kind = store.kind;
  const span =
    <A extends unknown[], R>(op: string, fn: (...a: A) => Promise<R>) =>
    (...a: A): Promise<R> =>
      withSpan(`dify_sso.store.${op}`, { 'dify_sso.store.kind': kind }, () => fn(...a));
  const kv = store.kv;
  return Object.freeze({
    ...store,
    kind,
    get: span('get', (id: string, touch?: Parameters<SessionStore['get']>[1]) => store.get(id, touch)),
    create: span('create', (r: Parameters<SessionStore['create']>[0]) => store.create(r)),
    update: span('update', (id: string, p: Parameters<SessionStore['update']>[1]) => store.update(id, p)),
    delete: span('delete', (id: string) => store.delete(id)),
    deleteBySid: span('delete_by_sid', (iss: string, sid: string) => store.deleteBySid(iss, sid)),
    deleteBySub: span('delete_by_sub', (iss: string, sub: string) => store.deleteBySub(iss, sub)),
    listBySub: span('list_by_sub', (iss: string, sub: string) => store.listBySub(iss, sub)),
    ping: span('ping', () => store.ping()),
    close: () => store.close(),
    kv: Object.freeze({
      get: span('kv_get', (k: string) => kv.get(k)),
      set: span('kv_set', (k: string, v: string, ttl: number) => kv.set(k, v, ttl)),
      del: span('kv_del', (k: string) => kv.del(k)),
      setIfAbsent: span('kv_set_if_absent', (k: string, v: string, ttl: number) => kv.setIfAbsent(k, v, ttl)),
      getDel: span('kv_get_del', (k: string) => kv.getDel(k)),
    }),
  } satisfies SessionStore);
}
