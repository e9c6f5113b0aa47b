/**
 * `dify-sso`: one bin, one `--help` per command, the same exit codes and error format for every
 * command, commands loaded lazily.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMANDS, EXIT } from '../src/commands.js';
import { main } from '../src/main.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(...argv: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const code = await main(argv, {}, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

const ERROR_LINE = /^dify-sso [a-z-]+: error ERR_[A-Z_]+ \S.*\n/m;

test('dify-sso --help lists every command with its exit codes; no command is a usage error', async () => {
  const help = await run('--help');
  assert.equal(help.code, EXIT.ok);
  for (const c of ['patch', 'image', 'deploy', 'break-glass', 'doctor'])
    assert.match(help.out, new RegExp(`^  ${c} +\\S`, 'm'), c);
  assert.match(help.out, /Exit codes: 0 ok, 1 failure .*, 2 usage error/);
  assert.deepEqual(
    COMMANDS.map((c) => c.name),
    ['patch', 'image', 'deploy', 'break-glass', 'doctor'],
  );
  const none = await run();
  assert.equal(none.code, EXIT.usage);
  assert.match(none.err, /^Usage: dify-sso <command>/);
  assert.match((await run('--version')).out, /^\d+\.\d+\.\d+\n$/);
});

test('an unknown command exits 2 in the common error format, with a fix line', async () => {
  const r = await run('pacth', 'x');
  assert.equal(r.code, EXIT.usage);
  assert.equal(
    r.err,
    'dify-sso: error ERR_INVALID_ARG_VALUE unknown command "pacth"\nfix: use one of patch, image, deploy, break-glass, doctor (dify-sso --help)\n',
  );
});

test('every command has its own --help (exit 0), also as dify-sso help <command>', async () => {
  for (const { name } of COMMANDS) {
    const r = await run(name, '--help');
    assert.equal(r.code, EXIT.ok, `${name}: ${r.err}`);
    assert.match(r.out, new RegExp(`^Usage: dify-sso ${name} `), name);
    assert.equal(r.err, '', name);
    assert.equal((await run('help', name)).out, r.out, `help ${name}`);
  }
});

test('every command reports a usage error as exit 2 and `dify-sso <cmd>: error ERR_… <message>` + fix', async () => {
  const cases: Array<[string, string[]]> = [
    ['patch', []],
    ['patch', ['--nope', 'x']],
    ['deploy', []],
    ['deploy', ['--dify-docker', '/x', '--port', 'eighty']],
    ['break-glass', []],
    ['break-glass', ['issue', '--ttl', '3d']],
    ['doctor', []],
  ];
  for (const [cmd, args] of cases) {
    const r = await run(cmd, ...args);
    assert.equal(r.code, EXIT.usage, `${cmd} ${args.join(' ')}`);
    const first = r.err.split('\n')[0] ?? '';
    assert.match(
      first,
      new RegExp(`^dify-sso ${cmd}: error ERR_INVALID_ARG_VALUE \\S`),
      `${cmd} ${args.join(' ')}: ${first}`,
    );
    assert.match(r.err.split('\n')[1] ?? '', /^fix: /, `${cmd}: fix line`);
  }
});

test('failures exit 1 with a stable code and a fix line (patch, deploy, break-glass)', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'dify-sso-cli-'));
  t.after(() => rmSync(empty, { recursive: true, force: true }));
  const patch = await run('patch', empty);
  assert.equal(patch.code, EXIT.failure);
  assert.match(patch.err, /^dify-sso patch: error ERR_PATCH_NOT_A_CHECKOUT \S.*\nfix: pass the Dify repository root/);
  const deploy = await run('deploy', '--dify-docker', empty);
  assert.equal(deploy.code, EXIT.failure);
  assert.match(deploy.err, /^dify-sso deploy: error ERR_DIFY_VERSION_UNKNOWN \S.*\nfix: /);
  const bg = await run('break-glass', 'issue');
  assert.equal(bg.code, EXIT.failure);
  assert.match(bg.err, /^dify-sso break-glass: error ERR_CONFIG_INVALID Invalid configuration/);
  assert.match(bg.err, /^fix: set the DIFY_SSO_\* variables/m);
  for (const r of [patch, deploy, bg]) assert.match(r.err, ERROR_LINE);
});

test('dify-sso deploy writes the files into a Dify docker/ directory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dify-sso-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(fileURLToPath(new URL('../../sidecar/test/gate/__fixtures__/dify-1.16/docker', import.meta.url)), dir, {
    recursive: true,
  });
  const r = await run('deploy', '--dify-docker', dir, '--image', 'registry.example/dify-sso:1');
  assert.equal(r.code, EXIT.ok, r.err);
  assert.match(
    readFileSync(join(dir, 'docker-compose.override.yaml'), 'utf8'),
    /image: "?registry\.example\/dify-sso:1/,
  );
  assert.ok(existsSync(join(dir, 'sso/nginx/conf.d/default.conf.template')));
  assert.match(r.err, /^dify-sso deploy: wrote .* for Dify 1\.16\.1/);
});

/** Modules of a package loaded (CommonJS cache: ts-morph and fastify are CommonJS) after `argv`. */
function loadedAfter(argv: string[]): string[] {
  const script = [
    "import { createRequire } from 'node:module'",
    `const { main } = await import(${JSON.stringify(new URL('../src/main.ts', import.meta.url).href)})`,
    `await main(${JSON.stringify(argv)}, {}, { out() {}, err() {} })`,
    'console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)))',
  ].join('\n');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    cwd: fileURLToPath(new URL('../../..', import.meta.url)),
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '[]') as string[];
}

test('commands load lazily: --help loads neither ts-morph nor the sidecar', () => {
  const loaded = (mods: string[], pkg: string) => mods.some((m) => m.includes(`/node_modules/${pkg}/`));
  const top = loadedAfter(['--help']);
  assert.equal(loaded(top, 'ts-morph'), false, 'ts-morph not loaded by --help');
  assert.equal(
    loaded(top, 'ioredis') || loaded(top, 'pino') || loaded(top, 'fastify'),
    false,
    'the sidecar (ioredis, pino, fastify) not loaded by --help',
  );
  // The probe sees them when a command does load them.
  assert.equal(loaded(loadedAfter(['patch', '--help']), 'ts-morph'), true, 'patch loads ts-morph');
  assert.equal(loaded(loadedAfter(['deploy', '--help']), 'ioredis'), true, 'deploy loads the sidecar');
});

test('the bin runs the compiled CLI with plain node (dist/, built by npm run build)', () => {
  const bin = fileURLToPath(new URL('../bin/dify-sso.js', import.meta.url));
  const r = spawnSync(process.execPath, [bin, 'patch', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Usage: dify-sso patch <dify-checkout>/);
  const bad = spawnSync(process.execPath, [bin, 'deploy'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^dify-sso deploy: error ERR_INVALID_ARG_VALUE --dify-docker <dir> is required\n/);
});
