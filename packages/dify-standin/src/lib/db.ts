/**
 * In-memory double of the Dify Postgres tables the kit's behaviour depends on: `accounts`,
 * `tenants`, `tenant_account_joins` and `dify_setups` (follows api/models/account.py, 1.12.1–main).
 * Nothing here is a Dify file; only the shape of the rows and the rules the services apply.
 */
import { pbkdf2Sync, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/** `AccountStatus` (api/models/account.py). */
export type AccountStatus = 'pending' | 'uninitialized' | 'active' | 'banned' | 'closed';
/** `TenantAccountRole` (api/models/account.py). */
export type WorkspaceRole = 'owner' | 'admin' | 'editor' | 'normal' | 'dataset_operator';

export const WORKSPACE_ROLES: readonly WorkspaceRole[] = ['owner', 'admin', 'editor', 'normal', 'dataset_operator'];
export const NON_OWNER_ROLES: readonly WorkspaceRole[] = ['admin', 'editor', 'normal', 'dataset_operator'];

export interface Account {
  id: string;
  name: string;
  email: string;
  /** base64 PBKDF2-HMAC-SHA256 (10 000 iterations, 16-byte salt), as api/libs/password.py stores it; null = no password. */
  passwordHash: string | null;
  passwordSalt: string | null;
  status: AccountStatus;
  interfaceLanguage: string;
  interfaceTheme: string;
  timezone: string;
  createdAt: Date;
  lastLoginAt: Date | null;
  lastLoginIp: string | null;
  lastActiveAt: Date;
  initializedAt: Date | null;
}

export interface Workspace {
  id: string;
  name: string;
  status: 'normal' | 'archive';
  createdAt: Date;
}

export interface Membership {
  /** Monotonic insertion order; Dify picks the oldest join when none is current. */
  seq: number;
  workspaceId: string;
  accountId: string;
  role: WorkspaceRole;
  current: boolean;
  invitedBy: string | null;
  createdAt: Date;
}

export interface SeedAccount {
  id?: string;
  name: string;
  email: string;
  password?: string | null;
  status?: AccountStatus;
  createdAt?: string;
  interfaceLanguage?: string;
  timezone?: string;
  memberships?: { workspaceId: string; role: WorkspaceRole; current?: boolean }[];
}

export interface SeedData {
  /** `dify_setups` row; absent or null means "setup not finished". */
  setup?: { setupAt?: string } | null;
  workspaces: { id?: string; name: string; createdAt?: string; status?: 'normal' | 'archive' }[];
  accounts: SeedAccount[];
}

/**
 * The timezone a new account gets for its interface language (`language_timezone_mapping` in
 * api/constants/languages.py, applied by `AccountService.create_account`): observed `en-US` →
 * `America/New_York`; other languages fall back to `UTC` here (the full table is not modelled).
 */
export function timezoneForLanguage(language: string | undefined): string {
  return (language ?? 'en-US') === 'en-US' ? 'America/New_York' : 'UTC';
}

function hashPassword(password: string, salt: Buffer): Buffer {
  // follows api/libs/password.py (1.12.1–main): PBKDF2-HMAC-SHA256, 10 000 iterations
  return pbkdf2Sync(password, salt, 10_000, 32, 'sha256');
}

function validateSeed(seed: SeedData): void {
  if (!seed || !Array.isArray(seed.workspaces) || !Array.isArray(seed.accounts)) {
    throw new TypeError('seed must be an object with "workspaces" and "accounts" arrays');
  }
}

/** The stand-in's "database". One per app instance; reset to the seed on demand. */
export class StandinDb {
  accounts = new Map<string, Account>();
  workspaces = new Map<string, Workspace>();
  memberships: Membership[] = [];
  setupAt: Date | null = null;
  #seq = 0;
  readonly #seed: SeedData;

  constructor(seed: SeedData) {
    validateSeed(seed);
    this.#seed = structuredClone(seed);
    this.reset();
  }

  /** Drop every change and load the seed again. */
  reset(): void {
    this.accounts.clear();
    this.workspaces.clear();
    this.memberships = [];
    this.#seq = 0;
    const seed = this.#seed;
    this.setupAt = seed.setup ? new Date(seed.setup.setupAt ?? Date.now()) : null;
    for (const w of seed.workspaces) {
      const id = w.id ?? randomUUID();
      this.workspaces.set(id, {
        id,
        name: w.name,
        status: w.status ?? 'normal',
        createdAt: new Date(w.createdAt ?? Date.now()),
      });
    }
    for (const a of seed.accounts) {
      const account = this.createAccount({
        ...(a.id === undefined ? {} : { id: a.id }),
        name: a.name,
        email: a.email,
        password: a.password ?? null,
        status: a.status ?? 'active',
        ...(a.createdAt === undefined ? {} : { createdAt: new Date(a.createdAt) }),
        ...(a.interfaceLanguage === undefined ? {} : { interfaceLanguage: a.interfaceLanguage }),
        ...(a.timezone === undefined ? {} : { timezone: a.timezone }),
      });
      for (const m of a.memberships ?? []) {
        if (!this.workspaces.has(m.workspaceId)) {
          throw new TypeError(`seed account "${a.email}" names unknown workspace "${m.workspaceId}"`);
        }
        this.addMember(m.workspaceId, account.id, m.role, null, m.current ?? false);
      }
    }
  }

  createAccount(input: {
    id?: string;
    name: string;
    email: string;
    password?: string | null;
    status?: AccountStatus;
    createdAt?: Date;
    interfaceLanguage?: string;
    timezone?: string;
  }): Account {
    const now = input.createdAt ?? new Date();
    let passwordHash: string | null = null;
    let passwordSalt: string | null = null;
    if (input.password) {
      const salt = randomBytes(16);
      passwordSalt = salt.toString('base64');
      passwordHash = hashPassword(input.password, salt).toString('base64');
    }
    const account: Account = {
      id: input.id ?? randomUUID(),
      name: input.name,
      email: input.email,
      passwordHash,
      passwordSalt,
      status: input.status ?? 'active',
      interfaceLanguage: input.interfaceLanguage ?? 'en-US',
      interfaceTheme: 'light',
      timezone: input.timezone ?? 'UTC',
      createdAt: now,
      lastLoginAt: null,
      lastLoginIp: null,
      lastActiveAt: now,
      initializedAt: input.status === 'pending' ? null : now,
    };
    this.accounts.set(account.id, account);
    return account;
  }

  setPassword(account: Account, password: string): void {
    const salt = randomBytes(16);
    account.passwordSalt = salt.toString('base64');
    account.passwordHash = hashPassword(password, salt).toString('base64');
  }

  /** `compare_password` (api/libs/password.py). */
  checkPassword(account: Account, password: string): boolean {
    if (!account.passwordHash || !account.passwordSalt) return false;
    const expected = Buffer.from(account.passwordHash, 'base64');
    const actual = hashPassword(password, Buffer.from(account.passwordSalt, 'base64'));
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }

  /**
   * `Account` lookup by e-mail: exact first, then case-insensitive
   * (api/services/account_service.py `get_user_through_email`, 1.12.1–main).
   */
  findAccountByEmail(email: string): Account | undefined {
    for (const a of this.accounts.values()) if (a.email === email) return a;
    const lower = email.toLowerCase();
    for (const a of this.accounts.values()) if (a.email.toLowerCase() === lower) return a;
    return undefined;
  }

  addMember(
    workspaceId: string,
    accountId: string,
    role: WorkspaceRole,
    invitedBy: string | null,
    current = false,
  ): Membership {
    const m: Membership = {
      seq: ++this.#seq,
      workspaceId,
      accountId,
      role,
      current,
      invitedBy,
      createdAt: new Date(),
    };
    this.memberships.push(m);
    return m;
  }

  membership(workspaceId: string, accountId: string): Membership | undefined {
    return this.memberships.find((m) => m.workspaceId === workspaceId && m.accountId === accountId);
  }

  membershipsOf(accountId: string): Membership[] {
    return this.memberships.filter((m) => m.accountId === accountId).sort((a, b) => a.seq - b.seq);
  }

  membersOf(workspaceId: string): Membership[] {
    return this.memberships.filter((m) => m.workspaceId === workspaceId).sort((a, b) => a.seq - b.seq);
  }

  removeMember(workspaceId: string, accountId: string): void {
    this.memberships = this.memberships.filter((m) => !(m.workspaceId === workspaceId && m.accountId === accountId));
  }

  ownerOf(workspaceId: string): Account | undefined {
    const m = this.memberships.find((x) => x.workspaceId === workspaceId && x.role === 'owner');
    return m ? this.accounts.get(m.accountId) : undefined;
  }

  /** `TenantService.switch_tenant`: exactly one current join per account. */
  switchCurrent(accountId: string, workspaceId: string): void {
    for (const m of this.memberships) {
      if (m.accountId === accountId) m.current = m.workspaceId === workspaceId;
    }
  }

  /**
   * The workspace a console request runs in (api/services/account_service.py `load_user`,
   * 1.12.1–main): the join marked current, else the oldest join (then marked current); joins of
   * archived workspaces are skipped. `undefined` = no join at all (the request is anonymous).
   */
  currentMembership(accountId: string): Membership | undefined {
    const joins = this.membershipsOf(accountId).filter((m) => this.workspaces.get(m.workspaceId)?.status === 'normal');
    const current = joins.find((m) => m.current);
    if (current) return current;
    const oldest = joins[0];
    if (oldest) oldest.current = true;
    return oldest;
  }
}

/** Load and validate a seed from parsed JSON. */
export function parseSeed(value: unknown): SeedData {
  const seed = value as SeedData;
  validateSeed(seed);
  return seed;
}
