/**
 * An in-process OpenID Provider for tests, signing with jose. Every response can be bent
 * per test (claims, headers, signature, discovery issuer, UserInfo, key rotation) to
 * reproduce the OpenID RP conformance negative cases.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, jwtVerify, type JWK, type JWTPayload, type CryptoKey } from 'jose';

export interface OpKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface Scenario {
  /** Mutate ID token claims before signing. */
  idClaims?: (c: Record<string, unknown>) => Record<string, unknown>;
  /** Mutate the ID token protected header. */
  idHeader?: (h: Record<string, unknown>) => Record<string, unknown>;
  /** How to sign the ID token. */
  idSign?: 'normal' | 'none' | 'bad-signature' | 'unpublished-key';
  /** UserInfo `sub` override. */
  userinfoSub?: string;
  /** Extra UserInfo claims. */
  userinfoClaims?: Record<string, unknown>;
  /** Discovery `issuer` override. */
  discoveryIssuer?: string;
  /** Omit end_session_endpoint from discovery. */
  noEndSession?: boolean;
  /** Refresh grant answers invalid_grant. */
  refreshInvalidGrant?: boolean;
  /** Mutate claims of ID tokens issued by the refresh grant. */
  refreshIdClaims?: (c: Record<string, unknown>) => Record<string, unknown>;
  /** Issue JWT access tokens with these extra claims (Keycloak style); opaque tokens otherwise. */
  accessTokenClaims?: Record<string, unknown>;
  /** Discovery answers 503. */
  down?: boolean;
  /** Status of the end-session endpoint (default 302 to the OP's own page). */
  endSessionStatus?: number;
  /** Advertise an RFC 7009 `revocation_endpoint`. */
  revocation?: boolean;
}

interface CodeGrant {
  sub: string;
  nonce: string;
  challenge: string;
  redirectUri: string;
  claims: Record<string, unknown>;
  sid: string;
}

export class HostileOp {
  server!: Server;
  issuer!: string;
  clientId = 'test-client';
  clientSecret = 'test-client-secret-0123456789';
  keys: OpKey[] = [];
  /** Index of the key that signs. */
  active = 0;
  scenario: Scenario = {};
  now: () => number = Date.now;
  codes = new Map<string, CodeGrant>();
  refreshTokens = new Map<string, CodeGrant>();
  accessTokens = new Map<string, CodeGrant>();
  requests: { path: string; method: string; auth?: string | undefined; body?: string; query?: string }[] = [];
  jwksFetches = 0;
  otherKey!: OpKey;
  /** Public key registered for private_key_jwt client authentication. */
  clientPublicKey: CryptoKey | undefined;

  static async start(): Promise<HostileOp> {
    const op = new HostileOp();
    op.keys.push(await makeKey('key-1'));
    op.otherKey = await makeKey('key-1'); // same kid, different key material: "invalid signature"
    op.server = createServer((req, res) => {
      op.handle(req, res).catch(() => {
        res.statusCode = 500;
        res.end();
      });
    });
    await new Promise<void>((resolve) => op.server.listen(0, '127.0.0.1', resolve));
    const { port } = op.server.address() as AddressInfo;
    op.issuer = `http://127.0.0.1:${port}`;
    return op;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  reset(): void {
    this.scenario = {};
  }

  /** Adds a new signing key (new kid) and signs with it from now on. */
  async rotate(kid: string): Promise<void> {
    this.keys.push(await makeKey(kid));
    this.active = this.keys.length - 1;
  }

  get key(): OpKey {
    return this.keys[this.active]!;
  }

  metadata(): Record<string, unknown> {
    const m: Record<string, unknown> = {
      issuer: this.scenario.discoveryIssuer ?? this.issuer,
      authorization_endpoint: `${this.issuer}/authorize`,
      token_endpoint: `${this.issuer}/token`,
      userinfo_endpoint: `${this.issuer}/userinfo`,
      jwks_uri: `${this.issuer}/jwks`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'private_key_jwt'],
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
      authorization_response_iss_parameter_supported: true,
    };
    if (!this.scenario.noEndSession) m.end_session_endpoint = `${this.issuer}/logout`;
    if (this.scenario.revocation) m.revocation_endpoint = `${this.issuer}/revoke`;
    return m;
  }

