/**
 * AccountResolver against a scripted admin client: answers of real dify-api that the stand-in
 * does not produce on demand (a member appearing between the list and the invitation).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccountResolver } from '../../src/dify/accounts.js';
import type { DifyMember, InvitationResult } from '../../src/dify/admin-client.js';
import { parseRoleMap } from '../../src/dify/role-map.js';
import { createMemoryStore } from '../../src/store/memory.js';

function scripted(lists: DifyMember[][], invite: InvitationResult) {
  const calls: string[] = [];
  let n = 0;
  return {
    calls,
    admin: {
      listMembers: async () => {
        calls.push('list');
        return lists[Math.min(n++, lists.length - 1)]!;
      },
      inviteEmail: async (email: string, role: string) => {
        calls.push(`invite ${email} ${role}`);
        return invite;
      },
      activate: async () => (calls.push('activate'), {}),
      updateRole: async (id: string, role: string) => void calls.push(`update-role ${id} ${role}`),
      removeMember: async (id: string) => void calls.push(`remove ${id}`),
    },
  };
}

const bob = {
  iss: 'https://idp.example',
  sub: 'bob',
  claims: { groups: ['dify-editors'] },
  email: 'Bob@Example.com',
  emailVerified: true,
  name: 'Bob',
};
const roleMap = parseRoleMap('dify-admins=admin,dify-editors=editor').map;

test('JIT: invite answered `already_member` (Dify ≥ 1.15, the person joined meanwhile) → no activation, linked, role set', async () => {
  const joined: DifyMember = { id: 'acc-bob', name: 'Bob', email: 'bob@example.com', role: 'normal', status: 'active' };
  const s = scripted([[], [joined]], {
    status: 'already_member',
    email: 'bob@example.com',
    message: 'Account already in workspace.',
  });
  const store = createMemoryStore();
  const r = new AccountResolver({
    admin: s.admin,
    kv: store.kv,
    roleMap,
    jit: true,
    removeUnmapped: false,
    audit: () => {},
  });
  const out = await r.resolve(bob);
  assert.equal(out.accountId, 'acc-bob');
  assert.deepEqual(s.calls, ['list', 'invite bob@example.com editor', 'list', 'update-role acc-bob editor']);
  assert.ok(!s.calls.includes('activate'));
});

test('JIT: any other invitation status is refused (dify_unavailable)', async () => {
  const s = scripted([[]], { status: 'failed', email: 'bob@example.com', message: 'Cannot operate self.' });
  const store = createMemoryStore();
  const r = new AccountResolver({
    admin: s.admin,
    kv: store.kv,
    roleMap,
    jit: true,
    removeUnmapped: false,
    audit: () => {},
  });
  await assert.rejects(r.resolve(bob), (e: unknown) => (e as { reason?: string }).reason === 'dify_unavailable');
});

test('JIT: a fresh invitation is activated with the token of its URL', async () => {
  const joined: DifyMember = { id: 'acc-bob', name: 'Bob', email: 'bob@example.com', role: 'editor', status: 'active' };
  const s = scripted([[], [joined]], {
    status: 'success',
    email: 'bob@example.com',
    url: 'http://web/activate?email=bob%40example.com&token=t-1',
  });
  const store = createMemoryStore();
  const r = new AccountResolver({
    admin: s.admin,
    kv: store.kv,
    roleMap,
    jit: true,
    removeUnmapped: false,
    audit: () => {},
  });
  assert.equal((await r.resolve(bob)).accountId, 'acc-bob');
  assert.deepEqual(s.calls, ['list', 'invite bob@example.com editor', 'activate', 'list']);
});

test('JIT before Dify 1.15: invitation of an existing member answers success with a /signin URL → no activation, mapped role set', async () => {
  const joined: DifyMember = { id: 'acc-bob', name: 'Bob', email: 'bob@example.com', role: 'admin', status: 'active' };
  const s = scripted([[], [joined]], { status: 'success', email: 'bob@example.com', url: 'http://web/signin' });
  const store = createMemoryStore();
  const r = new AccountResolver({
    admin: s.admin,
    kv: store.kv,
    roleMap,
    jit: true,
    removeUnmapped: false,
    audit: () => {},
  });
  assert.equal((await r.resolve(bob)).accountId, 'acc-bob');
  assert.deepEqual(s.calls, ['list', 'invite bob@example.com editor', 'list', 'update-role acc-bob editor']);
});
