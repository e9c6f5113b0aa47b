/** Runs the embedded demo OP on its fixed port (used by npm run demo when Keycloak is absent). */
import { startDemoOp } from './lib/demo-op.js';
import { ports, urls } from './lib/ports.js';

const op = await startDemoOp({ port: ports.demoOp, publicUrl: urls.publicUrl });
process.stdout.write(`demo-op: listening, issuer ${op.issuer}\n`);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void op.close().then(() => process.exit(0)));
