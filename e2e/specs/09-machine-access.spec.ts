import { test, expect, type Target, notApplicable } from '../fixtures.js';

// Scenario 9: machine access — a client-credentials token with the right audience and scope
// reaches the console API (allowlisted read routes); a token of another client (no Dify
// audience or scope), a tampered token and a user's ID token are refused.
async function clientToken(
  target: Target,
  which: 'good' | 'other' | { clientId: string; clientSecret: string },
): Promise<string> {
  const m = target.machine;
  const client = typeof which === 'string' ? m?.[which] : which;
  if (!m || !client) throw new Error('machine client not configured');
  const res = await fetch(m.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: client.clientSecret,
    }),
  });
  expect(res.status, `token for ${client.clientId}`).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

const membersPath = '/console/api/workspaces/current/members';

test.describe('machine access', () => {
  test.beforeEach(({ target }) => {
    notApplicable(!target.machine, 'no machine client configured (E2E_MACHINE_CLIENT_ID/SECRET)');
  });

  test('a dify-machine token with the right audience and scope reaches the console API', async ({
    request,
    target,
  }) => {
    const token = await clientToken(target, 'good');
    const res = await request.get(`${target.baseUrl}${membersPath}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status()).toBe(200);
    const body = (await res.json()) as { accounts?: Array<{ email: string }> };
    expect(Array.isArray(body.accounts)).toBe(true);
    expect(body.accounts!.length).toBeGreaterThan(0);
  });

  test('the machine token is limited to the allowlisted routes', async ({ request, target }) => {
    const token = await clientToken(target, 'good');
    const res = await request.post(`${target.baseUrl}/console/api/workspaces/current/members/invite-email`, {
      headers: { authorization: `Bearer ${token}` },
      data: { emails: ['mallory@example.com'], role: 'admin', language: 'en-US' },
    });
    expect([401, 403]).toContain(res.status());
  });

  test('a token of another client (no Dify audience or scope) is refused', async ({ request, target }) => {
    notApplicable(!target.machine?.other, 'no second machine client configured (E2E_OTHER_MACHINE_CLIENT_ID/SECRET)');
    const token = await clientToken(target, 'other');
    const res = await request.get(`${target.baseUrl}${membersPath}`, { headers: { authorization: `Bearer ${token}` } });
    expect([401, 403]).toContain(res.status());
  });

  test('right audience without the required scope is refused', async ({ request, target, idp }) => {
    await using client = await idp.createMachineClient({ audience: 'dify-console-api' });
    const token = await clientToken(target, client);
    const res = await request.get(`${target.baseUrl}${membersPath}`, { headers: { authorization: `Bearer ${token}` } });
    expect([401, 403]).toContain(res.status());
  });

  test('the required scope without the right audience is refused', async ({ request, target, idp }) => {
    await using client = await idp.createMachineClient({ scopes: ['dify:console'] });
    const token = await clientToken(target, client);
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { scope?: string };
    expect(claims.scope ?? '', 'the token does carry the scope').toContain('dify:console');
    const res = await request.get(`${target.baseUrl}${membersPath}`, { headers: { authorization: `Bearer ${token}` } });
    expect([401, 403]).toContain(res.status());
  });

  test('a tampered token is refused', async ({ request, target }) => {
    const token = await clientToken(target, 'good');
    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    claims['scope'] = `${String(claims['scope'] ?? '')} admin`;
    const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    const res = await request.get(`${target.baseUrl}${membersPath}`, {
      headers: { authorization: `Bearer ${forged}` },
    });
    expect(res.status()).toBe(401);
  });

  test('no token, no access', async ({ request, target }) => {
    const res = await request.get(`${target.baseUrl}${membersPath}`, {
      headers: { authorization: 'Bearer not-a-jwt' },
    });
    expect(res.status()).toBe(401);
  });
});
