/**
 * What the suite runs against: the local stack (default; started by the setup project and
 * described in e2e/.auth/stack.json) or a running deployment (E2E_BASE_URL, see e2e/README.md).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../scripts/lib/paths.js';
import type { StackInfo } from '../../scripts/lib/stack.js';

export const stackFile = join(repoRoot, 'e2e', '.auth', 'stack.json');

export const USER_NAMES = ['alice', 'bob', 'carol', 'dave', 'eve'] as const;
export type UserName = (typeof USER_NAMES)[number];

export interface E2eUser {
  username: string;
  password: string;
  email: string;
  /** Display name Dify shows for the account (local stack only). */
  name?: string;
  /** Dify role the user's groups map to. */
  role?: string;
}

const LOCAL_USERS: Record<UserName, Pick<E2eUser, 'name' | 'role'>> = {
  alice: { name: 'Alice Example', role: 'admin' },
  bob: { role: 'editor' },
  carol: {},
  dave: {},
  eve: {},
};

/** Admin access to the IdP (Keycloak admin REST API). */
export interface IdpAdminAccess {
  /** Keycloak base URL (without /realms/...). */
  baseUrl: string;
  realm: string;
  credentials: { username: string; password: string } | { token: string };
}

export interface MachineClient {
  clientId: string;
  clientSecret: string;
}

export interface Target {
  kind: 'local' | 'deployment';
  baseUrl: string;
  signinUrl: string;
  issuer: string;
  /** Test users by role in the scenarios; a missing one makes its scenarios not applicable. */
  users: Partial<Record<UserName, E2eUser>>;
  idpAdmin?: IdpAdminAccess;
  /** Client-credentials clients for scenario 9. */
  machine?: { tokenUrl: string; good: MachineClient; other?: MachineClient };
  /** The local stack (stand-in introspection, logs, …); absent against a deployment. */
  stack?: StackInfo;
  /** Names of the sign-in page variants to exercise: stock always, plugin when the console has it. */
  variants: Array<'stock' | 'plugin'>;
}

const env = (name: string): string | undefined => {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
};

function realmOf(issuer: string): { baseUrl: string; realm: string } | undefined {
  const m = /^(.*)\/realms\/([^/]+)\/?$/.exec(issuer);
  return m ? { baseUrl: m[1] as string, realm: decodeURIComponent(m[2] as string) } : undefined;
}

function localTarget(): Target {
  if (!existsSync(stackFile)) throw new Error(`${stackFile} is missing: the setup project did not start the stack`);
  const stack = JSON.parse(readFileSync(stackFile, 'utf8')) as StackInfo;
  const users: Target['users'] = {};
  for (const name of USER_NAMES)
    users[name] = { username: name, password: `${name}-password`, email: `${name}@example.com`, ...LOCAL_USERS[name] };
  const kc = realmOf(stack.issuer);
  return {
    kind: 'local',
    baseUrl: stack.publicUrl,
    signinUrl: stack.signinUrl,
    issuer: stack.issuer,
    users,
    ...(stack.idp === 'keycloak' && kc
      ? { idpAdmin: { ...kc, credentials: { username: 'admin', password: 'admin' } } }
      : {}),
    machine: {
      tokenUrl: `${stack.issuer}/protocol/openid-connect/token`,
      good: { clientId: 'dify-machine', clientSecret: 'dify-machine-secret' },
      other: { clientId: 'other-machine', clientSecret: 'other-machine-secret' },
    },
    stack,
    variants: ['stock', 'plugin'],
  };
}

function deploymentTarget(baseUrl: string): Target {
  const base = baseUrl.replace(/\/+$/, '');
  const issuer = env('E2E_IDP_ISSUER');
  if (!issuer)
    throw new Error('E2E_IDP_ISSUER is required with E2E_BASE_URL (the issuer exactly as the sidecar is configured)');
  const users: Target['users'] = {};
  for (const name of USER_NAMES) {
    const key = name.toUpperCase();
    const username = env(`E2E_USER_${key}_USERNAME`);
    const password = env(`E2E_USER_${key}_PASSWORD`);
    const role = env(`E2E_USER_${key}_ROLE`) ?? LOCAL_USERS[name].role;
    if (username && password)
      users[name] = { username, password, email: env(`E2E_USER_${key}_EMAIL`) ?? username, ...(role ? { role } : {}) };
  }
  let idpAdmin: IdpAdminAccess | undefined;
  const kc = realmOf(issuer);
  const adminUrl = env('E2E_IDP_ADMIN_URL') ?? kc?.baseUrl;
  const realm = env('E2E_IDP_REALM') ?? kc?.realm;
  const token = env('E2E_IDP_ADMIN_TOKEN');
  const user = env('E2E_IDP_ADMIN_USER');
  const password = env('E2E_IDP_ADMIN_PASSWORD');
  if (adminUrl && realm && (token || (user && password))) {
    idpAdmin = {
      baseUrl: adminUrl.replace(/\/+$/, ''),
      realm,
      credentials: token ? { token } : { username: user as string, password: password as string },
    };
  }
  const machineId = env('E2E_MACHINE_CLIENT_ID');
  const machineSecret = env('E2E_MACHINE_CLIENT_SECRET');
  const otherId = env('E2E_OTHER_MACHINE_CLIENT_ID');
  const otherSecret = env('E2E_OTHER_MACHINE_CLIENT_SECRET');
  return {
    kind: 'deployment',
    baseUrl: base,
    signinUrl: `${base}${env('E2E_SIGNIN_PATH') ?? '/signin'}`,
    issuer,
    users,
    ...(idpAdmin ? { idpAdmin } : {}),
    ...(machineId && machineSecret
      ? {
          machine: {
            tokenUrl: env('E2E_IDP_TOKEN_URL') ?? `${issuer}/protocol/openid-connect/token`,
            good: { clientId: machineId, clientSecret: machineSecret },
            ...(otherId && otherSecret ? { other: { clientId: otherId, clientSecret: otherSecret } } : {}),
          },
        }
      : {}),
    // A patched console renders the plugin's button in place of the stock one.
    variants: env('E2E_PLUGIN_BUTTON') === 'true' ? ['plugin'] : ['stock'],
  };
}

let cached: Target | undefined;

export function loadTarget(): Target {
  cached ??= env('E2E_BASE_URL') ? deploymentTarget(env('E2E_BASE_URL') as string) : localTarget();
  return cached;
}
