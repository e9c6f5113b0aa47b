/**
 * Logger construction (pino with redaction) and the audit trail (`app.sso.audit`).
 *
 * @module
 */
import { pino, type Logger, type DestinationStream } from 'pino';
import type { FastifyRequest } from 'fastify';

/** Audit event names (public: log pipelines key on them). */
export type AuditEvent =
  | 'auth.login.start'
  | 'auth.login.success'
  | 'auth.login.failure'
  | 'auth.logout'
  | 'auth.backchannel'
  | 'auth.backchannel.rejected'
  | 'auth.token.rejected'
  | 'auth.session.expired'
  | 'auth.session.revoked'
  | 'auth.session.refreshed'
  | 'webapp.access'
  | (string & {});

/** Fields of an audit event. `request` is replaced by `requestId` and `ip`. */
export interface AuditFields {
  request?: FastifyRequest;
  reason?: string;
  iss?: string;
  sub?: string;
  sid?: string;
  [key: string]: unknown;
}

/** Writes one audit event (JSON line). */
export type AuditFn = (event: AuditEvent, fields?: AuditFields) => void;

const REDACTED = '[Redacted]';
const SENSITIVE_KEY =
  /token|secret|password|passwd|cookie|authorization|verifier|assertion|nonce|^code$|^state$|^session$|^sealed$/i;
const PUBLIC_CODE = /^(ERR|WARN)_[A-Z0-9_]+$|^FST_[A-Z0-9_]+$/;

/**
 * Deep copy of `value` with every sensitive field replaced by `[Redacted]`: keys containing
 * token/secret/password/cookie/authorization/verifier/assertion/nonce, and `code`/`state`
 * (except public `ERR_*`/`WARN_*` error codes under `code`).
 *
 * @example
 * ```ts
 * redact({ refresh_token: 'x', code: 'ERR_TOKEN_INVALID' }) // { refresh_token: '[Redacted]', code: 'ERR_TOKEN_INVALID' }
 * ```
 */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value; // requests, errors…: left to serializers
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (SENSITIVE_KEY.test(k) && !(k === 'code' && typeof v === 'string' && PUBLIC_CODE.test(v))) out[k] = REDACTED;
    else out[k] = redact(v, depth + 1);
  }
  return out;
}

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  level: string;
  /** Destination (tests capture logs here); defaults to stdout. */
  stream?: DestinationStream;
}

/**
 * pino logger with the sidecar's redaction: header paths via pino `redact`, everything else
 * via a `formatters.log` pass; request URLs are logged without their query.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: 'info' })
 * ```
 */
export function createLogger(opts: CreateLoggerOptions): Logger {
  const headerPaths = ['authorization', 'cookie', 'set-cookie', 'x-forwarded-access-token', 'proxy-authorization'];
  return pino(
    {
      level: opts.level,
      base: { service: 'dify-sso-sidecar' },
      redact: {
        paths: headerPaths.flatMap((h) => [`req.headers["${h}"]`, `res.headers["${h}"]`, `headers["${h}"]`]),
        censor: REDACTED,
      },
      formatters: {
        log: (obj) => redact(obj) as Record<string, unknown>,
      },
      serializers: {
        req: (req: { method?: string; url?: string; id?: string; ip?: string }) => ({
          method: req.method,
          path: typeof req.url === 'string' ? req.url.split('?')[0] : undefined,
          id: req.id,
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
        err: pino.stdSerializers.err,
      },
    },
    opts.stream,
  );
}

/**
 * Builds the audit function on top of a logger: `{ audit: true, event, status, … }` at info.
 *
 * @example
 * ```ts
 * const audit = createAudit(app.log, 'keycloak'); audit('auth.logout', { request, sub })
 * ```
 */
export function createAudit(logger: Pick<Logger, 'info'>, idp: string): AuditFn {
  return (event, fields = {}) => {
    const { request, ...rest } = fields;
    const status = /\.(failure|rejected)$/.test(event) ? 'failure' : /\.success$/.test(event) ? 'success' : 'info';
    logger.info(
      {
        audit: true,
        event,
        status,
        idp,
        ...(request ? { requestId: request.id, ip: request.ip } : {}),
        ...rest,
      },
      event,
    );
  };
}
