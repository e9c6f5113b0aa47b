/**
 * HTML of the stand-in console. Plain HTML + small inline scripts (no framework) for the stock
 * variant; the plugin variant mounts the console plugin's React components.
 *
 * The client behaviour follows Dify's SPA (1.12.1–main):
 * - web/app/signin/normal-form.tsx: already-signed-in probe (`GET /account/profile`), buttons top
 *   to bottom (social, SSO, "or", e-mail code / password, sign-up link, "no method" panel),
 *   `?message=` shown as an error, `?invite_token=` passed to the SSO call;
 * - web/context/app-context.tsx (1.12.1) / web/context/app-context-normalizers.ts (1.16.1): the
 *   signed-in person from `GET /account/profile`; their role (which 1.16.1 reads from `POST
 *   /workspaces/current`, gone on main) from the members list, as every version allows;
 * - web/app/signin/components/sso-auth.tsx + web/service/sso.ts: `GET
 *   <prefix>/enterprise/sso/<protocol>/login[?invite_token=]` → `{url, state}`, cookie
 *   `user-oidc-state=<state>; path=/` (oauth2: `user-oauth2-state`), full navigation to `url`;
 * - web/service/fetch.ts + web/service/base.ts + web/service/refresh-token.ts: `credentials:
 *   'include'`, `X-CSRF-Token` from the cookie named by `CSRF_COOKIE_NAME()` (web/config), on 401
 *   one `POST <prefix>/refresh-token` then one retry, else `/signin`;
 * - the password and code forms send `password` / `code` base64-encoded from 1.11.2
 *   (web/app/signin/components/mail-and-password-auth.tsx; the version is the console's own).
 */

export type WebVariant = 'stock' | 'plugin';

export interface PageConfig {
  /** The Dify version this console imitates (the SPA's behaviour is tied to its own build). */
  version: string;
  apiPrefix: string;
  cookieDomain: string;
  variant: WebVariant;
  idpName: string;
  breakGlassHref: string;
}

function jsonScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

function escapeAttr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const STYLE = `
body{font-family:system-ui,sans-serif;background:#f2f4f7;margin:0;color:#101828}
main{max-width:420px;margin:64px auto;background:#fff;border-radius:12px;padding:32px;box-shadow:0 1px 3px #0002}
h1{font-size:22px;margin:0 0 16px}
label{display:block;font-size:14px;margin:12px 0 4px}
input{width:100%;box-sizing:border-box;padding:8px;border:1px solid #d0d5dd;border-radius:8px}
button,.button{display:block;width:100%;margin-top:12px;padding:10px;border:0;border-radius:8px;background:#155eef;color:#fff;font-size:15px;cursor:pointer;text-align:center;text-decoration:none;box-sizing:border-box}
.secondary{background:#fff;color:#344054;border:1px solid #d0d5dd}
.alert{background:#fef3f2;color:#b42318;border:1px solid #fecdca;border-radius:8px;padding:10px;margin-bottom:12px}
.divider{text-align:center;color:#667085;margin:12px 0}
ol{padding-left:20px}
`;

