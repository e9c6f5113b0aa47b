/**
 * The local stack's fixed loopback addresses. One spelling of the host everywhere
 * (127.0.0.1): the OIDC issuer must match byte for byte in the browser and the servers.
 */
export const HOST = '127.0.0.1';

export const ports = {
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
} as const;

export const urls = {
  publicUrl: `http://${HOST}:${ports.frontDoor}`,
  keycloak: `http://${HOST}:${ports.keycloak}`,
  keycloakIssuer: `http://${HOST}:${ports.keycloak}/realms/dify-sso`,
  demoOpIssuer: `http://${HOST}:${ports.demoOp}`,
  redis: `redis://${HOST}:${ports.redis}`,
} as const;

export const REALM = 'dify-sso';