  /** Simulates the user authenticating at /authorize: returns the callback query string. */
  authorize(authUrl: string, user: { sub?: string; claims?: Record<string, unknown>; sid?: string } = {}): string {
    const u = new URL(authUrl);
    const p = u.searchParams;
    if (p.get('code_challenge_method') !== 'S256') throw new Error('PKCE S256 required');
    const code = randomBytes(16).toString('base64url');
    this.codes.set(code, {
      sub: user.sub ?? 'user-1',
      nonce: p.get('nonce') ?? '',
      challenge: p.get('code_challenge') ?? '',
      redirectUri: p.get('redirect_uri') ?? '',
      claims: user.claims ?? {},
      sid: user.sid ?? `sid-${randomBytes(6).toString('hex')}`,
    });
    return `?code=${encodeURIComponent(code)}&state=${encodeURIComponent(p.get('state') ?? '')}&iss=${encodeURIComponent(this.issuer)}`;
  }

  async signIdToken(
    grant: CodeGrant,
    extra: (c: Record<string, unknown>) => Record<string, unknown> = (c) => c,
  ): Promise<string> {
    const nowSec = Math.floor(this.now() / 1000);
    let claims: Record<string, unknown> = {
      iss: this.issuer,
      sub: grant.sub,
      aud: this.clientId,
      exp: nowSec + 300,
      iat: nowSec,
      nonce: grant.nonce,
      sid: grant.sid,
      ...grant.claims,
    };
    claims = extra(claims);
    if (this.scenario.idClaims) claims = this.scenario.idClaims(claims);
    let header: Record<string, unknown> = { alg: this.key.alg, kid: this.key.kid, typ: 'JWT' };
    if (this.scenario.idHeader) header = this.scenario.idHeader(header);
    return this.sign(claims, header, this.scenario.idSign ?? 'normal');
  }

  /** Signs arbitrary claims: normal, unsigned (alg none), with a bad signature, or with an unpublished key. */
  async sign(
    claims: Record<string, unknown>,
    header: Record<string, unknown>,
    mode: 'normal' | 'none' | 'bad-signature' | 'unpublished-key' = 'normal',
  ): Promise<string> {
    if (mode === 'none') {
      const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      return `${enc({ ...header, alg: 'none' })}.${enc(claims)}.`;
    }
    const key =
      mode === 'bad-signature' ? this.otherKey : mode === 'unpublished-key' ? await makeKey('unpublished') : this.key;
    const h = { ...header } as { alg: string } & Record<string, unknown>;
    if (mode === 'unpublished-key') h.kid = 'unpublished';
    return new SignJWT(claims as JWTPayload).setProtectedHeader(h).sign(key.privateKey);
  }

  /** A back-channel logout token (valid by default). */
  async logoutToken(
    opts: {
      claims?: (c: Record<string, unknown>) => Record<string, unknown>;
      header?: (h: Record<string, unknown>) => Record<string, unknown>;
      sign?: 'normal' | 'none' | 'bad-signature' | 'unpublished-key';
      sub?: string;
      sid?: string;
    } = {},
  ): Promise<string> {
    const nowSec = Math.floor(this.now() / 1000);
    let claims: Record<string, unknown> = {
      iss: this.issuer,
      aud: this.clientId,
      iat: nowSec,
      exp: nowSec + 120,
      jti: randomBytes(8).toString('hex'),
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
    };
    if (opts.sub !== undefined) claims.sub = opts.sub;
    if (opts.sid !== undefined) claims.sid = opts.sid;
    if (opts.claims) claims = opts.claims(claims);
    let header: Record<string, unknown> = { alg: this.key.alg, kid: this.key.kid, typ: 'logout+jwt' };
    if (opts.header) header = opts.header(header);
    return this.sign(claims, header, opts.sign ?? 'normal');
  }