/** Helpers shared by both pages (browser code). */
const COMMON_JS = `
var cfg = JSON.parse(document.getElementById('standin-config').textContent);
var API = cfg.apiPrefix;
function getCookie(name) {
  var parts = document.cookie ? document.cookie.split('; ') : [];
  for (var i = 0; i < parts.length; i++) {
    if (parts[i].indexOf(name + '=') === 0) return decodeURIComponent(parts[i].slice(name.length + 1));
  }
  return '';
}
// web/config CSRF_COOKIE_NAME(): csrf_token with a cookie domain, __Host- when the API prefix is https
function csrfCookieName() {
  if (cfg.cookieDomain) return 'csrf_token';
  return API.indexOf('https://') === 0 ? '__Host-csrf_token' : 'csrf_token';
}
function call(method, path, body) {
  return fetch(API + path, {
    method: method,
    credentials: 'include',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': getCookie(csrfCookieName()) },
    body: body === undefined ? undefined : JSON.stringify(body)
  });
}
async function refreshToken() {
  try {
    var r = await fetch(API + '/refresh-token', { method: 'POST', credentials: 'include', headers: { 'Content-Type': 'application/json;utf-8' } });
    return r.ok;
  } catch (e) { return false; }
}
// web/service/base.ts request(): on 401 refresh once and retry; null when still unauthorised
async function request(method, path, body) {
  var r = await call(method, path, body);
  if (r.status !== 401) return r;
  var data = null;
  try { data = await r.clone().json(); } catch (e) {}
  if (data && data.code === 'unauthorized_and_force_logout') { location.reload(); return null; }
  if (data && data.code === 'not_setup') { location.href = '/install'; return null; }
  if (!(await refreshToken())) return null;
  r = await call(method, path, body);
  return r.status === 401 ? null : r;
}
function showAlert(text) {
  var el = document.getElementById('alert');
  el.textContent = text;
  el.hidden = false;
}
async function errorText(r) {
  try { var d = await r.json(); return d.message || d.data || d.error || ('Request failed (' + r.status + ')'); }
  catch (e) { return 'Request failed (' + r.status + ')'; }
}
`;

