/**
 * Differential gate tests (issue 9): every case of the corpus goes, as exact bytes, through
 * both gate modes (real nginx + `/sso/auth`, and the sidecar's reverse proxy) to a real
 * werkzeug + gunicorn (gevent) + python-engineio upstream that records what it routed and read.
 * The assertion is the same for every case (`invariant.ts`), plus the case's own `expect`.
 * Needs DIFY_SSO_TEST_REDIS_URL, nginx, python3 (the pinned upstream is installed on first use).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { HostileOp } from '../helpers/hostile-op.js';
import { startStandin, type Standin } from '../dify/helpers.js';
import { loadCorpus, render, type Case, type Rendered } from './corpus.js';
import { violations } from './invariant.js';
import { MODES, startGate, startUpstream, type GateStack, type Upstream } from './stack.js';
import { openWire, type WireResponse } from './wire.js';

const corpus = loadCorpus();
let upstream: Upstream;
let op: HostileOp;
let standin: Standin;
const results = new Map<string, { cases: number; passed: number; failed: number }>();

before(async () => {
  upstream = await startUpstream();
  op = await HostileOp.start();
  standin = await startStandin();
});
after(async () => {
  await standin?.close();
  await op?.close();
  await upstream?.stop();
});

/** Equal after ASCII-only lower-casing (no Unicode case folding). */
function asciiEqualIgnoringCase(a: string, b: string): boolean {
  const lower = (s: string) => s.replace(/[A-Z]/g, (ch) => ch.toLowerCase());
  return lower(a) === lower(b);
}

async function runLogins(c: Case, gate: GateStack): Promise<string[]> {
  const owners = new Map<string, string>();
  const problems: string[] = [];
  const members = new Map<string, string>();
  for (const email of c.members ?? []) members.set(await gate.ensureMember(email), email);
  for (const l of c.logins ?? []) {
    const account = await gate.loginAccount(l);
    if (account === undefined) continue;
    const member = members.get(account);
    const email = typeof l.claims.email === 'string' ? l.claims.email : '';
    if (member !== undefined && !asciiEqualIgnoringCase(member, email))
      problems.push(`IdP user ${l.sub} (${JSON.stringify(email)}) was linked to the Dify account of ${member}`);
    const other = owners.get(account);
    if (other !== undefined && other !== l.sub)
      problems.push(`IdP users ${other} and ${l.sub} were linked to the same Dify account ${account}`);
    owners.set(account, l.sub);
  }
  return problems;
}

async function runCase(c: Case, gate: GateStack): Promise<string[]> {
  if (c.logins) return runLogins(c, gate);
  const problems: string[] = [];
  const people = gate.people;
  const offset = upstream.offset();
  const r1 = render(c.request as NonNullable<Case['request']>, people, gate.host, '1');
  let r2: Rendered | undefined;
  let res1: WireResponse | undefined;
  const conn = await openWire(gate.port);
  try {
    conn.send(r1.bytes);
    res1 = await conn.read({ head: r1.method === 'HEAD' });
    if (c.then && res1 && res1.status !== 101 && !conn.closed) {
      r2 = render(c.then, people, gate.host, '2');
      conn.send(r2.bytes);
      await conn.read({ head: r2.method === 'HEAD' });
    }
  } finally {
    conn.destroy();
  }
  const records = upstream.recordsSince(offset);
  for (const rec of records) {
    const from =
      rec.marker === '2' && r2
        ? r2.presented
        : rec.marker === '1'
          ? r1.presented
          : [...new Set([...r1.presented, ...(r2?.presented ?? [])])];
    problems.push(
      ...violations(
        rec,
        from.map((w) => people[w]),
        {
          names: gate.difyCookies,
          filesGated: gate.mode === 'proxy',
          ...(gate.mode === 'nginx'
            ? { ungatedPrefixesPass: ['service', 'files', 'mcp', 'triggers', 'unmatched'] as const }
            : {}),
        },
      ),
    );
  }
  const e = c.expect ?? {};
  if (e.refused) {
    if (!res1 || res1.status < 400 || res1.status > 499)
      problems.push(`expected a refusal (4xx), got ${res1 ? res1.status : 'no answer'}`);
    else if (e.status !== undefined && res1.status !== e.status)
      problems.push(`expected status ${e.status}, got ${res1.status}`);
    if (records.length > 0)
      problems.push(
        `expected nothing upstream, but it recorded ${records.map((r) => `${r.kind}:${r.endpoint ?? '-'}`).join(', ')}`,
      );
  }
  if (e.redirectParams && res1 && res1.status >= 300 && res1.status < 400) {
    const location = res1.headers.find(([k]) => k === 'location')?.[1] ?? '';
    const names = [...new URL(location, 'http://x').searchParams.keys()];
    if (JSON.stringify(names) !== JSON.stringify(e.redirectParams))
      problems.push(
        `login redirect carries parameters ${JSON.stringify(names)}, expected exactly ${JSON.stringify(e.redirectParams)} (Location: ${location.slice(0, 120)})`,
      );
  }
  // Sessions must stay usable for the next case; a case may also require that one survives.
  for (const who of ['A', 'B'] as const) {
    if (await gate.sessionLive(who)) continue;
    if (e.sessionSurvives === who) problems.push(`the kit session of ${who} was ended by this request`);
    await gate.relogin(who);
  }
  return problems;
}

for (const mode of MODES) {
  test(`differential (${mode}): nginx + werkzeug/gunicorn + python-engineio`, { timeout: 180_000 }, async (t) => {
    const gate = await startGate(mode, upstream, { op, standin });
    t.after(() => gate.close());
    const cases = corpus.filter((c) => !c.modes || c.modes.includes(mode));
    const tally = { cases: cases.length, passed: 0, failed: 0 };
    results.set(mode, tally);
    for (const c of cases) {
      await t.test(`${c.id}${c.finding ? ` (finding ${c.finding})` : ''}`, async () => {
        let problems: string[];
        try {
          problems = await runCase(c, gate);
        } catch (e) {
          tally.failed++;
          throw e;
        }
        if (problems.length > 0) tally.failed++;
        else tally.passed++;
        assert.deepEqual(problems, [], `${c.file} ${c.id}: ${c.about}`);
      });
    }
    t.diagnostic(`differential (${mode}): ${tally.cases} cases, ${tally.passed} passed, ${tally.failed} failed`);
  });
}

test('differential: summary (corpus size and result per mode)', (t) => {
  const ran = MODES.map((m) => results.get(m));
  assert.ok(corpus.length > 0, 'the corpus is empty');
  for (const [i, r] of ran.entries())
    assert.ok(r && r.passed + r.failed === r.cases, `mode ${MODES[i]} did not run all its cases`);
  const total = ran.reduce((n, r) => n + (r?.cases ?? 0), 0);
  const passed = ran.reduce((n, r) => n + (r?.passed ?? 0), 0);
  const failed = ran.reduce((n, r) => n + (r?.failed ?? 0), 0);
  t.diagnostic(
    `differential: ${corpus.length} cases × ${MODES.length} modes (${total} runs), ${passed} passed, ${failed} failed; ${MODES.map((m) => `${m}: ${results.get(m)?.passed ?? 0}/${results.get(m)?.cases ?? 0}`).join(', ')}`,
  );
});
