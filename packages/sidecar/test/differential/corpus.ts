/**
 * The corpus of hostile requests (`corpus/*.json`, documented in README.md): loading,
 * validation, and rendering a case into the exact bytes sent on the wire.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Mode, Person } from './stack.js';

export interface CaseRequest {
  /** Default GET. */
  readonly method?: string;
  /** The request-target exactly as sent: origin-form, absolute-form, anything. */
  readonly target?: string;
  /** Default `HTTP/1.1`. */
  readonly version?: string;
  /** Header lines in order, duplicates allowed; `Host: {host}` is added first unless a Host header is given. */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  /** Body text; `Content-Length` is added unless the headers set `Content-Length` or `Transfer-Encoding`. */
  readonly body?: string;
  /** A body of `count` copies of `char` (oversized bodies). */
  readonly bodyRepeat?: { readonly char: string; readonly count: number };
  /** Body sent with `Transfer-Encoding: chunked`, one chunk per entry. */
  readonly chunks?: readonly string[];
  /** The whole request head verbatim (lines joined with CRLF, final blank line added); replaces method/target/version/headers. */
  readonly raw?: readonly string[];
}

export interface CaseExpect {
  /** The gate (or nginx) must refuse: a 4xx answer (`status` if given) and nothing recorded upstream. */
  readonly refused?: boolean;
  readonly status?: number;
  /** When the answer is a redirect to the SSO login, its query must hold exactly these parameter names, each once. */
  readonly redirectParams?: readonly string[];
  /** The kit session of this person must still be live after the case. */
  readonly sessionSurvives?: 'A' | 'B';
}

/** An SSO login through the sidecar's own routes (IdP user as the hostile OP asserts it). */
export interface CaseLogin {
  readonly sub: string;
  readonly claims: Record<string, unknown>;
}

export interface Case {
  readonly id: string;
  /** Number of the issue-9 finding this case is the concrete attack of, if any. */
  readonly finding?: number;
  readonly about: string;
  readonly modes?: readonly Mode[];
  /** The request sent as exact bytes; absent for a `logins` case. */
  readonly request?: CaseRequest;
  /**
   * Instead of a request: SSO logins in order. Every login that yields a Dify session must land
   * on a different Dify account (no two IdP identities share one account).
   */
  readonly logins?: readonly CaseLogin[];
  /**
   * With `logins`: e-mail addresses of Dify accounts that exist before the logins and were never
   * signed in through SSO (created through Dify's admin API: invitation + activation). A login
   * may land on such an account only when its e-mail is the member's (ASCII case-insensitive).
   */
  readonly members?: readonly string[];
  /** A second request on the same connection after the first answer (tunnels, keep-alive reuse). */
  readonly then?: CaseRequest;
  readonly expect?: CaseExpect;
  /** File the case came from (set by the loader). */
  readonly file: string;
}

const corpusDir = join(dirname(fileURLToPath(import.meta.url)), 'corpus');
const CASE_KEYS = new Set(['id', 'finding', 'about', 'modes', 'request', 'logins', 'members', 'then', 'expect']);
const REQ_KEYS = new Set(['method', 'target', 'version', 'headers', 'body', 'bodyRepeat', 'chunks', 'raw']);
const EXPECT_KEYS = new Set(['refused', 'status', 'redirectParams', 'sessionSurvives']);

function check(cond: unknown, where: string, what: string): asserts cond {
  if (!cond) throw new TypeError(`corpus ${where}: ${what}`);
}

function checkRequest(r: unknown, where: string): asserts r is CaseRequest {
  check(r && typeof r === 'object' && !Array.isArray(r), where, 'must be an object');
  for (const k of Object.keys(r)) check(REQ_KEYS.has(k), where, `unknown key "${k}"`);
  const q = r as CaseRequest;
  check(q.raw !== undefined || typeof q.target === 'string', where, '"target" (or "raw") is required');
  if (q.headers)
    check(
      Array.isArray(q.headers) &&
        q.headers.every((h) => Array.isArray(h) && h.length === 2 && h.every((x) => typeof x === 'string')),
      where,
      '"headers" must be [name, value] pairs',
    );
  if (q.raw)
    check(Array.isArray(q.raw) && q.raw.every((l) => typeof l === 'string'), where, '"raw" must be a list of lines');
  check(
    [q.body, q.bodyRepeat, q.chunks].filter((x) => x !== undefined).length <= 1,
    where,
    'at most one of body, bodyRepeat, chunks',
  );
}

