/**
 * Real-Keycloak helpers: admin API (admin/admin on master), a fetch-based browser with a
 * cookie jar that fills Keycloak's login form.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

export const REALM = 'dify-sso';

export function keycloakUrl(): string {
  const url = process.env.DIFY_SSO_TEST_KEYCLOAK_URL;
  assert.ok(
    url,
    'DIFY_SSO_TEST_KEYCLOAK_URL is not set; start Keycloak with `npm run keycloak -- start` and export DIFY_SSO_TEST_KEYCLOAK_URL=http://127.0.0.1:18080',
  );
  return url.replace(/\/$/, '');
}

export class KeycloakAdmin {
  constructor(
    readonly base: string,
    private token: string,
  ) {}

  static async login(base: string): Promise<KeycloakAdmin> {
    const res = await fetch(`${base}/realms/master/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'admin-cli',
        username: 'admin',
        password: 'admin',
      }),
    });
    assert.equal(res.status, 200, 'Keycloak admin login failed');
    return new KeycloakAdmin(base, ((await res.json()) as { access_token: string }).access_token);
  }

  async api(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${this.base}/admin/realms/${REALM}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  }

  async createClient(publicUrl: string): Promise<{ id: string; clientId: string; secret: string }> {
    const clientId = `sidecar-test-${randomBytes(4).toString('hex')}`;
    const secret = randomBytes(24).toString('base64url');
    const res = await this.api('POST', '/clients', {
      clientId,
      enabled: true,
      protocol: 'openid-connect',
      publicClient: false,
      clientAuthenticatorType: 'client-secret',
      secret,
      standardFlowEnabled: true,
      directAccessGrantsEnabled: false,
      redirectUris: [`${publicUrl}/sso/callback`],
      webOrigins: [],
      frontchannelLogout: false,
      attributes: {
        'pkce.code.challenge.method': 'S256',
        'post.logout.redirect.uris': `${publicUrl}/*`,
        'backchannel.logout.url': `${publicUrl}/sso/backchannel-logout`,
        'backchannel.logout.session.required': 'true',
      },
      protocolMappers: [
        {
          name: 'groups',
          protocol: 'openid-connect',
          protocolMapper: 'oidc-group-membership-mapper',
          config: {
            'claim.name': 'groups',
            'full.path': 'false',
            'id.token.claim': 'true',
            'access.token.claim': 'true',
            'userinfo.token.claim': 'true',
          },
        },
      ],
    });
    assert.equal(res.status, 201, `create client: ${res.status}`);
    const id = (res.headers.get('location') ?? '').split('/').pop()!;
    return { id, clientId, secret };
  }

  async createUser(
    opts: { emailVerified?: boolean; group?: string } = {},
  ): Promise<{ id: string; username: string; password: string }> {
    const username = `kc-user-${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('base64url');
    const res = await this.api('POST', '/users', {
      username,
      enabled: true,
      email: `${username}@example.com`,
      emailVerified: opts.emailVerified ?? true,
      firstName: 'Test',
      lastName: 'User',
      credentials: [{ type: 'password', value: password, temporary: false }],
      ...(opts.group ? { groups: [opts.group] } : {}),
    });
    assert.equal(res.status, 201, `create user: ${res.status}`);
    const id = (res.headers.get('location') ?? '').split('/').pop()!;
    return { id, username, password };
  }

  async sessionsOf(userId: string): Promise<unknown[]> {
    const res = await this.api('GET', `/users/${userId}/sessions`);
    return (await res.json()) as unknown[];
  }
}

/** A cookie jar keyed by host:port (enough for 127.0.0.1 with distinct ports and paths ignored). */
export class Browser {
  jars = new Map<string, Map<string, string>>();

  jar(url: string): Map<string, string> {
    const host = new URL(url).host;
    if (!this.jars.has(host)) this.jars.set(host, new Map());
    return this.jars.get(host)!;
  }

  async request(
    url: string,
    init: { method?: string; body?: URLSearchParams; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const jar = this.jar(url);
    const res = await fetch(url, {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(init.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...init.headers,
      },
      ...(init.body ? { body: init.body } : {}),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=thu, 01 jan 1970/i.test(a));
      if (!value || expired) jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  }

  /** Follows redirects until a non-redirect or a URL matching `stop`. */
  async follow(url: string, stop?: (u: string) => boolean): Promise<{ url: string; res: Response }> {
    let current = url;
    for (let i = 0; i < 10; i++) {
      if (stop?.(current)) return { url: current, res: new Response(null, { status: 204 }) };
      const res = await this.request(current);
      const loc = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && loc) {
        current = new URL(loc, current).href;
        continue;
      }
      return { url: current, res };
    }
    throw new Error('too many redirects');
  }
}

/** Extracts the Keycloak login form action, or undefined when the page is not a login form. */
export function loginFormAction(html: string): string | undefined {
  const form = /<form[^>]*id="kc-form-login"[^>]*>/.exec(html)?.[0];
  const action = form && /action="([^"]+)"/.exec(form)?.[1];
  return action?.replace(/&amp;/g, '&');
}