const SIGNIN_JS = `
var params = new URLSearchParams(location.search);
var inviteToken = params.get('invite_token');
var message = params.get('message');
if (message) showAlert(message);
function atLeast(v) {
  var a = cfg.version.split('.').map(Number), b = v.split('.').map(Number);
  for (var i = 0; i < 3; i++) { if ((a[i]||0) !== (b[i]||0)) return (a[i]||0) > (b[i]||0); }
  return true;
}
function encodeSecret(s) {
  return atLeast('1.11.2') ? btoa(String.fromCharCode.apply(null, Array.from(new TextEncoder().encode(s)))) : s;
}
function afterLogin() { location.href = params.get('redirect_url') || '/apps'; }
function el(tag, attrs, text) {
  var e = document.createElement(tag);
  for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text) e.textContent = text;
  return e;
}
async function ssoLogin(protocol) {
  var path = '/enterprise/sso/' + protocol + '/login' + (inviteToken ? '?invite_token=' + encodeURIComponent(inviteToken) : '');
  var r;
  try { r = await call('GET', path); } catch (e) { showAlert('Network error'); return; }
  if (!r.ok) { showAlert(await errorText(r)); return; }
  var d = await r.json();
  if (protocol === 'oidc') document.cookie = 'user-oidc-state=' + d.state + '; path=/';
  if (protocol === 'oauth2') document.cookie = 'user-oauth2-state=' + d.state + '; path=/';
  location.href = d.url;
}
function passwordForm(root) {
  var f = el('form', { 'aria-label': 'Sign-in form' });
  f.append(el('label', { for: 'email' }, 'Email address'), el('input', { id: 'email', name: 'email', type: 'email', autocomplete: 'username', required: '' }));
  f.append(el('label', { for: 'password' }, 'Password'), el('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: '' }));
  f.append(el('button', { type: 'submit' }, 'Sign in'));
  f.addEventListener('submit', async function (ev) {
    ev.preventDefault();
    var body = { email: f.email.value, password: encodeSecret(f.password.value), remember_me: true };
    if (inviteToken) body.invite_token = inviteToken;
    var r = await call('POST', '/login', body);
    var d = null; try { d = await r.json(); } catch (e) {}
    if (r.ok && d && d.result === 'success') return afterLogin();
    showAlert((d && (d.message || d.data)) || ('Sign-in failed (' + r.status + ')'));
  });
  root.append(f);
}
function codeForm(root) {
  var f = el('form', { 'aria-label': 'Code sign-in form' });
  f.append(el('label', { for: 'code-email' }, 'Email address'), el('input', { id: 'code-email', name: 'email', type: 'email', required: '' }));
  f.append(el('button', { type: 'submit' }, 'Send verification code'));
  f.addEventListener('submit', async function (ev) {
    ev.preventDefault();
    var email = f.email.value;
    var r = await call('POST', '/email-code-login', { email: email, language: 'en-US' });
    var d = null; try { d = await r.json(); } catch (e) {}
    if (!r.ok || !d || d.result !== 'success') { showAlert((d && d.message) || 'Could not send the code'); return; }
    var token = d.data;
    var g = el('form', { 'aria-label': 'Code entry form' });
    g.append(el('label', { for: 'code' }, 'Verification code'), el('input', { id: 'code', name: 'code', required: '' }));
    g.append(el('button', { type: 'submit' }, 'Verify and sign in'));
    g.addEventListener('submit', async function (e2) {
      e2.preventDefault();
      var r2 = await call('POST', '/email-code-login/validity', { email: email, code: encodeSecret(g.code.value), token: token, language: 'en-US' });
      var d2 = null; try { d2 = await r2.json(); } catch (e) {}
      if (r2.ok && d2 && d2.result === 'success') return afterLogin();
      showAlert((d2 && d2.message) || 'Verification failed');
    });
    f.replaceWith(g);
  });
  root.append(f);
}
async function main() {
  var root = document.getElementById('methods');
  // already signed in? (useIsLogin: profile, refresh once)
  try {
    var p = await request('GET', '/account/profile');
    if (p && p.ok) { afterLogin(); return; }
  } catch (e) {}
  var r;
  try { r = await fetch(API + '/system-features', { credentials: 'include' }); } catch (e) { showAlert('Could not load the sign-in options'); return; }
  var f = await r.json();
  if (f.license && ['lost', 'expired', 'inactive'].indexOf(f.license.status) >= 0) {
    root.append(el('p', {}, 'The licence of this installation is not valid.'));
    return;
  }
  var social = !!f.enable_social_oauth_login;
  var sso = !!f.sso_enforced_for_signin && !!f.sso_enforced_for_signin_protocol;
  var code = !!f.enable_email_code_login;
  var pwd = !!f.enable_email_password_login;
  if (social) {
    var q = inviteToken ? '?invite_token=' + encodeURIComponent(inviteToken) : '';
    root.append(el('a', { class: 'button secondary', href: API + '/oauth/login/github' + q }, 'Continue with GitHub'));
    root.append(el('a', { class: 'button secondary', href: API + '/oauth/login/google' + q }, 'Continue with Google'));
  }
  if (sso) {
    var protocol = f.sso_enforced_for_signin_protocol;
    var b = el('button', { type: 'button' }, 'Continue with SSO');
    b.addEventListener('click', function () {
      if (['saml', 'oidc', 'oauth2'].indexOf(protocol) < 0) { showAlert('invalid SSO protocol'); return; }
      ssoLogin(protocol);
    });
    root.append(b);
  }
  if ((social || sso) && (code || pwd)) root.append(el('div', { class: 'divider', role: 'separator' }, 'or'));
  if (pwd) passwordForm(root);
  else if (code) codeForm(root);
  if (pwd && code) {
    var sw = el('button', { type: 'button', class: 'secondary' }, 'Use verification code');
    sw.addEventListener('click', function () { root.querySelector('form').remove(); sw.remove(); codeForm(root); });
    root.append(sw);
  }
  if (f.is_allow_register) { var su = el('p', {}, ''); su.append(el('a', { href: '/signup' }, 'Sign up')); root.append(su); }
  if (!social && !sso && !code && !pwd) root.append(el('p', {}, 'Authentication method not configured'));
}
main();
`;