/** Every case of every `corpus/*.json` file, validated; ids are unique across files. */
export function loadCorpus(): Case[] {
  const out: Case[] = [];
  const ids = new Set<string>();
  for (const file of readdirSync(corpusDir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const data = JSON.parse(readFileSync(join(corpusDir, file), 'utf8')) as unknown;
    check(Array.isArray(data), file, 'must hold a JSON array of cases');
    for (const [i, c] of (data as Record<string, unknown>[]).entries()) {
      const where = `${file}[${i}]`;
      for (const k of Object.keys(c)) check(CASE_KEYS.has(k), where, `unknown key "${k}"`);
      check(typeof c.id === 'string' && /^[a-z0-9][a-z0-9-]*$/.test(c.id), where, '"id" must be kebab-case');
      check(!ids.has(c.id as string), where, `duplicate id "${String(c.id)}"`);
      ids.add(c.id as string);
      check(typeof c.about === 'string' && c.about.length > 0, where, '"about" is required');
      if (c.finding !== undefined)
        check(
          Number.isInteger(c.finding) && (c.finding as number) >= 1 && (c.finding as number) <= 8,
          where,
          '"finding" must be 1..8',
        );
      if (c.modes !== undefined)
        check(
          Array.isArray(c.modes) && c.modes.every((m) => m === 'nginx' || m === 'proxy'),
          where,
          '"modes" must list nginx and/or proxy',
        );
      check((c.request === undefined) !== (c.logins === undefined), where, 'exactly one of "request" and "logins"');
      if (c.logins !== undefined) {
        check(
          Array.isArray(c.logins) &&
            c.logins.length >= 1 &&
            c.logins.every((l) => l && typeof l.sub === 'string' && typeof l.claims === 'object'),
          where,
          '"logins" must list { sub, claims }',
        );
        check(c.then === undefined && c.expect === undefined, where, 'a "logins" case has no "then" or "expect"');
        if (c.members !== undefined)
          check(
            Array.isArray(c.members) &&
              c.members.every((m) => typeof m === 'string' && /^[\x21-\x7e]+@[\x21-\x7e]+$/.test(m)),
            where,
            '"members" must list ASCII e-mail addresses',
          );
      } else {
        check(c.members === undefined, where, '"members" only with "logins"');
        checkRequest(c.request, `${where}.request`);
      }
      if (c.then !== undefined) checkRequest(c.then, `${where}.then`);
      if (c.expect !== undefined) {
        check(typeof c.expect === 'object' && c.expect !== null, where, '"expect" must be an object');
        for (const k of Object.keys(c.expect)) check(EXPECT_KEYS.has(k), `${where}.expect`, `unknown key "${k}"`);
      }
      out.push({ ...(c as unknown as Omit<Case, 'file'>), file });
    }
  }
  return out;
}

export interface Rendered {
  readonly bytes: Buffer;
  readonly method: string;
  /** People whose kit session cookie this request carries. */
  readonly presented: ReadonlyArray<'A' | 'B'>;
}

const PLACEHOLDER = /\{(kit|access|refresh|csrf)(A|B)\}|\{host\}/g;

function fill(text: string, people: { A: Person; B: Person }, host: string): string {
  return text.replace(PLACEHOLDER, (m, what: string | undefined, who: 'A' | 'B' | undefined) => {
    if (m === '{host}') return host;
    const p = people[who as 'A' | 'B'];
    return what === 'kit' ? p.kit : what === 'access' ? p.access : what === 'refresh' ? p.refresh : p.csrf;
  });
}

function presentedIn(text: string): Array<'A' | 'B'> {
  return (['A', 'B'] as const).filter((w) => text.includes(`{kit${w}}`));
}

/** The exact bytes of a request; `marker` goes into an `X-Diff-Req` header the upstream records. */
export function render(r: CaseRequest, people: { A: Person; B: Person }, host: string, marker: string): Rendered {
  let head: string[];
  let method: string;
  if (r.raw) {
    head = r.raw.map((l) => fill(l, people, host));
    head.splice(1, 0, `X-Diff-Req: ${marker}`);
    method = (head[0] ?? '').split(' ', 1)[0] ?? '';
  } else {
    method = r.method ?? 'GET';
    const headers = (r.headers ?? []).map(([k, v]) => [k, fill(v, people, host)] as const);
    head = [`${method} ${r.target} ${r.version ?? 'HTTP/1.1'}`];
    if (!headers.some(([k]) => k.toLowerCase() === 'host')) head.push(`Host: ${host}`);
    head.push(...headers.map(([k, v]) => `${k}: ${v}`), `X-Diff-Req: ${marker}`);
  }
  let body = Buffer.alloc(0);
  const has = (n: string) => head.some((l) => l.toLowerCase().startsWith(`${n}:`));
  if (r.chunks) {
    if (!has('transfer-encoding')) head.push('Transfer-Encoding: chunked');
    body = Buffer.from(
      `${r.chunks.map((c) => `${Buffer.byteLength(c).toString(16)}\r\n${c}\r\n`).join('')}0\r\n\r\n`,
      'latin1',
    );
  } else if (r.body !== undefined || r.bodyRepeat) {
    body = r.bodyRepeat
      ? Buffer.alloc(r.bodyRepeat.count, r.bodyRepeat.char)
      : Buffer.from(fill(r.body as string, people, host), 'latin1');
    if (!has('content-length') && !has('transfer-encoding')) head.push(`Content-Length: ${body.length}`);
  }
  const source = JSON.stringify(r);
  return {
    bytes: Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]),
    method: method.toUpperCase(),
    presented: presentedIn(source),
  };
}
