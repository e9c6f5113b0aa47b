/**
 * A published web-app page (`/chat/<code>`, `/chatbot/<code>`, …) reduced to the client
 * behaviour web-app SSO depends on.
 *
 * NOT DIFY. Follows dify `web/service/share.ts` `fetchAccessToken` (`GET /api/passport?user_id=…`
 * with `X-App-Code`), `web/service/webapp-auth.ts` (passport kept in `localStorage` per app) and
 * `web/service/base.ts` (`X-App-Passport` on every web-app API call): the client picks its own
 * `user_id` (here a random id kept in `localStorage`), exactly what web-app SSO must not trust.
 */
export function webAppPage(code: string): string {
  const safe = code.replace(/[^A-Za-z0-9]/g, '');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Web app ${safe}</title></head>
<body><main>
<h1>Web app ${safe}</h1>
<p role="status" id="status">Loading…</p>
<h2>Conversations</h2>
<ul aria-label="Conversations" id="list"></ul>
<form id="send"><label>Message <input name="query" autocomplete="off"></label> <button type="submit">Send</button></form>
</main>
<script>
(() => {
  const code = ${JSON.stringify(safe)};
  const status = document.getElementById('status');
  const idKey = 'standin-webapp-user-' + code;
  const passportKey = 'standin-webapp-passport-' + code;
  const userId = localStorage.getItem(idKey) || crypto.randomUUID();
  localStorage.setItem(idKey, userId);
  async function passport() {
    let tk = localStorage.getItem(passportKey);
    if (tk) return tk;
    const r = await fetch('/api/passport?user_id=' + encodeURIComponent(userId), { headers: { 'X-App-Code': code } });
    if (!r.ok) throw new Error('passport ' + r.status);
    tk = (await r.json()).access_token;
    localStorage.setItem(passportKey, tk);
    return tk;
  }
  async function call(path, init) {
    const tk = await passport();
    const r = await fetch(path, { ...(init || {}), headers: { 'Content-Type': 'application/json', 'X-App-Code': code, 'X-App-Passport': tk } });
    if (r.status === 401) localStorage.removeItem(passportKey);
    if (!r.ok) throw new Error(path + ' ' + r.status);
    return r.json();
  }
  async function refresh() {
    const data = await call('/api/conversations?limit=20');
    const list = document.getElementById('list');
    list.replaceChildren(...data.data.map((c) => { const li = document.createElement('li'); li.textContent = c.name; return li; }));
    status.textContent = 'Ready';
  }
  document.getElementById('send').addEventListener('submit', async (e) => {
    e.preventDefault();
    const input = e.target.elements.query;
    try {
      await call('/api/chat-messages', { method: 'POST', body: JSON.stringify({ query: input.value, inputs: {}, response_mode: 'blocking' }) });
      input.value = '';
      await refresh();
    } catch (err) { status.textContent = 'Error: ' + err.message; }
  });
  refresh().catch((err) => { status.textContent = 'Error: ' + err.message; });
})();
</script>
</body></html>
`;
}
