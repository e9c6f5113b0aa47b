/**
 * OpenID Provider client: discovery (retried in the background while the IdP is down), JWKS,
 * authorization URL, code exchange, ID token validation (jose, alg allowlist), UserInfo,
 * refresh and RP-initiated logout. openid-client and jose errors are mapped to our codes here,
 * and only here.
 *
 * @module
 */
import * as oidc from 'openid-client';
import {
  decodeProtectedHeader,
  errors as joseErrors,
  importJWK,
  importPKCS8,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from 'jose';
import { SSO_PATHS } from '@dify-sso-kit/vocabulary';
import type { SidecarConfig } from '../config/schema.js';
import { OidcError, TokenError, type ReasonCode, type SsoErrorCode } from '../errors.js';
import { JwksCache, type JwtChannel } from '../lib/jwks.js';
import { withSpan } from '../lib/tracing.js';

/** Tokens returned by the token endpoint after validation. */
export interface IdpTokens {
  idToken: string;
  accessToken: string;
  refreshToken?: string;
  /** Access token expiry, epoch ms. */
  expiresAt?: number;
}

/** Result of a successful code exchange. */
export interface ExchangeResult {
  tokens: IdpTokens;
  /** Validated ID token claims. */
  idClaims: JWTPayload & Record<string, unknown>;
  /** UserInfo claims (empty when UserInfo is off or unavailable). */
  userinfo: Record<string, unknown>;
}

/** Options of {@link OidcClient}. */
export interface OidcClientOptions {
  oidc: SidecarConfig['oidc'];
  publicUrl: string;
  allowInsecureHttp: boolean;
  /** Injectable clock (epoch ms). */
  now: () => number;
  /** Called on background discovery failures (logging). */
  onDiscoveryError?: (err: OidcError) => void;
  /** Called once discovery succeeds. */
  onReady?: () => void;
}

type Jwks = JWTVerifyGetKey;

const FORBIDDEN_HEADERS = ['jku', 'x5u', 'x5c', 'jwk'] as const;

/** Verification options for {@link OidcClient.verifyJwt}. */
export interface VerifyJwtOptions {
  algorithms: readonly string[];
  audience?: string | string[];
  typ?: string;
  maxTokenAge?: number;
  requiredClaims?: string[];
  /**
   * Where the token came from (default `untrusted`). `token_endpoint`: received by the sidecar
   * itself from the IdP's token endpoint, so an unknown `kid` refetches the JWKS at once (the IdP
   * rotated its key); `untrusted` (logout and bearer tokens): refetch at most once per
   * `oidc.jwksCooldownSeconds`.
   */
  channel?: JwtChannel;
}

/**
 * Client for one OpenID Provider. Construct, then `start()`; `ready` turns true when
 * discovery and the JWKS are loaded.
 *
 * @example
 * ```ts
 * const op = new OidcClient({ oidc: config.oidc, publicUrl: config.publicUrl, allowInsecureHttp: false, now: Date.now })
 * await op.start()
 * ```
 */
export class OidcClient {
  #opts: OidcClientOptions;
  #config: oidc.Configuration | undefined;
  #jwks: JwksCache | undefined;
  #pending: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Last discovery error code, for readiness output. */
  lastErrorCode: string | undefined;

  constructor(opts: OidcClientOptions) {
    this.#opts = opts;
  }

  /** Absolute redirect URI (built from the public URL, never from `Host`). */
  get redirectUri(): string {
    return new URL(SSO_PATHS.callback, this.#opts.publicUrl).href;
  }

  /** True when discovery and the JWKS are loaded. */
  get ready(): boolean {
    return this.#config !== undefined && this.#jwks !== undefined;
  }

  /** The issuer's `end_session_endpoint`, if advertised. */
  get endSessionEndpoint(): string | undefined {
    return this.#config?.serverMetadata().end_session_endpoint;
  }

  /** Tries discovery once now; on failure, keeps retrying in the background. Never throws. */
  async start(): Promise<void> {
    try {
      await this.ensureReady();
    } catch {
      this.#schedule();
    }
  }

  /** Stops background retries. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#closed || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.ensureReady().catch(() => this.#schedule());
    }, this.#opts.oidc.discoveryRetrySeconds * 1000);
    this.#timer.unref();
  }

  /**
   * Resolves when discovery and JWKS are loaded, attempting discovery now if needed.
   *
   * @throws {OidcError} `ERR_OIDC_IDP_UNAVAILABLE` (reason `idp_unavailable`).
   */
  async ensureReady(): Promise<void> {
    if (this.ready) return;
    this.#pending ??= this.#discover().finally(() => {
      this.#pending = undefined;
    });
    try {
      await this.#pending;
    } catch (cause) {
      throw new OidcError('ERR_OIDC_IDP_UNAVAILABLE', 'identity provider unavailable', {
        cause,
        reason: 'idp_unavailable',
      });
    }
  }

  async #discover(): Promise<void> {
    const o = this.#opts.oidc;
    try {
      const auth = await this.#clientAuth();
      const config = await oidc.discovery(
        new URL(o.issuer),
        o.clientId,
        { redirect_uris: [this.redirectUri], response_types: ['code'] },
        auth,
        {
          execute: this.#opts.allowInsecureHttp ? [oidc.allowInsecureRequests] : [],
          timeout: o.httpTimeoutSeconds,
        },
      );
      const meta = config.serverMetadata();
      if (meta.issuer !== o.issuer) throw new Error('issuer mismatch');
      if (!meta.jwks_uri) throw new Error('no jwks_uri');
      const jwksUrl = new URL(meta.jwks_uri);
      if (jwksUrl.protocol !== 'https:' && !this.#opts.allowInsecureHttp) throw new Error('jwks_uri is not https');
      const jwks = new JwksCache({
        url: jwksUrl,
        cooldownMs: o.jwksCooldownSeconds * 1000,
        maxAgeMs: 10 * 60 * 1000,
        timeoutMs: o.httpTimeoutSeconds * 1000,
      });
      await jwks.reload();
      this.#config = config;
      this.#jwks = jwks;
      this.lastErrorCode = undefined;
      this.#opts.onReady?.();
    } catch (cause) {
      const err = new OidcError('ERR_OIDC_DISCOVERY_FAILED', 'discovery failed', { cause, reason: 'idp_unavailable' });
      this.lastErrorCode = (cause as { code?: string }).code ?? 'ERR_OIDC_DISCOVERY_FAILED';
      this.#opts.onDiscoveryError?.(err);
      throw err;
    }
  }

  async #clientAuth(): Promise<oidc.ClientAuth> {
    const o = this.#opts.oidc;
    if (o.clientAuthMethod === 'private_key_jwt') {
      const material = o.privateKey ?? '';
      const key = material.trim().startsWith('{')
        ? await importJWK(JSON.parse(material) as Record<string, unknown>, o.privateKeyAlg)
        : await importPKCS8(material, o.privateKeyAlg);
      if (!('type' in key) || key.type !== 'private') throw new Error('private_key_jwt needs a private key');
      return oidc.PrivateKeyJwt(o.privateKeyKid ? { key, kid: o.privateKeyKid } : key);
    }
    return oidc.ClientSecretBasic(o.clientSecret);
  }

  #cfg(): oidc.Configuration {
    if (!this.#config)
      throw new OidcError('ERR_OIDC_IDP_UNAVAILABLE', 'identity provider unavailable', { reason: 'idp_unavailable' });
    return this.#config;
  }

  #probe: { at: number; ok: boolean } | undefined;

  /**
   * Whether the IdP answers right now: its discovery document is fetched with a short timeout
   * (result cached for 5 s). Discovery having succeeded once says nothing about the IdP being
   * up now, and sending a browser to a dead authorization endpoint shows it a network error
   * instead of the sign-in page's "identity provider unavailable".
   */
  async #reachable(): Promise<boolean> {
    const now = this.#opts.now();
    if (this.#probe && now - this.#probe.at < 5000) return this.#probe.ok;
    const issuer = this.#opts.oidc.issuer;
    const url = `${issuer.endsWith('/') ? issuer : `${issuer}/`}.well-known/openid-configuration`;
    let ok = false;
    try {
      const res = await fetch(url, {
        signal: AbortSignal.timeout(Math.min(3, this.#opts.oidc.httpTimeoutSeconds) * 1000),
      });
      await res.arrayBuffer();
      ok = res.ok;
    } catch {
      ok = false;
    }
    this.#probe = { at: now, ok };
    return ok;
  }

  /** Builds the authorization request URL (code flow, PKCE S256, state, nonce). */
  async authorizationUrl(p: { state: string; nonce: string; codeVerifier: string }): Promise<URL> {
    await this.ensureReady();
    if (!(await this.#reachable())) {
      throw new OidcError('ERR_OIDC_IDP_UNAVAILABLE', 'identity provider unavailable', { reason: 'idp_unavailable' });
    }
    const scopes = new Set(['openid', ...this.#opts.oidc.scopes]);
    return oidc.buildAuthorizationUrl(this.#cfg(), {
      redirect_uri: this.redirectUri,
      response_type: 'code',
      scope: [...scopes].join(' '),
      state: p.state,
      nonce: p.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(p.codeVerifier),
      code_challenge_method: 'S256',
    });
  }

  /**
   * Exchanges the code in `search` (the callback's query string) and validates everything.
   *
   * @throws {OidcError} with reasons `idp_error`, `invalid_state`, `token_exchange_failed`,
   *   `invalid_id_token`, `nonce_mismatch`, `userinfo_invalid`.
   */
  async exchange(
    search: string,
    checks: { state: string; nonce: string; codeVerifier: string },
  ): Promise<ExchangeResult> {
    await this.ensureReady();
    const config = this.#cfg();
    const currentUrl = new URL(this.redirectUri);
    currentUrl.search = search;
    // RFC 9207 mix-up defence, checked here so the reason is precise (openid-client checks it too).
    const returnedIss = currentUrl.searchParams.getAll('iss');
    const issSupported = config.serverMetadata().authorization_response_iss_parameter_supported === true;
    if (
      returnedIss.length > 1 ||
      (returnedIss.length === 1 && returnedIss[0] !== this.#opts.oidc.issuer) ||
      (returnedIss.length === 0 && issSupported)
    ) {
      throw new OidcError('ERR_OIDC_ISSUER_MISMATCH', 'authorization response iss mismatch', {
        reason: 'issuer_mismatch',
      });
    }
    let response: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      response = await withSpan('dify_sso.oidc.token', { 'dify_sso.grant_type': 'authorization_code' }, () =>
        oidc.authorizationCodeGrant(config, currentUrl, {
          pkceCodeVerifier: checks.codeVerifier,
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          idTokenExpected: true,
        }),
      );
    } catch (cause) {
      throw mapExchangeError(cause);
    }
    const idToken = response.id_token;
    if (!idToken) throw new OidcError('ERR_OIDC_ID_TOKEN_INVALID', 'no id_token', { reason: 'invalid_id_token' });
    const idClaims = await this.verifyIdToken(idToken, { nonce: checks.nonce });
    let userinfo: Record<string, unknown> = {};
    if (this.#opts.oidc.fetchUserinfo && config.serverMetadata().userinfo_endpoint) {
      try {
        userinfo = { ...(await oidc.fetchUserInfo(config, response.access_token, idClaims.sub as string)) };
      } catch (cause) {
        throw new OidcError('ERR_OIDC_USERINFO_INVALID', 'userinfo failed', { cause, reason: 'userinfo_invalid' });
      }
      if (userinfo.sub !== idClaims.sub) {
        throw new OidcError('ERR_OIDC_USERINFO_INVALID', 'userinfo sub mismatch', { reason: 'userinfo_invalid' });
      }
    }
    const expiresIn = response.expiresIn();
    return {
      tokens: {
        idToken,
        accessToken: response.access_token,
        ...(response.refresh_token ? { refreshToken: response.refresh_token } : {}),
        ...(expiresIn !== undefined ? { expiresAt: this.#opts.now() + expiresIn * 1000 } : {}),
      },
      idClaims,
      userinfo,
    };
  }

  /**
   * Validates an ID token independently of openid-client: JWKS signature, alg allowlist,
   * exact `iss`, `aud` contains client id (and `azp` = client id when several audiences),
   * `exp`, `iat`, `sub`, `nonce` (when given), and optionally the original `iss`/`sub`.
   * Only for ID tokens the sidecar received itself from the token endpoint: an unknown `kid`
   * refetches the JWKS at once (single-flight), without the untrusted-token cooldown.
   */
  async verifyIdToken(
    idToken: string,
    expect: { nonce?: string; sub?: string },
  ): Promise<JWTPayload & Record<string, unknown>> {
    const o = this.#opts.oidc;
    let payload: JWTPayload;
    try {
      // ID tokens reach this method only from the token endpoint (code exchange, refresh).
      payload = await this.verifyJwt(idToken, {
        algorithms: o.idTokenAlgs,
        audience: o.clientId,
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
        channel: 'token_endpoint',
      });
    } catch (cause) {
      throw new OidcError('ERR_OIDC_ID_TOKEN_INVALID', 'id token invalid', { cause, reason: 'invalid_id_token' });
    }
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if ((aud.length > 1 || payload.azp !== undefined) && payload.azp !== o.clientId) {
      throw new OidcError('ERR_OIDC_ID_TOKEN_INVALID', 'azp mismatch', { reason: 'invalid_id_token' });
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) {
      throw new OidcError('ERR_OIDC_ID_TOKEN_INVALID', 'sub missing', { reason: 'invalid_id_token' });
    }
    if (expect.nonce !== undefined && payload.nonce !== expect.nonce) {
      throw new OidcError('ERR_OIDC_NONCE_MISMATCH', 'nonce mismatch', { reason: 'nonce_mismatch' });
    }
    if (expect.sub !== undefined && payload.sub !== expect.sub) {
      throw new OidcError('ERR_OIDC_REFRESH_FAILED', 'refreshed id token sub changed', { reason: 'invalid_id_token' });
    }
    return payload as JWTPayload & Record<string, unknown>;
  }

  /**
   * Verifies a JWT against the discovered JWKS: rejects `jku`/`x5u`/`x5c`/`jwk` headers and
   * algorithms off the allowlist before any key lookup; exact `iss`; bounded clock skew.
   *
   * @throws {TokenError} with an `ERR_TOKEN_*` code.
   */
  async verifyJwt(token: string, v: VerifyJwtOptions): Promise<JWTPayload> {
    await this.ensureReady();
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch (cause) {
      throw new TokenError('ERR_TOKEN_INVALID', 'malformed JWT', { cause, reason: 'malformed' });
    }
    if (token.split('.').length !== 3) throw new TokenError('ERR_TOKEN_INVALID', 'not a JWS', { reason: 'malformed' });
    for (const h of FORBIDDEN_HEADERS) {
      if (h in header)
        throw new TokenError('ERR_TOKEN_HEADER_FORBIDDEN', `forbidden header ${h}`, { reason: 'forbidden_header' });
    }
    if (typeof header.alg !== 'string' || !v.algorithms.includes(header.alg)) {
      throw new TokenError('ERR_TOKEN_ALG_NOT_ALLOWED', 'algorithm not allowed', { reason: 'alg_not_allowed' });
    }
    const options: JWTVerifyOptions = {
      issuer: this.#opts.oidc.issuer,
      algorithms: [...v.algorithms],
      clockTolerance: this.#opts.oidc.clockToleranceSeconds,
      currentDate: new Date(this.#opts.now()),
      ...(v.audience !== undefined ? { audience: v.audience } : {}),
      ...(v.typ !== undefined ? { typ: v.typ } : {}),
      ...(v.maxTokenAge !== undefined ? { maxTokenAge: v.maxTokenAge } : {}),
      ...(v.requiredClaims ? { requiredClaims: v.requiredClaims } : {}),
    };
    try {
      const payload = await verifyWithCandidates(
        token,
        (this.#jwks as JwksCache).getKey(v.channel ?? 'untrusted'),
        options,
      );
      const iat = payload.iat;
      if (typeof iat === 'number' && iat > this.#opts.now() / 1000 + this.#opts.oidc.clockToleranceSeconds) {
        throw new TokenError('ERR_TOKEN_EXPIRED', 'iat in the future', { reason: 'iat_future' });
      }
      return payload;
    } catch (cause) {
      if (cause instanceof TokenError) throw cause;
      throw mapJoseError(cause);
    }
  }

  /**
   * Refresh grant (liveness). The refreshed ID token, if any, must keep `iss` and `sub`.
   *
   * @throws {OidcError} `ERR_OIDC_REFRESH_FAILED` with reason `invalid_grant` when the IdP
   *   refused the refresh token (session must end), `idp_unavailable` on transport failure.
   */
  async refresh(refreshToken: string, expectSub: string): Promise<IdpTokens> {
    await this.ensureReady();
    let response: Awaited<ReturnType<typeof oidc.refreshTokenGrant>>;
    try {
      response = await withSpan('dify_sso.oidc.token', { 'dify_sso.grant_type': 'refresh_token' }, () =>
        oidc.refreshTokenGrant(this.#cfg(), refreshToken),
      );
    } catch (cause) {
      const status = (cause as { status?: unknown }).status;
      const code = (cause as { code?: string }).code;
      // A slow IdP (timeout) or a 5xx must never end sessions: only a refusal does.
      if (
        isTransportError(cause) ||
        (typeof status === 'number' && status >= 500) ||
        code === 'OAUTH_RESPONSE_IS_NOT_JSON' ||
        code === 'OAUTH_RESPONSE_IS_NOT_CONFORM'
      ) {
        throw new OidcError('ERR_OIDC_IDP_UNAVAILABLE', 'refresh: IdP error status', {
          cause,
          reason: 'idp_unavailable',
        });
      }
      const body = cause instanceof oidc.ResponseBodyError ? cause.error : undefined;
      if (body)
        throw new OidcError('ERR_OIDC_REFRESH_FAILED', 'refresh refused', {
          cause,
          reason: body === 'invalid_grant' ? 'invalid_grant' : 'refresh_refused',
        });
      if (cause instanceof oidc.ClientError || (cause as { code?: string }).code?.startsWith('OAUTH_')) {
        throw new OidcError('ERR_OIDC_REFRESH_FAILED', 'refresh response invalid', {
          cause,
          reason: 'invalid_id_token',
        });
      }
      throw new OidcError('ERR_OIDC_IDP_UNAVAILABLE', 'refresh transport failure', {
        cause,
        reason: 'idp_unavailable',
      });
    }
    const idToken = response.id_token;
    if (idToken) await this.verifyIdToken(idToken, { sub: expectSub });
    const expiresIn = response.expiresIn();
    return {
      idToken: idToken ?? '',
      accessToken: response.access_token,
      ...(response.refresh_token ? { refreshToken: response.refresh_token } : {}),
      ...(expiresIn !== undefined ? { expiresAt: this.#opts.now() + expiresIn * 1000 } : {}),
    };
  }

  /**
   * Like {@link OidcClient.endSessionUrl}, but `undefined` too when the IdP does not answer right
   * now (the browser then stays on our origin; the server session is gone anyway).
   */
  async endSessionUrlIfReachable(p: { idTokenHint?: string; postLogoutRedirectUri: string }): Promise<URL | undefined> {
    if (!this.#config || !this.endSessionEndpoint) return undefined;
    if (!(await this.#reachable())) return undefined;
    return this.endSessionUrl(p);
  }

  /**
   * Ends the user's session at the IdP from the server (no browser involved), best effort:
   * RP-initiated logout posted straight to the `end_session_endpoint` with `id_token_hint` and
   * `client_id`, redirects not followed (an OP that knows the session from the ID token's `sid`
   * ends it, e.g. Keycloak); then, when the OP advertises a `revocation_endpoint`, the refresh
   * token is revoked (RFC 7009, client-authenticated). Never throws; never logs token material.
   *
   * @returns `idpLogout`: `ended` (the end-session endpoint accepted the request), `failed`
   *   (it refused or did not answer), `unsupported` (no end-session endpoint or no ID token);
   *   `refreshRevoked`: whether a refresh token was revoked (`undefined` when not attempted).
   *
   * @example
   * ```ts
   * const { idpLogout } = await app.sso.oidc.endIdpSession({ idToken, refreshToken })
   * ```
   */
  async endIdpSession(tokens: {
    idToken?: string;
    refreshToken?: string;
  }): Promise<{ idpLogout: 'ended' | 'failed' | 'unsupported'; refreshRevoked?: boolean }> {
    const config = this.#config;
    if (!config) return { idpLogout: tokens.idToken ? 'failed' : 'unsupported' };
    const meta = config.serverMetadata();
    // The user waits for this (console logout): bounded like the reachability probe.
    const timeout = Math.min(5, this.#opts.oidc.httpTimeoutSeconds) * 1000;
    let idpLogout: 'ended' | 'failed' | 'unsupported' = 'unsupported';
    if (meta.end_session_endpoint && tokens.idToken) {
      const body = new URLSearchParams({ id_token_hint: tokens.idToken, client_id: this.#opts.oidc.clientId });
      try {
        const res = await fetch(meta.end_session_endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html,application/json' },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeout),
        });
        await res.arrayBuffer().catch(() => undefined);
        // 2xx (a "logged out" page) or a redirect (to the OP's default post-logout page) both mean accepted.
        idpLogout = res.status >= 200 && res.status < 400 ? 'ended' : 'failed';
      } catch {
        idpLogout = 'failed';
      }
    }
    let refreshRevoked: boolean | undefined;
    if (meta.revocation_endpoint && tokens.refreshToken) {
      try {
        await oidc.tokenRevocation(config, tokens.refreshToken, { token_type_hint: 'refresh_token' });
        refreshRevoked = true;
      } catch {
        refreshRevoked = false;
      }
    }
    return refreshRevoked === undefined ? { idpLogout } : { idpLogout, refreshRevoked };
  }

  /** RP-initiated logout URL, or `undefined` when the IdP has no `end_session_endpoint`. */
  endSessionUrl(p: { idTokenHint?: string; postLogoutRedirectUri: string }): URL | undefined {
    if (!this.#config || !this.endSessionEndpoint) return undefined;
    const params: Record<string, string> = {
      post_logout_redirect_uri: p.postLogoutRedirectUri,
      client_id: this.#opts.oidc.clientId,
    };
    if (p.idTokenHint) params.id_token_hint = p.idTokenHint;
    return oidc.buildEndSessionUrl(this.#config, params);
  }
}

/** The `claim` named anywhere in an oauth4webapi error's cause chain. */
function causeClaim(err: unknown): string | undefined {
  let node: unknown = err;
  for (let i = 0; i < 5 && node && typeof node === 'object'; i++) {
    const claim = (node as { claim?: unknown }).claim;
    if (typeof claim === 'string') return claim;
    node = (node as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The IdP did not answer usefully: an HTTP 5xx (the response is the error's `cause` in
 * oauth4webapi), a timeout or abort, or a network error from fetch (a TypeError whose cause has a
 * system or undici code). Walks a short cause chain.
 */
function isTransportError(err: unknown): boolean {
  let node: unknown = err;
  for (let i = 0; i < 4 && node && typeof node === 'object'; i++) {
    const e = node as { name?: unknown; status?: unknown; cause?: unknown };
    if (typeof e.status === 'number' && e.status >= 500) return true;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
    if (node instanceof TypeError && typeof (e.cause as { code?: unknown } | undefined)?.code === 'string') return true;
    node = e.cause;
  }
  return false;
}

function mapExchangeError(cause: unknown): OidcError {
  const code = (cause as { code?: string }).code;
  const mk = (c: SsoErrorCode, reason: ReasonCode) =>
    new OidcError(c, 'authorization code exchange failed', { cause, reason });
  // The IdP is down or does not answer in time (oidc.httpTimeoutSeconds): not a bad code.
  if (isTransportError(cause)) return mk('ERR_OIDC_IDP_UNAVAILABLE', 'idp_unavailable');
  if (cause instanceof oidc.AuthorizationResponseError) return mk('ERR_OIDC_CALLBACK_ERROR', 'idp_error');
  if (cause instanceof oidc.ResponseBodyError) return mk('ERR_OIDC_CODE_EXCHANGE_FAILED', 'token_exchange_failed');
  if (
    (code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' || code === 'OAUTH_INVALID_RESPONSE') &&
    causeClaim(cause) === 'nonce'
  ) {
    return mk('ERR_OIDC_NONCE_MISMATCH', 'nonce_mismatch');
  }
  if (
    code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' ||
    code === 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED' ||
    code === 'OAUTH_KEY_SELECTION_FAILED'
  ) {
    return mk('ERR_OIDC_ID_TOKEN_INVALID', 'invalid_id_token');
  }
  if (code?.startsWith('OAUTH_')) {
    // Remaining oauth4webapi checks concern the token response / ID token structure.
    return mk('ERR_OIDC_ID_TOKEN_INVALID', 'invalid_id_token');
  }
  return mk('ERR_OIDC_CODE_EXCHANGE_FAILED', 'token_exchange_failed');
}

/**
 * jwtVerify against the JWKS; when the token has no `kid` and several keys match, tries each
 * candidate (at most 5) and accepts the one that verifies (rp-id_token-kid-absent-multiple-jwks).
 */
async function verifyWithCandidates(token: string, jwks: Jwks, options: JWTVerifyOptions): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, jwks, options)).payload;
  } catch (err) {
    if (!(err instanceof joseErrors.JWKSMultipleMatchingKeys)) throw err;
    let last: unknown = err;
    let tried = 0;
    for await (const key of err as unknown as AsyncIterable<Parameters<typeof jwtVerify>[1]>) {
      if (++tried > 5) break;
      try {
        return (await jwtVerify(token, key as Exclude<Parameters<typeof jwtVerify>[1], Jwks>, options)).payload;
      } catch (e) {
        last = e;
        if (!(e instanceof joseErrors.JWSSignatureVerificationFailed)) throw e;
      }
    }
    throw last;
  }
}

function mapJoseError(cause: unknown): TokenError {
  if (cause instanceof joseErrors.JWTExpired)
    return new TokenError('ERR_TOKEN_EXPIRED', 'token expired', { cause, reason: 'expired' });
  if (cause instanceof joseErrors.JWTClaimValidationFailed) {
    const claim = cause.claim;
    if (claim === 'iss') return new TokenError('ERR_TOKEN_ISSUER', 'issuer mismatch', { cause, reason: 'issuer' });
    if (claim === 'aud')
      return new TokenError('ERR_TOKEN_AUDIENCE', 'audience mismatch', { cause, reason: 'audience' });
    if (claim === 'nbf' || claim === 'iat')
      return new TokenError('ERR_TOKEN_EXPIRED', 'token not valid now', { cause, reason: 'not_valid_now' });
    return new TokenError('ERR_TOKEN_INVALID', 'claim validation failed', { cause, reason: `claim_${claim}` });
  }
  if (cause instanceof joseErrors.JOSEAlgNotAllowed)
    return new TokenError('ERR_TOKEN_ALG_NOT_ALLOWED', 'algorithm not allowed', { cause, reason: 'alg_not_allowed' });
  if (cause instanceof joseErrors.JWSSignatureVerificationFailed)
    return new TokenError('ERR_TOKEN_INVALID', 'bad signature', { cause, reason: 'signature' });
  if (cause instanceof joseErrors.JWKSNoMatchingKey)
    return new TokenError('ERR_TOKEN_INVALID', 'no matching key', { cause, reason: 'no_matching_key' });
  return new TokenError('ERR_TOKEN_INVALID', 'token invalid', { cause, reason: 'invalid' });
}
