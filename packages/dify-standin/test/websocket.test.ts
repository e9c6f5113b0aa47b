/**
 * The `/socket.io/` WebSocket stand-in: cookie-authenticated upgrade, then an echo (real listen).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { SEED_IDS } from '../src/seed-ids.js';
import { SECRET, listen, standin } from './helpers.js';

async function accessCookie(): Promise<string> {
  const key = new TextEncoder().encode(SECRET);
  const token = await new SignJWT({
    user_id: SEED_IDS.aliceId,
    exp: Math.floor(Date.now() / 1000) + 600,
    sub: 'Console API Passport',
  })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(key);
  return `access_token=${token}`;
}

/** Raw client: sends the handshake, resolves with the status line and the socket. */
function handshake(
  base: string,
  path: string,
  cookie?: string,
): Promise<{ status: string; headers: string; socket: Socket; rest: Buffer }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let buf = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('connect', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
          (cookie ? `Cookie: ${cookie}\r\n` : '') +
          '\r\n',
      );
    });
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const head = buf.subarray(0, end).toString('latin1');
      resolve({ status: head.split('\r\n')[0] ?? '', headers: head, socket, rest: buf.subarray(end + 4) });
    };
    socket.on('data', onData);
  });
}

function maskedText(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const out = Buffer.alloc(6 + payload.length);
  out[0] = 0x81;
  out[1] = 0x80 | payload.length;
  mask.copy(out, 2);
  for (let i = 0; i < payload.length; i += 1) out[6 + i] = (payload[i] ?? 0) ^ (mask[i % 4] ?? 0);
  return out;
}

describe('/socket.io/ websocket stand-in', () => {
  it('upgrades with the console access cookie and echoes text frames', { timeout: 10_000 }, async (t) => {
    const s = standin();
    t.after(() => s.close());
    const base = await listen(s.app);
    const { status, headers, socket, rest } = await handshake(
      base,
      '/socket.io/?EIO=4&transport=websocket',
      await accessCookie(),
    );
    t.after(() => socket.destroy());
    assert.equal(status, 'HTTP/1.1 101 Switching Protocols');
    assert.match(headers, /Sec-WebSocket-Accept: [A-Za-z0-9+/=]{28}/);
    assert.match(headers, /X-Version: 1\.16\.1/);
    const reply = new Promise<Buffer>((resolve) => {
      let buf = rest;
      const check = () => {
        if (buf.length >= 2 && buf.length >= 2 + ((buf[1] ?? 0) & 0x7f)) resolve(buf);
      };
      socket.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        check();
      });
      check();
    });
    socket.write(maskedText('hello through the gate'));
    const frame = await reply;
    assert.equal(frame[0], 0x81);
    assert.equal(frame.subarray(2, 2 + ((frame[1] ?? 0) & 0x7f)).toString(), 'hello through the gate');
  });

  it('refuses an upgrade without a console login, and is absent before 1.14.0', { timeout: 10_000 }, async (t) => {
    const s = standin();
    const old = standin({ version: '1.13.0' });
    t.after(() => Promise.all([s.close(), old.close()]));
    const base = await listen(s.app);
    const anonymous = await handshake(base, '/socket.io/');
    anonymous.socket.destroy();
    assert.equal(anonymous.status, 'HTTP/1.1 401 Unauthorized');
    const oldBase = await listen(old.app);
    const missing = await handshake(oldBase, '/socket.io/', await accessCookie());
    missing.socket.destroy();
    assert.equal(missing.status, 'HTTP/1.1 404 Not Found');
  });
});
