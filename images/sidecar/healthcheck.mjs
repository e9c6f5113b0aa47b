// HEALTHCHECK of the dify-sso-kit sidecar image (exec form: the runtime image has no shell).
// Asks /sso/health/live on the address the sidecar listens on (DIFY_SSO_LISTEN; a wildcard
// host is asked on loopback) and exits 0 when it answers 200, else 1. Liveness, not readiness:
// an IdP outage must not get a healthy sidecar restarted.
const listen = process.env.DIFY_SSO_LISTEN || '127.0.0.1:8088';
const idx = listen.lastIndexOf(':');
let host = listen.slice(0, idx).replace(/^\[|\]$/g, '');
if (host === '' || host === '0.0.0.0') host = '127.0.0.1';
if (host === '::') host = '::1';
const url = `http://${host.includes(':') ? `[${host}]` : host}:${listen.slice(idx + 1)}/sso/health/live`;
fetch(url, { signal: AbortSignal.timeout(4000) }).then(
  (res) => process.exit(res.status === 200 ? 0 : 1),
  () => process.exit(1),
);
