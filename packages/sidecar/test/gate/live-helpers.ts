/** Live stack for gate tests: stand-in api, a minimal "web", the sidecar (listening), Hostile OP. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { login, type Jar } from '../helpers/harness.js';
import { HostileOp } from '../helpers/hostile-op.js';
import { USERS, setCookieValue, startBridge, startStandin, type Standin } from '../dify/helpers.js';

export interface WebDouble {
  url: string;
  hostport: string;
  /** Headers of the last request the web double received. */
  last: Record<string, string | string[] | undefined>;
  server: Server;
  close(): Promise<void>;
}

/** A stand-in for Dify web: echoes the request headers as JSON; answers websocket upgrades by echoing bytes. */
export async function startWebDouble(): Promise<WebDouble> {
  const d: Partial<WebDouble> = {};
  const server = createServer((req, res) => {
    d.last = req.headers;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ path: req.url, headers: req.headers }));
  });
  const upgraded = new Set<import('node:stream').Duplex>();
  server.on('upgrade', (req, socket) => {
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    d.last = req.headers;
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.on('data', (b: Buffer) => socket.write(Buffer.concat([Buffer.from('echo:'), b])));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(d, {
    url: `http://127.0.0.1:${port}`,
    hostport: `127.0.0.1:${port}`,
    last: {},
    server,
    close: async () => {
      for (const u of upgraded) u.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  }) as WebDouble;
}

export interface LiveStack {
  op: HostileOp;
  standin: Standin;
  web: WebDouble;
  bridge: Awaited<ReturnType<typeof startBridge>>;
  sidecarUrl: string;
  close(): Promise<void>;
}

export async function startLiveStack(
  publicUrl: string,
  env: Record<string, string | undefined> = {},
): Promise<LiveStack> {
  const op = await HostileOp.start();
  const standin = await startStandin();
  const web = await startWebDouble();
  const bridge = await startBridge(
    standin,
    {
      DIFY_SSO_PUBLIC_URL: publicUrl,
      DIFY_SSO_DIFY_WEB_URL: web.url,
      ...env,
    },
    { op, listen: true },
  );
  const sidecarUrl = `http://127.0.0.1:${(bridge.app.server.address() as AddressInfo).port}`;
  return {
    op,
    standin,
    web,
    bridge,
    sidecarUrl,
    close: async () => {
      await bridge.close();
      await web.close();
      await standin.close();
      await op.close();
    },
  };
}

/** Logs alice in (through the sidecar's own routes) and returns the browser's cookies. */
export async function aliceCookies(
  s: LiveStack,
  user: { sub: string; claims: Record<string, unknown> } = USERS.alice,
): Promise<{ jar: Jar; kit: string; all: string; csrf: string; access: string; refresh: string }> {
  const { callbackRes, jar } = await login(s.bridge.app, s.op, { user });
  const sc = callbackRes.headers['set-cookie'];
  const kit = [...jar]
    .filter(([k]) => /dify_sso$/.test(k))
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');
  const access = setCookieValue(sc, 'access_token') as string;
  const refresh = setCookieValue(sc, 'refresh_token') as string;
  const csrf = setCookieValue(sc, 'csrf_token') as string;
  return {
    jar,
    kit,
    all: `${kit}; access_token=${access}; refresh_token=${refresh}; csrf_token=${csrf}`,
    csrf,
    access,
    refresh,
  };
}

/** Reads an SSE body until `marker` has arrived (or the stream ends); returns the text so far. */
export async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  marker: string,
  seen = { text: '' },
): Promise<string> {
  const dec = new TextDecoder();
  while (!seen.text.includes(marker)) {
    const { value, done } = await reader.read();
    if (done) break;
    seen.text += dec.decode(value, { stream: true });
  }
  return seen.text;
}
