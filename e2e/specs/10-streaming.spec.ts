import { test, signIn, requireLocal, expectChunksOneByOne } from '../fixtures.js';

// SSE through the gate: each chunk reaches the browser as soon as dify-api sends it (nginx
// does not buffer the stream). The stand-in sends chunk n+1 only after the test releases it,
// so a buffered stream would show nothing before the end.
test('SSE chunks arrive one by one through nginx and the gate', async ({ page, target, user }) => {
  const stack = requireLocal(target);
  const gate = `e2e-${test.info().testId}`;
  await signIn(page, target, user('alice'));
  await expectChunksOneByOne(page, target.baseUrl, stack, gate);
});
