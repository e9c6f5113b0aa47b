import { BlockList, isIP } from 'node:net';

/**
 * A parsed list of CIDR ranges (IPv4 and IPv6). IPv4-mapped IPv6 peers (`::ffff:10.0.0.1`)
 * are matched as IPv4.
 *
 * @example
 * const list = parseCidrList('127.0.0.1/32, 10.0.0.0/8')
 * list.contains('10.1.2.3') // true
 */
export interface CidrList {
  readonly entries: readonly string[];
  contains(ip: string | undefined): boolean;
}

/** Throws a TypeError coded ERR_CONFIG_INVALID naming the bad entry. */
export function parseCidrList(value: string | readonly string[], path = 'cidrs'): CidrList {
  const items = (typeof value === 'string' ? value.split(',') : [...value]).map((s) => s.trim()).filter(Boolean);
  const bl = new BlockList();
  for (const item of items) {
    const [addr, bitsText] = item.split('/');
    const family = isIP(addr ?? '');
    if (family === 0) throw configError(`"${path}" entry "${item}" must be an IP address or CIDR`);
    const max = family === 4 ? 32 : 128;
    const bits = bitsText === undefined ? max : Number(bitsText);
    if (!Number.isInteger(bits) || bits < 0 || bits > max || (bitsText !== undefined && !/^\d+$/.test(bitsText))) {
      throw configError(`"${path}" entry "${item}" has an invalid prefix length`);
    }
    bl.addSubnet(addr as string, bits, family === 4 ? 'ipv4' : 'ipv6');
  }
  const check = (ip: string): boolean => {
    const v4 = unmapV4(ip);
    const family = isIP(v4);
    if (family === 0) return false;
    return bl.check(v4, family === 4 ? 'ipv4' : 'ipv6');
  };
  // The same few peers (nginx, the ingress controller) ask on every request, and BlockList.check
  // builds a native SocketAddress per call: answers are remembered per address string (the list
  // never changes), in a bounded map that starts over when full.
  const answers = new Map<string, boolean>();
  return {
    entries: items,
    contains(ip) {
      if (!ip) return false;
      let answer = answers.get(ip);
      if (answer === undefined) {
        answer = check(ip);
        if (answers.size >= MAX_REMEMBERED) answers.clear();
        answers.set(ip, answer);
      }
      return answer;
    },
  };
}

/** Addresses a list remembers its answer for. */
const MAX_REMEMBERED = 1024;

export function unmapV4(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? (m[1] as string) : ip;
}

function configError(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_CONFIG_INVALID' });
}

/**
 * The client address of a request (the **trust-proxy rule**, README "Security considerations").
 *
 * - The socket peer is the client unless it is in `trusted`; headers from untrusted peers are
 *   never read (oauth2-proxy GHSA-7x63-xv5r-3p2x). `X-Real-IP` is never read.
 * - From a trusted peer, `X-Forwarded-For` (all its fields, in order, joined) is walked **from
 *   the right**: each hop was appended by the proxy to its right (nginx appends `$remote_addr`
 *   through `$proxy_add_x_forwarded_for`), so a hop is believed only while everything to its
 *   right is a trusted proxy. The first hop that is not in `trusted` is the client. Hops to its
 *   left were written by the client and are never read.
 * - A malformed hop reached by the walk (not a bare IPv4/IPv6 address: empty, a port, brackets,
 *   a name, `unknown`) makes the client unknown: `undefined`, never the proxy's own address and
 *   never a neighbouring hop. Break-glass refuses an unknown client.
 * - When every hop is trusted, the request started on a trusted proxy's host: the client is the
 *   left-most hop, which the next trusted proxy wrote (not the client). With no
 *   `X-Forwarded-For`, the client is the trusted peer itself.
 *
 * This is sound only when `trusted` holds nothing but proxies that append to the header: a
 * "trusted" address that is really a client can claim any hop to its left. Hence
 * `dify-sso deploy` generates `trustProxy` as nginx's own fixed address on a dedicated network
 * (`gateAddresses` in `deploy/compose.ts`), never a private range.
 *
 * @example
 * const nginx = parseCidrList('172.31.255.250/32')
 * clientAddress('172.31.255.250', { 'x-forwarded-for': '10.1.1.1, 10.9.9.9' }, nginx) // '10.9.9.9'
 * clientAddress('10.9.9.9', { 'x-forwarded-for': '10.1.1.1' }, nginx)                // '10.9.9.9'
 */
export function clientAddress(
  peer: string | undefined,
  headers: Record<string, string | string[] | undefined>,
  trusted: CidrList,
): string | undefined {
  const p = peer ? unmapV4(peer) : undefined;
  if (!trusted.contains(p)) return p;
  const xff = headerValue(headers['x-forwarded-for']);
  if (xff === undefined) return p;
  const hops = xff.split(',').map((s) => unmapV4(s.trim()));
  for (let i = hops.length - 1; i >= 0; i--) {
    const h = hops[i] as string;
    if (isIP(h) === 0) return undefined; // malformed chain: client unknown (never the proxy itself)
    if (!trusted.contains(h)) return h;
  }
  // Every hop is a trusted proxy: the left-most one was written by the trusted proxy to its right.
  return hops[0];
}

export function headerValue(v: string | string[] | undefined): string | undefined {
  if (Array.isArray(v)) return v.join(',');
  return v;
}
