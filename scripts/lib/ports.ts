/**
 * The local stack's fixed loopback addresses. One spelling of the host everywhere
 * (127.0.0.1): the OIDC issuer must match byte for byte in the browser and the servers.
 */
export const HOST = '127.0.0.1';

const defaults = {
  /** nginx front door; the public URL of the local stack. */
  frontDoor: 18000,
  sidecar: 18088,
  standinApi: 15001,
  standinWeb: 13000,
  keycloak: 18080,
  keycloakManagement: 19000,
  demoOp: 18081,
  redis: 16379,
  smokeRp: 18099,
};

/**
 * `DIFY_SSO_STACK_PORTS=frontDoor=28000,sidecar=28088,…` moves single ports, so that a second
 * stack (a test of the demo's shutdown) runs next to the fixed one. Unknown names and
 * non-ports are refused.
 */
export function portOverrides(spec: string | undefined): Partial<Record<keyof typeof defaults, number>> {
  const out: Partial<Record<keyof typeof defaults, number>> = {};
  for (const item of (spec ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name, value] = item.split('=');
    const port = Number(value);
    if (!name || !(name in defaults) || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new TypeError(
        `DIFY_SSO_STACK_PORTS: "${item}" is not <name>=<port> with a name of ${Object.keys(defaults).join(', ')}`,
      );
    }
    out[name as keyof typeof defaults] = port;
  }
  return out;
}

export const ports: Readonly<typeof defaults> = Object.freeze({
  ...defaults,
  ...portOverrides(process.env.DIFY_SSO_STACK_PORTS),
});

export const urls = {
  publicUrl: `http://${HOST}:${ports.frontDoor}`,
  keycloak: `http://${HOST}:${ports.keycloak}`,
  keycloakIssuer: `http://${HOST}:${ports.keycloak}/realms/dify-sso`,
  demoOpIssuer: `http://${HOST}:${ports.demoOp}`,
  redis: `redis://${HOST}:${ports.redis}`,
} as const;

export const REALM = 'dify-sso';
