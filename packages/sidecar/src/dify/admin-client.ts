import { DifyError } from '../errors.js';
import { difyVersionTraits, type DifyVersionTraits } from './contract/versions.js';

/** Dify workspace roles (`TenantAccountRole`, dify `api/models/account.py`). */
export type DifyRole = 'owner' | 'admin' | 'editor' | 'normal' | 'dataset_operator';
/** Roles the kit may assign (never `owner`). */
export type AssignableRole = Exclude<DifyRole, 'owner'>;
export const ASSIGNABLE_ROLES: readonly AssignableRole[] = ['admin', 'editor', 'normal', 'dataset_operator'];

export interface DifyMember {
  readonly id: string;
  readonly name: string;
  readonly email: string;
  readonly role: DifyRole | string;
  readonly status: string;
}

export interface InvitationResult {
  readonly status: string;
  readonly email: string;
  readonly url?: string;
  readonly message?: string;
}

export interface DifyAdminClientOptions {
  /** dify-api base, e.g. `http://api:5001` (no trailing path). */
  readonly apiUrl: string;
  /** Dify's ADMIN_API_KEY (dify-api needs ADMIN_API_KEY_ENABLE=true). */
  readonly adminApiKey: string;
  /** The workspace (tenant id) the kit manages. */
  readonly workspaceId: string;
  readonly fetch?: typeof fetch;
  /** Per-call timeout; default 10 s. */
  readonly timeoutMs?: number;
  /** Accept Dify minors newer than the version table (named relaxation). */
  readonly allowNewerVersions?: boolean;
}

/**
 * Client for the public console member-management API of dify-api, authenticated with
 * `Authorization: Bearer <ADMIN_API_KEY>` + `X-WORKSPACE-ID` (runs as that workspace's owner;
 * CSRF is skipped for the admin key from 1.11.0). Endpoints: dify
 * `api/controllers/console/workspace/members.py` and `api/controllers/console/auth/activate.py`
 * (docs/dify-contract.md §9.4). Every response's `X-Version` header is checked against the
 * version table.
 *
 * @example
 * const dify = new DifyAdminClient({ apiUrl: 'http://api:5001', adminApiKey, workspaceId })
 * const members = await dify.listMembers()
 */
export class DifyAdminClient {
  readonly #opt: DifyAdminClientOptions;
  readonly #fetch: typeof fetch;
  #traits: (DifyVersionTraits & { version: string }) | undefined;

  constructor(options: DifyAdminClientOptions) {
    this.#opt = { ...options, apiUrl: options.apiUrl.replace(/\/+$/, '') };
    this.#fetch = options.fetch ?? fetch;
  }

