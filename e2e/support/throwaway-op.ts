/**
 * A throwaway IdP for specs that need their own IdP (outage, reverse-proxy mode): the embedded demo OP on a port and public URL given
 * on the command line (`node --import tsx e2e/support/throwaway-op.ts <port> <publicUrl>`). The
 * spec kills it to simulate the outage.
 */
import { startDemoOp } from '../../scripts/lib/demo-op.js';

const port = Number(process.argv[2]);
const publicUrl = process.argv[3];
if (!Number.isInteger(port) || port <= 0 || !publicUrl) {
  process.stderr.write('usage: throwaway-op.ts <port> <publicUrl>\n');
  process.exit(2);
}
const op = await startDemoOp({ port, publicUrl });
process.stdout.write(`throwaway-op: listening, issuer ${op.issuer}\n`);
