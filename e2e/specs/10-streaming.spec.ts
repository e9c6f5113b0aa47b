import { test, expect, signIn, requireLocal } from '../fixtures.js';

// SSE through the gate: each chunk reaches the browser as soon as dify-api sends it (nginx
// does not buffer the stream). The stand-in sends chunk n+1 only after the test releases it,
// so a buffered stream would show nothing before the end.
test('SSE chunks arrive one by one through nginx and the gate', async ({ page, target, user }) => {
  const stack = requireLocal(target);
  const gate = `e2e-${test.info().testId}`;
  await signIn(page, target, user('alice'));
  await page.goto(`${target.baseUrl}/apps?chunks=3&gate=${encodeURIComponent(gate)}`);
  await page.getByRole('button', { name: 'Start chat stream' }).click();
  const chunks = page.getByRole('list', { name: 'Chat chunks' }).getByRole('listitem');
  const release = async (): Promise<void> => {
    const res = await fetch(`${stack.standinApiUrl}/__standin/gates/${encodeURIComponent(gate)}/release`, {
      method: 'POST',
      headers: { 'x-standin-secret': stack.introspectionSecret },
    });
    expect(res.status).toBe(200);
  };
  await expect(chunks).toHaveCount(1);
  await expect(page.getByRole('status')).toHaveText('Streaming');
  await release();
  await expect(chunks).toHaveCount(2);
  await release();
  await expect(chunks).toHaveCount(3);
  await expect(page.getByRole('status')).toHaveText('Stream finished');
});
