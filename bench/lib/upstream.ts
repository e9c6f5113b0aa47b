/**
 * Bench child process: a minimal upstream standing in for dify-api (answers every request with
 * a small JSON body, keep-alive). Sends `{ port }` to the parent over IPC.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Simulated service time per request in ms (argv[2]); 0 = answer at once. */
const delayMs = Number(process.argv[2] ?? 0);
const body = JSON.stringify({ result: 'success', data: [{ id: 'app-1', name: 'Bench app' }] });
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (delayMs > 0) return void setTimeout(send, delayMs);
    send();
  });
  function send() {
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-version': '1.16.1',
    });
    res.end(body);
  }
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('message', (m: unknown) => {
  if (m === 'rss') process.send?.({ rss: process.memoryUsage().rss });
  if (m === 'exit') server.close(() => process.exit(0));
});
