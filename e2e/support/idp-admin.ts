/**
 * Keycloak admin REST client for specs that change IdP state (groups, disabled users,
 * session logout). Every change is made on a disposable test user that is deleted again
 * with `await using`, so specs never depend on each other or on the realm's fixed users.
 */
/// <reference lib="esnext.disposable" />
import { randomBytes } from 'node:crypto';
import type { IdpAdminAccess } from './target.js';

export interface TestUser extends AsyncDisposable {
  id: string;
  username: string;
  password: string;
  email: string;
  /** "First Last" as the IdP releases it in `name`. */
  name: string;
}

export interface CreateUserOptions {
  groups?: string[];
  emailVerified?: boolean;
  enabled?: boolean;
  /** Prefix of the generated username. */
  prefix?: string;
}

export interface TestClient extends AsyncDisposable {
  clientId: string;
  clientSecret: string;
}

export interface CreateClientOptions {
  /** Hard-coded `aud` value added to access tokens (audience mapper). */
  audience?: string;
  /** Client scopes added as default scopes (their names end up in `scope`). */
  scopes?: string[];
}

export class IdpAdmin {
  readonly #access: IdpAdminAccess;
  #token: { value: string; until: number } | undefined;

  constructor(access: IdpAdminAccess) {
    this.#access = access;
  }

  get realm(): string {
    return this.#access.realm;
  }

  async #bearer(): Promise<string> {
    const c = this.#access.credentials;
    if ('token' in c) return c.token;
    if (this.#token && this.#token.until > Date.now()) return this.#token.value;
    const res = await fetch(`${this.#access.baseUrl}/realms/master/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'admin-cli',
        username: c.username,
        password: c.password,
      }),
    });
    if (!res.ok) throw new Error(`IdP admin login failed: HTTP ${res.status}`);
    const body = (await res.json()) as { access_token: string; expires_in: number };
    this.#token = { value: body.access_token, until: Date.now() + (body.expires_in - 10) * 1000 };
    return body.access_token;
  }

  async #call(method: string, path: string, body?: unknown): Promise<Response> {
    const res = await fetch(`${this.#access.baseUrl}/admin/realms/${encodeURIComponent(this.#access.realm)}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await this.#bearer()}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`IdP admin ${method} ${path}: HTTP ${res.status} ${await res.text()}`);
    return res;
  }

  async userId(username: string): Promise<string> {
    const list = (await (
      await this.#call('GET', `/users?exact=true&username=${encodeURIComponent(username)}`)
    ).json()) as Array<{ id: string }>;
    const user = list[0];
    if (!user) throw new Error(`IdP user ${username} not found`);
    return user.id;
  }

  async #groupId(name: string): Promise<string> {
    const list = (await (
      await this.#call('GET', `/groups?exact=true&search=${encodeURIComponent(name)}`)
    ).json()) as Array<{ id: string; name: string }>;
    const group = list.find((g) => g.name === name);
    if (!group) throw new Error(`IdP group ${name} not found`);
    return group.id;
  }

  /** A disposable user (random name, password, verified e-mail unless told otherwise). */
  async createUser(opts: CreateUserOptions = {}): Promise<TestUser> {
    const suffix = randomBytes(4).toString('hex');
    const username = `${opts.prefix ?? 'e2e'}-${suffix}`;
    const password = randomBytes(12).toString('base64url');
    const email = `${username}@example.com`;
    const firstName = 'Test';
    const lastName = `User ${suffix}`;
    await this.#call('POST', '/users', {
      username,
      email,
      firstName,
      lastName,
      enabled: opts.enabled ?? true,
      emailVerified: opts.emailVerified ?? true,
      credentials: [{ type: 'password', value: password, temporary: false }],
      requiredActions: [],
    });
    const id = await this.userId(username);
    for (const g of opts.groups ?? []) await this.#call('PUT', `/users/${id}/groups/${await this.#groupId(g)}`);
    return {
      id,
      username,
      password,
      email,
      name: `${firstName} ${lastName}`,
      [Symbol.asyncDispose]: async () => {
        await this.#call('DELETE', `/users/${id}`).catch(() => undefined);
      },
    };
  }

  /** A disposable confidential client for the client-credentials grant. */
  async createMachineClient(opts: CreateClientOptions = {}): Promise<TestClient> {
    const clientId = `e2e-machine-${randomBytes(4).toString('hex')}`;
    const clientSecret = randomBytes(16).toString('base64url');
    await this.#call('POST', '/clients', {
      clientId,
      secret: clientSecret,
      enabled: true,
      protocol: 'openid-connect',
      publicClient: false,
      serviceAccountsEnabled: true,
      standardFlowEnabled: false,
      directAccessGrantsEnabled: false,
      protocolMappers: opts.audience
        ? [
            {
              name: 'audience',
              protocol: 'openid-connect',
              protocolMapper: 'oidc-audience-mapper',
              config: {
                'included.custom.audience': opts.audience,
                'access.token.claim': 'true',
                'id.token.claim': 'false',
              },
            },
          ]
        : [],
    });
    const list = (await (
      await this.#call('GET', `/clients?clientId=${encodeURIComponent(clientId)}`)
    ).json()) as Array<{ id: string }>;
    const id = list[0]?.id;
    if (!id) throw new Error(`IdP client ${clientId} not found after creation`);
    if (opts.scopes?.length) {
      const all = (await (await this.#call('GET', '/client-scopes')).json()) as Array<{ id: string; name: string }>;
      for (const name of opts.scopes) {
        const scope = all.find((x) => x.name === name);
        if (!scope) throw new Error(`IdP client scope ${name} not found`);
        await this.#call('PUT', `/clients/${id}/default-client-scopes/${scope.id}`);
      }
    }
    return {
      clientId,
      clientSecret,
      [Symbol.asyncDispose]: async () => {
        await this.#call('DELETE', `/clients/${id}`).catch(() => undefined);
      },
    };
  }

  /** Replaces the user's groups. */
  async setGroups(userId: string, groups: string[]): Promise<void> {
    const current = (await (await this.#call('GET', `/users/${userId}/groups`)).json()) as Array<{
      id: string;
      name: string;
    }>;
    for (const g of current)
      if (!groups.includes(g.name)) await this.#call('DELETE', `/users/${userId}/groups/${g.id}`);
    for (const name of groups)
      if (!current.some((g) => g.name === name))
        await this.#call('PUT', `/users/${userId}/groups/${await this.#groupId(name)}`);
  }

  async setEnabled(userId: string, enabled: boolean): Promise<void> {
    await this.#call('PUT', `/users/${userId}`, { enabled });
  }

  /** Ends every session of the user (Keycloak sends back-channel logout tokens to the clients). */
  async logoutUser(userId: string): Promise<void> {
    await this.#call('POST', `/users/${userId}/logout`);
  }

  async sessionCount(userId: string): Promise<number> {
    const list = (await (await this.#call('GET', `/users/${userId}/sessions`)).json()) as unknown[];
    return list.length;
  }
}
