/**
 * `parseCidrList(...).contains`: the answers it remembers per address are the answers it
 * computes — repeated, after the remembered set starts over, for IPv4-mapped IPv6 and for
 * strings that are not addresses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidrList } from '../../src/gate/cidr.js';

test('contains: the same answer on every call, before and after many distinct addresses', () => {
  const list = parseCidrList('10.0.0.0/8, 172.31.255.250/32, fd00::/8');
  const cases: Array<[string | undefined, boolean]> = [
    ['10.1.2.3', true],
    ['11.1.2.3', false],
    ['172.31.255.250', true],
    ['172.31.255.251', false],
    ['::ffff:10.9.9.9', true],
    ['::ffff:11.9.9.9', false],
    ['fd12::1', true],
    ['fe80::1', false],
    ['not-an-address', false],
    ['10.1.2.3:80', false],
    ['', false],
    [undefined, false],
  ];
  const check = () => {
    for (const [ip, expected] of cases) assert.equal(list.contains(ip), expected, String(ip));
  };
  check();
  check(); // remembered answers
  // More distinct addresses than the list remembers: it starts over and still answers right.
  for (let i = 0; i < 3000; i++) {
    const ip = `10.${(i >> 8) & 255}.${i & 255}.1`;
    assert.equal(list.contains(ip), true, ip);
    assert.equal(list.contains(`11.${(i >> 8) & 255}.${i & 255}.1`), false);
  }
  check();
});

test('contains: two lists do not share answers', () => {
  const a = parseCidrList('127.0.0.1/32');
  const b = parseCidrList('10.0.0.0/8');
  assert.equal(a.contains('127.0.0.1'), true);
  assert.equal(b.contains('127.0.0.1'), false);
  assert.equal(b.contains('10.0.0.1'), true);
  assert.equal(a.contains('10.0.0.1'), false);
});
