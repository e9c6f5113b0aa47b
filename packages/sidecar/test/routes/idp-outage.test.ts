/**
 * The IdP going down after the sidecar has discovered it: sign-in must say "identity provider
 * unavailable" on the sign-in page instead of sending the browser to a dead authorization
 * endpoint; once the IdP answers again, sign-in works again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostileOp } from '../helpers/hostile-op.js';
import { makeApp } from '../helpers/harness.js';

test('IdP down after discovery: /sso/login lands on the sign-in page with idp_unavailable, and recovers', async (t) => {
  const op = await HostileOp.start();
  let clock = Date.now();
  const app = await makeApp(op, {}, { now: () => clock });
  t.after(() => app.app.close());

  const up = await app.app.inject({ method: 'GET', url: '/sso/login?redirect=/apps' });
  assert.equal(up.statusCode, 302);
  assert.ok(
    String(up.headers.location).startsWith(`${op.issuer}/`),
    'IdP reachable: redirect to its authorization endpoint',
  );

  const port = (op.server.address() as { port: number }).port;
  await op.close();
  clock += 6000; // past the reachability cache
  const down = await app.app.inject({ method: 'GET', url: '/sso/login?redirect=/apps' });
  assert.equal(down.statusCode, 302);
  assert.equal(down.headers.location, '/signin?message=idp_unavailable');
  assert.equal(String(down.headers['set-cookie'] ?? '').includes('dify_sso_tx='), false, 'no transaction started');

  // The IdP comes back on the same address.
  await new Promise<void>((resolve) => op.server.listen(port, '127.0.0.1', resolve));
  t.after(() => op.close());
  clock += 6000;
  const again = await app.app.inject({ method: 'GET', url: '/sso/login?redirect=/apps' });
  assert.equal(again.statusCode, 302);
  assert.ok(String(again.headers.location).startsWith(`${op.issuer}/`));
});
