/**
 * Issue 9, finding 7: e-mail addresses are compared only under the linking rule (printable
 * ASCII as sent, IDNA domains in A-label form, ASCII-only case folding). Unicode folding
 * (`toLowerCase`, NFKC) must never turn one person's address into another's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccountResolver, linkableEmail } from '../../src/dify/accounts.js';
import type { DifyMember, InvitationResult } from '../../src/dify/admin-client.js';
import { parseRoleMap } from '../../src/dify/role-map.js';
import { createMemoryStore } from '../../src/store/memory.js';

const cases: [label: string, input: unknown, want: string | 'missing' | 'not_linkable'][] = [
  ['plain ASCII', 'kevin@corp.com', 'kevin@corp.com'],
  ['ASCII upper case folds', 'Kevin@CORP.com', 'kevin@corp.com'],
  ['plus and dots in the local part', 'k.e+v@corp.com', 'k.e+v@corp.com'],
  ['IDNA domain in A-label form', 'a@xn--bcher-kva.example', 'a@xn--bcher-kva.example'],
  ['KELVIN SIGN U+212A (toLowerCase gives k)', '\u212Aevin@corp.com', 'not_linkable'],
  ['full-width K U+FF2B (NFKC gives K)', '\uFF2Bevin@corp.com', 'not_linkable'],
  ['long s U+017F (upper case gives S)', '\u017Fam@corp.com', 'not_linkable'],
  ['dotless i U+0131', 'k\u0131m@corp.com', 'not_linkable'],
  ['Unicode domain (U-label)', 'a@bücher.example', 'not_linkable'],
  ['non-ASCII local part', 'jürgen@corp.com', 'not_linkable'],
  ['ligature ﬃ in the domain', 'a@o\uFB03ce.com', 'not_linkable'],
  ['two @', 'a@b@corp.com', 'not_linkable'],
  ['empty local part', '@corp.com', 'not_linkable'],
  ['single-label domain', 'a@localhost', 'not_linkable'],
  ['empty label', 'a@corp..com', 'not_linkable'],
  ['label starting with -', 'a@-corp.com', 'not_linkable'],
  ['whitespace', ' kevin@corp.com', 'not_linkable'],
  ['NUL', 'kevin\u0000@corp.com', 'not_linkable'],
  ['local part over 64', `${'a'.repeat(65)}@corp.com`, 'not_linkable'],
  ['absent', undefined, 'missing'],
  ['not a string', 42, 'missing'],
];
for (const [label, input, want] of cases) {
  test(`linkableEmail: ${label}`, () => {
    const r = linkableEmail(input);
    if (want === 'missing' || want === 'not_linkable') assert.deepEqual(r, { ok: false, reason: want });
    else assert.deepEqual(r, { ok: true, email: want });
  });
}

const roleMap = parseRoleMap('dify-editors=editor').map;
const kevin: DifyMember = { id: 'acc-kevin', name: 'Kevin', email: 'kevin@corp.com', role: 'editor', status: 'active' };

function resolver(members: DifyMember[], jit = true) {
  const calls: string[] = [];
  const audits: [string, Record<string, unknown>][] = [];
  const invite: InvitationResult = { status: 'success', email: 'x', url: 'http://web/activate?token=t' };
  const r = new AccountResolver({
    admin: {
      listMembers: async () => members,
      inviteEmail: async (email: string) => (calls.push(`invite ${email}`), invite),
      activate: async () => (calls.push('activate'), {}),
      updateRole: async (id: string, role: string) => void calls.push(`update-role ${id} ${role}`),
      removeMember: async (id: string) => void calls.push(`remove ${id}`),
    },
    kv: createMemoryStore().kv,
    roleMap,
    jit,
    removeUnmapped: false,
    audit: (event, fields) => void audits.push([event, fields]),
  });
  return { r, calls, audits };
}

const login = (email: string) => ({
  iss: 'https://idp.example',
  sub: `sub-${email}`,
  claims: { groups: ['dify-editors'] },
  email,
  emailVerified: true,
  name: 'K',
});

for (const spoof of ['\u212Aevin@corp.com', '\uFF2Bevin@corp.com', 'kevin@corp.co\u1D0D']) {
  test(`a verified look-alike address (${JSON.stringify(spoof)}) never links to an ASCII member and is not provisioned: email_not_linkable, audited`, async () => {
    for (const jit of [true, false]) {
      const { r, calls, audits } = resolver([kevin], jit);
      await assert.rejects(
        r.resolve(login(spoof)),
        (e: unknown) => (e as { reason?: string }).reason === 'email_not_linkable',
      );
      assert.deepEqual(calls, [], 'no invitation, no role change');
      assert.deepEqual(audits, [
        ['account.link_refused', { iss: 'https://idp.example', sub: `sub-${spoof}`, reason: 'email_not_linkable' }],
      ]);
    }
  });
}

test('a member whose stored address is not linkable is never matched (no link, no duplicate invitation)', async () => {
  const odd: DifyMember = {
    id: 'acc-odd',
    name: 'Odd',
    email: '\u212Aevin@corp.com',
    role: 'editor',
    status: 'active',
  };
  const { r, calls } = resolver([odd], true);
  // kevin@corp.com is not the odd member: it is provisioned as a new account (the invitation is
  // accepted, then looked up by its key: the odd member does not answer for it).
  await assert.rejects(
    r.resolve(login('kevin@corp.com')),
    (e: unknown) => (e as { reason?: string }).reason === 'dify_unavailable',
  );
  assert.deepEqual(calls, ['invite kevin@corp.com', 'activate']);
});

test('an ASCII address differing only in case still links to the member', async () => {
  const { r, calls } = resolver([kevin], false);
  const out = await r.resolve(login('KEVIN@Corp.Com'));
  assert.equal(out.accountId, 'acc-kevin');
  assert.equal(out.linked, 'email');
  assert.deepEqual(calls, []);
});