  /** A client-credentials style JWT access token. */
  async accessTokenJwt(
    claims: Record<string, unknown>,
    header: Record<string, unknown> = {},
    mode: 'normal' | 'none' | 'bad-signature' | 'unpublished-key' = 'normal',
  ): Promise<string> {
    const nowSec = Math.floor(this.now() / 1000);
    return this.sign(
      {
        iss: this.issuer,
        sub: 'machine-1',
        aud: 'dify-console-api',
        iat: nowSec,
        exp: nowSec + 300,
        scope: 'dify:console',
        ...claims,
      },
      { alg: this.key.alg, kid: this.key.kid, typ: 'JWT', ...header },
      mode,
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.issuer);
    let body = '';
    for await (const chunk of req) body += chunk;
    this.requests.push({
      path: url.pathname,
      method: req.method ?? 'GET',
      auth: req.headers.authorization,
      body,
      query: url.search,
    });
    const json = (status: number, value: unknown) => {
      res.statusCode = status;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(value));
    };
    if (this.scenario.down) return json(503, { error: 'down' });
    switch (url.pathname) {
      case '/.well-known/openid-configuration':
        return json(200, this.metadata());
      case '/jwks':
        this.jwksFetches++;
        return json(200, { keys: this.keys.map((k) => k.publicJwk) });
      case '/token': {
        const form = new URLSearchParams(body);
        const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
        const [id, secret] = basic
          ? Buffer.from(basic[1]!, 'base64')
              .toString()
              .split(':')
              .map((v) => decodeURIComponent(v.replace(/\+/g, ' ')))
          : [];
        const assertion = form.get('client_assertion');
        let clientOk = id === this.clientId && secret === this.clientSecret;
        if (
          !clientOk &&
          assertion &&
          this.clientPublicKey &&
          form.get('client_assertion_type') === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
        ) {
          try {
            const { payload } = await jwtVerify(assertion, this.clientPublicKey, {
              issuer: this.clientId,
              subject: this.clientId,
              audience: [this.issuer, `${this.issuer}/token`],
            });
            clientOk = typeof payload.jti === 'string' && typeof payload.exp === 'number';
          } catch {
            clientOk = false;
          }
        }
        if (!clientOk) return json(401, { error: 'invalid_client' });
        if (form.get('grant_type') === 'authorization_code') {
          const grant = this.codes.get(form.get('code') ?? '');
          this.codes.delete(form.get('code') ?? '');
          if (!grant)
            return json(400, { error: 'invalid_grant', error_description: 'secret-ish IdP text that must never leak' });
          const verifier = form.get('code_verifier') ?? '';
          if (createHash('sha256').update(verifier).digest('base64url') !== grant.challenge)
            return json(400, { error: 'invalid_grant' });
          if (form.get('redirect_uri') !== grant.redirectUri) return json(400, { error: 'invalid_grant' });
          return json(200, await this.tokensFor(grant));
        }
        if (form.get('grant_type') === 'refresh_token') {
          const grant = this.refreshTokens.get(form.get('refresh_token') ?? '');
          if (!grant || this.scenario.refreshInvalidGrant) return json(400, { error: 'invalid_grant' });
          this.refreshTokens.delete(form.get('refresh_token') ?? '');
          const saved = this.scenario.idClaims;
          const extra = this.scenario.refreshIdClaims;
          const tokens = await this.tokensFor({ ...grant, nonce: '' }, (c) => {
            const { nonce: _n, ...rest } = c;
            return extra ? extra(rest) : rest;
          });
          this.scenario.idClaims = saved;
          return json(200, tokens);
        }
        return json(400, { error: 'unsupported_grant_type' });
      }
      case '/logout': {
        const status = this.scenario.endSessionStatus ?? 302;
        res.statusCode = status;
        if (status >= 300 && status < 400) res.setHeader('location', `${this.issuer}/logged-out`);
        res.end();
        return;
      }
      case '/revoke': {
        const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
        const [id, secret] = basic
          ? Buffer.from(basic[1]!, 'base64')
              .toString()
              .split(':')
              .map((v) => decodeURIComponent(v.replace(/\+/g, ' ')))
          : [];
        if (id !== this.clientId || secret !== this.clientSecret) return json(401, { error: 'invalid_client' });
        this.refreshTokens.delete(new URLSearchParams(body).get('token') ?? '');
        res.statusCode = 200;
        res.end();
        return;
      }
      case '/userinfo': {
        const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
        const grant = this.accessTokens.get(token);
        if (!grant) {
          res.setHeader('www-authenticate', 'Bearer error="invalid_token"');
          return json(401, { error: 'invalid_token' });
        }
        return json(200, {
          sub: this.scenario.userinfoSub ?? grant.sub,
          ...grant.claims,
          ...this.scenario.userinfoClaims,
        });
      }
      default:
        return json(404, { error: 'not_found' });
    }
  }

  private async tokensFor(grant: CodeGrant, extra?: (c: Record<string, unknown>) => Record<string, unknown>) {
    const nowSec = Math.floor(this.now() / 1000);
    const access = this.scenario.accessTokenClaims
      ? await this.sign(
          {
            iss: this.issuer,
            sub: grant.sub,
            azp: this.clientId,
            aud: 'account',
            iat: nowSec,
            exp: nowSec + 300,
            typ: 'Bearer',
            ...this.scenario.accessTokenClaims,
          },
          { alg: this.key.alg, kid: this.key.kid, typ: 'JWT' },
        )
      : randomBytes(16).toString('base64url');
    const refresh = randomBytes(16).toString('base64url');
    this.accessTokens.set(access, grant);
    this.refreshTokens.set(refresh, grant);
    return {
      access_token: access,
      token_type: 'Bearer',
      expires_in: 300,
      refresh_token: refresh,
      id_token: await this.signIdToken(grant, extra),
    };
  }
}

async function makeKey(kid: string): Promise<OpKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, alg: 'RS256', privateKey, publicJwk };
}
