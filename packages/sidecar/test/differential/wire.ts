/**
 * Exact bytes on a raw socket, and a small HTTP/1.1 response reader: the differential tests must
 * send request shapes no HTTP client library would produce (duplicate and folded headers,
 * absolute-form targets, raw `..;` and `%2f`, invalid escapes, upgrades on any route).
 */
import { connect, type Socket } from 'node:net';

export interface WireResponse {
  readonly status: number;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
}

export interface WireConnection {
  send(bytes: Buffer | string): void;
  /**
   * Reads one response. Resolves `undefined` when the connection closes or nothing complete
   * arrives within `waitMs` (a guard against hanging, never asserted on).
   */
  read(opts: { head?: boolean; waitMs?: number }): Promise<WireResponse | undefined>;
  readonly closed: boolean;
  destroy(): void;
}

export async function openWire(port: number): Promise<WireConnection> {
  const sock: Socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', () => resolve());
    sock.once('error', reject);
  });
  sock.setNoDelay(true);
  let buf = Buffer.alloc(0);
  let closed = false;
  let wake: (() => void) | undefined;
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    wake?.();
  });
  const onEnd = () => {
    closed = true;
    wake?.();
  };
  sock.on('end', onEnd);
  sock.on('close', onEnd);
  sock.on('error', onEnd);

  const waitMore = (deadline: number) =>
    new Promise<boolean>((resolve) => {
      if (closed) return resolve(false);
      const left = deadline - Date.now();
      if (left <= 0) return resolve(false);
      const t = setTimeout(() => {
        wake = undefined;
        resolve(false);
      }, left);
      wake = () => {
        clearTimeout(t);
        wake = undefined;
        resolve(true);
      };
    });

  async function read(opts: { head?: boolean; waitMs?: number }): Promise<WireResponse | undefined> {
    const deadline = Date.now() + (opts.waitMs ?? 3000);
    let end = -1;
    while ((end = buf.indexOf('\r\n\r\n')) === -1) if (!(await waitMore(deadline))) return undefined;
    const head = buf.subarray(0, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '');
    if (!m) return undefined;
    const status = Number(m[1]);
    const headers = head.slice(1).map((l) => {
      const i = l.indexOf(':');
      return [l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim()] as const;
    });
    const get = (n: string) => headers.find(([k]) => k === n)?.[1];
    let rest = buf.subarray(end + 4);
    const take = (n: number): WireResponse => {
      const body = rest.subarray(0, n);
      buf = rest.subarray(n);
      return { status, headers, body };
    };
    if (opts.head || status === 101 || status === 204 || status === 304 || (status >= 100 && status < 200)) {
      buf = rest;
      return { status, headers, body: Buffer.alloc(0) };
    }
    if (/chunked/i.test(get('transfer-encoding') ?? '')) {
      for (;;) {
        const parsed = parseChunked(rest);
        if (parsed) {
          buf = rest.subarray(parsed.used);
          return { status, headers, body: parsed.body };
        }
        if (!(await waitMore(deadline))) return { status, headers, body: rest };
        rest = buf.subarray(end + 4);
      }
    }
    const cl = get('content-length');
    if (cl !== undefined) {
      const n = Number(cl);
      while (rest.length < n) {
        if (!(await waitMore(deadline))) return { status, headers, body: rest };
        rest = buf.subarray(end + 4);
      }
      return take(n);
    }
    while (await waitMore(deadline)) rest = buf.subarray(end + 4);
    return take(rest.length);
  }

  return {
    send: (bytes) => void sock.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes),
    read,
    get closed() {
      return closed;
    },
    destroy: () => sock.destroy(),
  };
}

/** A complete chunked body at the start of `b` (trailers ignored), or undefined while incomplete. */
function parseChunked(b: Buffer): { body: Buffer; used: number } | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const nl = b.indexOf('\r\n', at);
    if (nl === -1) return undefined;
    const size = parseInt(b.subarray(at, nl).toString('latin1'), 16);
    if (!Number.isFinite(size)) return { body: Buffer.concat(parts), used: b.length };
    if (size === 0) {
      const fin = b.indexOf('\r\n\r\n', nl);
      if (fin === -1) return undefined;
      return { body: Buffer.concat(parts), used: fin + 4 };
    }
    if (b.length < nl + 2 + size + 2) return undefined;
    parts.push(b.subarray(nl + 2, nl + 2 + size));
    at = nl + 2 + size + 2;
  }
}
