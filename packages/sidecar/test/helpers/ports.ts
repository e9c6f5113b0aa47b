/**
 * Free loopback ports for tests that start servers of their own.
 */
import { createServer } from 'node:net';

const handedOut = new Set<number>();

/** A free TCP port on 127.0.0.1 (asked from the kernel), never the same one twice in one test process. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const { port: p } = srv.address() as { port: number };
        srv.close(() => resolve(p));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}
