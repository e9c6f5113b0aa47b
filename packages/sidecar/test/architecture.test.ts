/**
 * The module map of docs/architecture.md is the law of `src/`: every import between rooms must
 * be allowed by the map's "may import" column, `src/` has no import cycle (type imports
 * included), and nothing reachable from the entry point (`server.ts`) lives in the deployment
 * generators, the CLI or the codemods.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = join(import.meta.dirname, '..', 'src');
const MAP = join(import.meta.dirname, '..', '..', '..', 'docs', 'architecture.md');
/** Imported by every room (the error catalogue and the shared words). */
const EVERYWHERE = ['errors.ts', '@dify-sso-kit/vocabulary'];

interface Room {
  readonly name: string;
  readonly mayImport: readonly string[] | 'all';
}

/** Rows of the "Module map" table: room, owns, may import. */
export function readModuleMap(text: string): Room[] {
  const section = text.slice(text.indexOf('## Module map'), text.indexOf('## Other packages'));
  const rooms: Room[] = [];
  for (const line of section.split('\n')) {
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    const room = /^`([^`]+)`$/.exec(cells[0] ?? '')?.[1];
    if (!room || cells.length !== 3) continue;
    const may = cells[2] as string;
    rooms.push({
      name: room,
      mayImport: may === 'every room' ? 'all' : [...may.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string),
    });
  }
  return rooms;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly line: number;
}

/** An import as scanned: a static value import, an `import type` / `export type`, or an `import()`. */
interface ScannedImport extends Edge {
  readonly kind: 'value' | 'type' | 'dynamic';
  /** A module of `src/` (a relative specifier), not a package. */
  readonly local: boolean;
}

/** Every import and re-export of `src/`: relative ones as paths below `src/`, packages by name. */
function scanImports(): ScannedImport[] {
  const out: ScannedImport[] = [];
  for (const f of files(SRC)) {
    const from = relative(SRC, f);
    const text = readFileSync(f, 'utf8');
    const add = (spec: string, index: number, kind: ScannedImport['kind']) =>
      out.push({
        from,
        to: spec.startsWith('.') ? relative(SRC, resolve(dirname(f), spec)).replace(/\.js$/, '.ts') : spec,
        line: text.slice(0, index).split('\n').length,
        kind,
        local: spec.startsWith('.'),
      });
    for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[\w*{}\s,]+?\s+from\s+)?['"]([^'"]+)['"]/gm))
      add(m[2] as string, m.index, m[1] ? 'type' : 'value');
    for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) add(m[1] as string, m.index, 'dynamic');
  }
  return out;
}

/** Every module and package reachable from `start` along `graph`. */
function reachable(start: string, graph: readonly Edge[]): Set<string> {
  const seen = new Set<string>();
  const todo = [start];
  while (todo.length > 0) {
    const n = todo.pop() as string;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const e of graph) if (e.from === n) todo.push(e.to);
  }
  return seen;
}

/** The room a path belongs to: the longest room name that is the path or a folder above it. */
function roomOf(rooms: readonly Room[], path: string): Room | undefined {
  return rooms
    .filter((r) => (r.name.endsWith('/') ? path.startsWith(r.name) : path === r.name))
    .sort((a, b) => b.name.length - a.name.length)[0];
}

/** Violations of the map (as readable lines). */
export function violations(rooms: readonly Room[], edges: readonly Edge[]): string[] {
  const bad: string[] = [];
  for (const e of edges) {
    const from = roomOf(rooms, e.from);
    if (!from) {
      bad.push(`${e.from}: not in any room of docs/architecture.md`);
      continue;
    }
    if (from.mayImport === 'all' || EVERYWHERE.includes(e.to)) continue;
    const to = e.to.startsWith('@') ? undefined : roomOf(rooms, e.to);
    const target = to?.name ?? e.to;
    if (target === from.name || from.mayImport.includes(target)) continue;
    bad.push(`${e.from}:${e.line} imports ${e.to} (${from.name} may import ${from.mayImport.join(', ') || 'nothing'})`);
  }
  return bad;
}

function cycles(edges: readonly Edge[]): string[][] {
  const graph = new Map<string, string[]>();
  for (const e of edges) if (!e.to.startsWith('@')) graph.set(e.from, [...(graph.get(e.from) ?? []), e.to]);
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      if (state.get(m) === 'open') found.push([...stack.slice(stack.indexOf(m)), m]);
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of graph.keys()) if (!state.has(n)) visit(n);
  return found;
}

const rooms = readModuleMap(readFileSync(MAP, 'utf8'));
const scanned = scanImports();
/** The module map's edges: every kind of import between modules of `src/` and the kit's own packages. */
const edges = scanned.filter((e) => e.local || e.to.startsWith('@dify-sso-kit/'));

test('docs/architecture.md lists the rooms of the sidecar', () => {
  for (const name of [
    'gate/',
    'dify/',
    'dify/contract/',
    'routes/',
    'deploy/',
    'break-glass/',
    'plugins/',
    'services/',
  ]) {
    assert.ok(
      rooms.some((r) => r.name === name),
      `${name} is in the module map`,
    );
  }
  assert.ok(edges.length > 100, 'the import scan finds the imports');
});

test('every import between rooms is allowed by the module map', () => {
  assert.deepEqual(violations(rooms, edges), []);
});

test('a forbidden import is reported (gate → dify bridge, routes → deploy, contract → gate)', () => {
  const forbidden: Edge[] = [
    { from: 'gate/decide.ts', to: 'dify/bridge.ts', line: 1 },
    { from: 'routes/logout.ts', to: 'deploy/nginx.ts', line: 1 },
    { from: 'dify/contract/cookies.ts', to: 'gate/cidr.ts', line: 1 },
    { from: 'gate/proxy.ts', to: '@dify-sso-kit/codemods', line: 1 },
  ];
  assert.equal(violations(rooms, forbidden).length, forbidden.length);
  assert.deepEqual(violations(rooms, [{ from: 'gate/decide.ts', to: 'dify/contract/cookies.ts', line: 1 }]), []);
});

test('src/ has no import cycle (type imports included)', () => {
  assert.deepEqual(
    cycles(edges).map((c) => c.join(' → ')),
    [],
  );
  assert.equal(
    cycles([
      { from: 'a.ts', to: 'b.ts', line: 1 },
      { from: 'b.ts', to: 'a.ts', line: 1 },
    ]).length,
    1,
  );
});

test('nothing reachable from server.ts is a deployment generator, the CLI or the codemods', () => {
  const seen = reachable('server.ts', edges);
  assert.ok(seen.has('gate/decide.ts') && seen.has('plugins/dify-bridge.ts'), 'the request path is followed');
  const bad = [...seen].filter(
    (n) =>
      n.startsWith('deploy/') ||
      n === 'cli.ts' ||
      n.endsWith('/cli.ts') ||
      n.startsWith('@dify-sso-kit/codemods') ||
      n.startsWith('@dify-sso-kit/cli'),
  );
  assert.deepEqual(bad, []);
});

/** Packages of the request path a supervising primary has no use for. */
const APP_PACKAGES = /^(fastify|@fastify\/(?!error$)|ioredis|openid-client|jose|undici|prom-client|@opentelemetry\/)/;

test('the primary of a worker set loads no app code: server.ts reaches the app, its stores and the OIDC client only through import()', () => {
  // What a module loads as soon as it is loaded itself: static value imports only.
  const graph = scanned.filter((e) => e.kind === 'value');
  const primary = reachable('server.ts', graph);
  assert.ok(primary.has('config/load.ts') && primary.has('lib/workers.ts'), 'the primary path is followed');
  assert.deepEqual(
    [...primary].filter((n) => APP_PACKAGES.test(n) || n === 'app.ts'),
    [],
  );
  // The scan sees what the app loads (a control: the same rule fails on the app itself).
  const app = [...reachable('app.ts', graph)].filter((n) => APP_PACKAGES.test(n));
  for (const pkg of ['fastify', 'ioredis', 'openid-client', 'jose'])
    assert.ok(app.includes(pkg), `app.ts loads ${pkg}`);
});
