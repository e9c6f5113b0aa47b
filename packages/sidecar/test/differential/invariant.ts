/**
 * The assertion of the differential tests, the same for every case and both modes: whatever
 * reached the python upstream must be exactly what the gate authorised.
 *
 * - A local-login / setup route (`locked.*`) never executes.
 * - A console route, the refresh route and python-engineio (`/socket.io/`) never execute without
 *   a kit session on the request, and the Dify access cookie werkzeug read (under the name
 *   dify-api reads in this deployment) names the account of a kit session presented; on the
 *   refresh route the refresh cookie is that account's. Flask's own OPTIONS answers run no view
 *   and need no session.
 * - A web-app API route (`/api/**`, gated) never executes without a kit session; where the gate
 *   decides on `/files` (reverse-proxy mode), a files route only with a kit session or a signed
 *   URL (as werkzeug read the query).
 * - No header from the sidecar's identity-header list reaches the upstream, in any mode (the list
 *   is read from `gate/identity-headers.ts`). A header with a reserved prefix (`x-sso-`, …) that is
 *   not on the list reaches no route the gate decides on; on locations nginx does not gate
 *   (`ungatedPrefixesPass`) it may pass, as the sidecar README's header rule states (nginx cannot
 *   blank a prefix, and dify-api reads none of these names).
 */
import { IDENTITY_HEADERS, isIdentityHeader, normaliseHeaderName } from '../../src/gate/identity-headers.js';
import type { Person, UpstreamRecord } from './stack.js';

export type RouteClass =
  | 'locked'
  | 'public'
  | 'refresh'
  | 'console'
  | 'socketio'
  | 'webapp'
  | 'service'
  | 'files'
  | 'mcp'
  | 'triggers'
  | 'unmatched';

export function routeClass(r: UpstreamRecord): RouteClass {
  if (r.kind === 'engineio') return 'socketio';
  if (r.endpoint === null) return 'unmatched';
  const cls = r.endpoint.split('.', 1)[0] as RouteClass;
  return cls;
}

/** Violations of the invariant by one upstream record; `presented` are the people whose kit cookie the request carried. */
export interface InvariantContext {
  /** Names of the Dify cookies dify-api reads in this deployment. */
  readonly names: { readonly access: string; readonly refresh: string };
  /** Whether the gate decides on `/files` in this mode (reverse proxy: yes; nginx: the location is not gated). */
  readonly filesGated: boolean;
  /** nginx mode: route classes whose location has no `auth_request` (unlisted reserved-prefix headers may pass there). */
  readonly ungatedPrefixesPass?: readonly RouteClass[];
}

export function violations(r: UpstreamRecord, presented: readonly Person[], ctx: InvariantContext): string[] {
  const { names } = ctx;
  const out: string[] = [];
  const cls = routeClass(r);
  const where = `${r.kind}:${r.endpoint ?? '-'} ${r.method} ${JSON.stringify(r.rawUri)} (werkzeug path ${JSON.stringify(r.path)})`;
  const accounts = new Set(presented.map((p) => p.account));
  const refreshFps = new Set(presented.map((p) => p.refreshFp));
  if (cls === 'locked') out.push(`locked route executed: ${where}`);
  if ((cls === 'console' || cls === 'refresh' || cls === 'socketio') && !r.preflight) {
    if (presented.length === 0) out.push(`${cls} route reached without a kit session: ${where}`);
    for (const [name, c] of Object.entries(r.cookies)) {
      if (name === names.access && !accounts.has(c.account ?? ''))
        out.push(`werkzeug read ${name} of account ${String(c.account)}, not of the kit session presented: ${where}`);
      if (name === names.refresh && cls === 'refresh' && !refreshFps.has(c.fp))
        out.push(`werkzeug read a ${name} that is not the presented session's: ${where}`);
    }
  }
  if (cls === 'webapp' && !r.preflight && presented.length === 0)
    out.push(`web-app API reached without a kit session: ${where}`);
  if (cls === 'files' && ctx.filesGated && !r.preflight && !r.signedFile && presented.length === 0)
    out.push(`unsigned file route reached without a kit session: ${where}`);
  const listed = (h: string) => IDENTITY_HEADERS.includes(normaliseHeaderName(h));
  const prefixMayPass = (ctx.ungatedPrefixesPass ?? []).includes(cls);
  const leaked = r.headers.filter((h) => isIdentityHeader(h) && (!prefixMayPass || listed(h)));
  if (leaked.length > 0) out.push(`identity header(s) ${leaked.join(', ')} reached the upstream: ${where}`);
  return out;
}
