import { ASSIGNABLE_ROLES, type AssignableRole } from './admin-client.js';

/**
 * Mapping from IdP claim values (groups, realm or client roles) to a Dify workspace role.
 * Fails closed: no matching value, a missing claim, or a claim of the wrong type yields
 * `undefined` (the login is then denied with `no_role`). `owner` can never be mapped.
 */
export interface RoleMap {
  readonly entries: readonly { readonly value: string; readonly role: AssignableRole }[];
  /** Dotted claim paths read, in order (`groups`, `realm_access.roles`, `resource_access.dify.roles`). */
  readonly claims: readonly string[];
}

/** Precedence when several values match: the most privileged role wins. */
const RANK: Record<AssignableRole, number> = { admin: 4, editor: 3, normal: 2, dataset_operator: 1 };

/**
 * Parses `DIFY_SSO_ROLE_MAP` (`value=role` pairs separated by commas) and `DIFY_SSO_ROLE_CLAIM`
 * (comma-separated dotted claim paths). Every problem is returned, none thrown.
 *
 * @example
 * parseRoleMap('dify-admins=admin,dify-editors=editor', 'groups')
 * // { map: { entries: [...], claims: ['groups'] }, problems: [] }
 */
export function parseRoleMap(text: string, claimText = 'groups'): { map: RoleMap; problems: string[] } {
  const problems: string[] = [];
  const entries: { value: string; role: AssignableRole }[] = [];
  for (const raw of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const i = raw.lastIndexOf('=');
    if (i <= 0 || i === raw.length - 1) {
      problems.push(`"roleMap" entry "${raw}" must be <claim value>=<role>`);
      continue;
    }
    const value = raw.slice(0, i).trim();
    const role = raw.slice(i + 1).trim();
    if (role === 'owner') {
      problems.push(`"roleMap" entry "${raw}" maps to owner; the kit never grants owner`);
      continue;
    }
    if (!(ASSIGNABLE_ROLES as readonly string[]).includes(role)) {
      problems.push(
        `"roleMap" entry "${raw}" has unknown role "${role}" (expected one of ${ASSIGNABLE_ROLES.join(', ')})`,
      );
      continue;
    }
    entries.push({ value, role: role as AssignableRole });
  }
  const claims = claimText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (claims.length === 0) problems.push('"roleClaim" must name at least one claim path');
  for (const c of claims) {
    if (!/^[A-Za-z0-9_:$-]+(\.[A-Za-z0-9_:$-]+)*$/.test(c))
      problems.push(`"roleClaim" path "${c}" is not a dotted claim path`);
  }
  return { map: { entries, claims }, problems };
}

function claimAt(claims: Record<string, unknown>, path: string): unknown {
  let cur: unknown = claims;
  for (const key of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** The values of the configured claims (arrays of strings, or a single string). */
export function claimValues(claims: Record<string, unknown>, map: RoleMap): string[] {
  const out: string[] = [];
  for (const path of map.claims) {
    const v = claimAt(claims, path);
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) for (const x of v) if (typeof x === 'string') out.push(x);
  }
  // Keycloak's group mapper may emit full paths (`/dify-admins`); match both forms.
  return out.flatMap((v) => (v.startsWith('/') && v.length > 1 ? [v, v.slice(1)] : [v]));
}

/** The Dify role for these claims, or undefined (fail closed). */
export function mapRole(claims: Record<string, unknown>, map: RoleMap): AssignableRole | undefined {
  const values = new Set(claimValues(claims, map));
  let best: AssignableRole | undefined;
  for (const e of map.entries) {
    if (values.has(e.value) && (best === undefined || RANK[e.role] > RANK[best])) best = e.role;
  }
  return best;
}
