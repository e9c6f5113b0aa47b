/**
 * A WebSocket endpoint at `/socket.io/` so the kit's reverse-proxy mode can be tested with a real
 * upgrade.
 *
 * In Dify (1.14.0+) `/socket.io/` belongs to the separate `api_websocket` service (collaboration),
 * which authenticates with the console access-token cookie (reference §11). The stand-in keeps
 * only that much: the access-token cookie (or Bearer) must identify a loadable account, then the
 * connection is a plain RFC 6455 echo (text/binary frames echoed, ping → pong, close answered).
 * It does NOT speak the socket.io protocol. Before 1.14.0 the path is not served.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { StandinContext } from '../lib/context.js';
import { loadRequestUser } from '../lib/auth.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_FRAME = 1024 * 1024;

function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  let header: Buffer;
  if (len < 126) {
    header = Buffer.from([0x80 | opcode, len]);
  } else if (len < 65536) {
    header = Buffer.alloc(4);
    header[0] = 0x80 | opcode;
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([header, payload]);
}

function reject(socket: Duplex, status: string, version: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nX-Version: ${version}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function echo(socket: Duplex, head: Buffer): void {
  let buf = head;
  const onData = (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length < 2) return;
      const b0 = buf[0] ?? 0;
      const b1 = buf[1] ?? 0;
      const opcode = b0 & 0x0f;
      const masked = (b1 & 0x80) !== 0;
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        const big = buf.readBigUInt64BE(2);
        if (big > BigInt(MAX_FRAME)) {
          socket.destroy();
          return;
        }
        len = Number(big);
        off = 10;
      }
      if (!masked || len > MAX_FRAME) {
        // clients must mask (RFC 6455 §5.1)
        socket.end(encodeFrame(0x8, Buffer.from([0x03, 0xea])));
        return;
      }
      if (buf.length < off + 4 + len) return;
      const mask = buf.subarray(off, off + 4);
      const payload = Buffer.from(buf.subarray(off + 4, off + 4 + len));
      for (let i = 0; i < payload.length; i += 1) payload[i] = (payload[i] ?? 0) ^ (mask[i % 4] ?? 0);
      buf = buf.subarray(off + 4 + len);
      if (opcode === 0x1 || opcode === 0x2) socket.write(encodeFrame(opcode, payload));
      else if (opcode === 0x9) socket.write(encodeFrame(0xa, payload));
      else if (opcode === 0x8) {
        socket.end(encodeFrame(0x8, payload.subarray(0, 2)));
        return;
      }
    }
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
  if (head.length > 0) onData(Buffer.alloc(0));
}

export function websocketRoutes(app: FastifyInstance, ctx: StandinContext): void {
  const version = ctx.features.version;
  const open = new Set<Duplex>();
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    const path = (req.url ?? '').split('?')[0] ?? '';
    const key = req.headers['sec-websocket-key'];
    if (!ctx.features.collaborationWebsocket || !path.startsWith('/socket.io/'))
      return reject(socket, '404 Not Found', version);
    if (typeof key !== 'string' || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket')
      return reject(socket, '400 Bad Request', version);
    loadRequestUser(ctx, { headers: req.headers, url: req.url ?? '/', method: 'GET' } as unknown as FastifyRequest)
      .catch(() => null)
      .then((user) => {
        if (!user) return reject(socket, '401 Unauthorized', version);
        const accept = createHash('sha1')
          .update(key + GUID)
          .digest('base64');
        socket.write(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nX-Version: ${version}\r\n\r\n`,
        );
        echo(socket, head);
      })
      .catch(() => socket.destroy());
  };
  app.server.on('upgrade', onUpgrade);
  // upgraded sockets are no longer tracked by the HTTP server: end them so close() can finish
  app.addHook('preClose', async () => {
    app.server.off('upgrade', onUpgrade);
    for (const socket of open) socket.destroy();
  });
}