  /** Traits of the running dify-api, probed once (GET /console/api/system-features) and then kept fresh from every response. */
  async version(): Promise<DifyVersionTraits & { version: string }> {
    if (this.#traits) return this.#traits;
    await this.#call('GET', '/console/api/system-features', { auth: false });
    return this.#traits as unknown as DifyVersionTraits & { version: string };
  }

  /** Records and checks a version seen on any dify-api response (throws when unsupported). */
  observeVersion(header: string | null): DifyVersionTraits & { version: string } {
    const t = difyVersionTraits(header, { allowNewer: this.#opt.allowNewerVersions === true });
    this.#traits = t;
    return t;
  }

  async listMembers(): Promise<DifyMember[]> {
    const body = await this.#call('GET', '/console/api/workspaces/current/members');
    const accounts = (body as { accounts?: unknown }).accounts;
    if (!Array.isArray(accounts)) throw new DifyError('ERR_DIFY_ADMIN_API', 'members list has no accounts array');
    return accounts.map((a: Record<string, unknown>) => ({
      id: String(a['id'] ?? ''),
      name: String(a['name'] ?? ''),
      email: String(a['email'] ?? ''),
      role: String(a['role'] ?? ''),
      status: String(a['status'] ?? ''),
    }));
  }

  async inviteEmail(email: string, role: AssignableRole, language = 'en-US'): Promise<InvitationResult> {
    const body = await this.#call('POST', '/console/api/workspaces/current/members/invite-email', {
      json: { emails: [email], role, language },
    });
    const results = (body as { invitation_results?: unknown }).invitation_results;
    const first = Array.isArray(results) ? (results[0] as Record<string, unknown> | undefined) : undefined;
    if (!first) throw new DifyError('ERR_DIFY_ADMIN_API', 'invite-email returned no invitation result');
    return {
      status: String(first['status'] ?? ''),
      email: String(first['email'] ?? email),
      ...(typeof first['url'] === 'string' ? { url: first['url'] } : {}),
      ...(typeof first['message'] === 'string' ? { message: first['message'] } : {}),
    };
  }

  /** Accepts an invitation (POST /console/api/activate); issues no Dify login by itself. */
  async activate(input: {
    email: string;
    token: string;
    name: string;
    language?: string;
    timezone?: string;
  }): Promise<{ refreshToken?: string }> {
    const body = await this.#call('POST', '/console/api/activate', {
      auth: false,
      // email + token only, as in the invitation URL: with workspace_id *and* email, real dify-api
      // (1.12.1 and 1.16.1, observed) looks the token up under a legacy key and answers 403
      // already_activate (api/controllers/console/auth/activate.py, api/services/account_service.py).
      json: {
        email: input.email,
        token: input.token,
        name: input.name.slice(0, 30),
        interface_language: input.language ?? 'en-US',
        timezone: input.timezone ?? 'UTC',
      },
    });
    // Version table (`activationIssuesLogin`, Dify < 1.11.2): activation also logged the invitee
    // in and answered with a token pair (api/controllers/console/auth/activate.py; observed on real
    // 1.11.0): hand the refresh token back so that the caller can revoke it — nobody is meant to
    // hold it. A token in the answer of any other version is handed back too (fail closed).
    const data = (body as { data?: { refresh_token?: unknown } } | undefined)?.data;
    return typeof data?.refresh_token === 'string' ? { refreshToken: data.refresh_token } : {};
  }

  async updateRole(accountId: string, role: AssignableRole): Promise<void> {
    await this.#call('PUT', `/console/api/workspaces/current/members/${encodeURIComponent(accountId)}/update-role`, {
      json: { role },
    });
  }

  async removeMember(accountId: string): Promise<void> {
    await this.#call('DELETE', `/console/api/workspaces/current/members/${encodeURIComponent(accountId)}`);
  }

  async #call(method: string, path: string, opts: { json?: unknown; auth?: boolean } = {}): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.auth !== false) {
      headers['authorization'] = `Bearer ${this.#opt.adminApiKey}`;
      headers['x-workspace-id'] = this.#opt.workspaceId;
    }
    if (opts.json !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.#fetch(this.#opt.apiUrl + path, {
        method,
        headers,
        ...(opts.json !== undefined ? { body: JSON.stringify(opts.json) } : {}),
        signal: AbortSignal.timeout(this.#opt.timeoutMs ?? 10_000),
        redirect: 'manual',
      });
    } catch (cause) {
      throw new DifyError('ERR_DIFY_UNREACHABLE', `dify-api did not answer ${method} ${path}`, { cause });
    }
    this.observeVersion(res.headers.get('x-version'));
    const text = await res.text();
    if (res.status < 200 || res.status >= 300) {
      throw new DifyError('ERR_DIFY_ADMIN_API', `dify-api answered ${res.status} to ${method} ${path}`, {
        status: res.status,
      });
    }
    if (text === '') return {};
    try {
      return JSON.parse(text) as unknown;
    } catch (cause) {
      throw new DifyError('ERR_DIFY_ADMIN_API', `dify-api answered ${method} ${path} with non-JSON`, {
        cause,
        status: res.status,
      });
    }
  }
}