const APPS_JS = `
var params = new URLSearchParams(location.search);
async function main() {
  var r = await request('GET', '/account/profile');
  if (!r || !r.ok) { location.href = '/signin'; return; }
  var p = await r.json();
  // the profile has no role; the members list carries it on every version (POST /workspaces/current,
  // which 1.16.1's app context reads, is gone on main: src/version.ts ROLE_SOURCE)
  var role = 'unknown';
  var w = await request('GET', '/workspaces/current/members');
  if (w && w.ok) {
    var me = ((await w.json()).accounts || []).filter(function (a) { return a.id === p.id; })[0];
    if (me) role = me.role;
  }
  document.getElementById('who').textContent = 'Signed in as ' + p.name + ' (' + role + ')';
  document.getElementById('email').textContent = p.email;
}
document.getElementById('logout').addEventListener('click', async function () {
  if (cfg.variant === 'plugin' && window.DifySsoPlugin && window.DifySsoPlugin.ssoLogout) {
    window.DifySsoPlugin.ssoLogout();
    return;
  }
  try { await call('POST', '/logout'); } catch (e) {}
  location.href = '/signin';
});
document.getElementById('stream').addEventListener('click', async function () {
  var list = document.getElementById('chunks');
  var status = document.getElementById('stream-status');
  list.textContent = '';
  status.textContent = 'Streaming';
  var q = new URLSearchParams();
  ['chunks', 'interval_ms', 'gate'].forEach(function (k) { if (params.get(k)) q.set(k, params.get(k)); });
  var r = await call('POST', '/apps/6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f/chat-messages?' + q.toString(), { inputs: {}, query: 'hello', response_mode: 'streaming' });
  if (!r.ok || !r.body) { status.textContent = 'Stream failed (' + r.status + ')'; return; }
  var reader = r.body.getReader();
  var dec = new TextDecoder();
  var buf = '';
  for (;;) {
    var x = await reader.read();
    if (x.done) break;
    buf += dec.decode(x.value, { stream: true });
    var i;
    while ((i = buf.indexOf('\\n\\n')) >= 0) {
      var line = buf.slice(0, i); buf = buf.slice(i + 2);
      if (line.indexOf('data: ') !== 0) continue;
      var ev = JSON.parse(line.slice(6));
      if (ev.event === 'message') { var li = document.createElement('li'); li.textContent = ev.answer; list.append(li); }
      if (ev.event === 'message_end') status.textContent = 'Stream finished';
    }
  }
});
main();
`;

function page(
  title: string,
  body: string,
  config: PageConfig,
  script: string,
  pluginPage: 'signin' | 'apps' | null,
): string {
  const pluginTags =
    config.variant === 'plugin' && pluginPage ? `<script src="/_standin/web/plugin.js" defer></script>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${STYLE}</style>
<script type="application/json" id="standin-config">${jsonScript(config)}</script>
${pluginTags}
</head>
<body>
${body}
<script>
${script}
</script>
</body>
</html>`;
}

/** `/signin` — stock variant renders from system-features; plugin variant mounts the plugin. */
export function signinPage(config: PageConfig): string {
  if (config.variant === 'plugin') {
    const body = `<main>
<h1>Log in to Dify</h1>
<div id="plugin-root" data-page="signin" data-idp-name="${escapeAttr(config.idpName)}" data-break-glass-href="${escapeAttr(config.breakGlassHref)}"></div>
<noscript>JavaScript is required.</noscript>
</main>`;
    // the plugin's banner reads ?message= itself; only the already-signed-in probe runs here
    const probe = `${COMMON_JS}
(async function () {
  try { var p = await request('GET', '/account/profile'); if (p && p.ok) location.href = new URLSearchParams(location.search).get('redirect_url') || '/apps'; } catch (e) {}
})();`;
    return page('Sign in · Dify', body, config, probe, 'signin');
  }
  const body = `<main>
<h1>Log in to Dify</h1>
<div id="alert" class="alert" role="alert" hidden></div>
<div id="methods"></div>
</main>`;
  return page('Sign in · Dify', body, config, COMMON_JS + SIGNIN_JS, null);
}

/** `/apps` — who is signed in, with which role; logout; an SSE probe. */
export function appsPage(config: PageConfig): string {
  const body = `<main>
<h1>Apps</h1>
<p id="who" aria-live="polite">Loading…</p>
<p id="email"></p>
<button type="button" id="logout">Log out</button>
<section aria-labelledby="stream-heading">
<h2 id="stream-heading">Chat stream</h2>
<button type="button" id="stream" class="secondary">Start chat stream</button>
<p id="stream-status" role="status"></p>
<ol id="chunks" aria-label="Chat chunks"></ol>
</section>
</main>`;
  return page('Apps · Dify', body, config, COMMON_JS + APPS_JS, 'apps');
}
