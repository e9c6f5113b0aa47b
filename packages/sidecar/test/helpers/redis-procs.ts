/**
 * Real Redis topologies for tests, from Debian's `redis-server`, `redis-sentinel` and
 * `redis-cli`: a standalone server (optionally TLS with a CA made by `openssl` at test time),
 * a Sentinel set (1 master, 2 replicas, 3 sentinels) and a 3-master Cluster. Every process
 * listens on 127.0.0.1 on a free port, keeps its files in a temp dir and is stopped by `stop()`
 * (also on process exit).
 */
import { STANDALONE_DEFAULTS } from '../../src/store/index.js';
import { freePort } from './ports.js';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import type { RedisConnectionSettings } from '../../src/lib/redis-client.js';

const run = promisify(execFile);
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/** Defaults of every connection field (the schema's); spread and override. */
export const BASE_SETTINGS: RedisConnectionSettings = STANDALONE_DEFAULTS;

export { freePort } from './ports.js';

/** One redis-server or redis-sentinel process. */
export class RedisProc {
  proc: ChildProcess | undefined;
  log = '';
  constructor(
    readonly bin: 'redis-server' | 'redis-sentinel',
    readonly args: string[],
    readonly port: number,
    readonly ready: RegExp,
  ) {}

  /** Starts the process and waits until its log says it is ready. */
  async start(): Promise<this> {
    const proc = spawn(this.bin, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    live.add(proc);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.bin} on ${this.port} not ready in 10 s:\n${this.log.slice(-2000)}`)),
        10_000,
      );
      const onData = (b: Buffer) => {
        this.log += b.toString();
        if (this.ready.test(this.log)) {
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('exit', (code) => {
        live.delete(proc);
        clearTimeout(timer);
        reject(new Error(`${this.bin} on ${this.port} exited (${code}):\n${this.log.slice(-2000)}`));
      });
    });
    this.log = '';
    return this;
  }

  /** Kills the process (SIGKILL: a crash, no shutdown save) and waits for its exit. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
    live.delete(p);
  }
}

function serverArgs(dir: string, port: number, extra: string[] = []): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    '--loglevel',
    'notice',
    ...extra,
  ];
}

/** A plain client to one node (for inspecting and steering the topology). */
export function nodeClient(port: number, password?: string): Redis {
  const c = new Redis({
    host: '127.0.0.1',
    port,
    ...(password ? { password } : {}),
    maxRetriesPerRequest: 1,
    lazyConnect: false,
  });
  c.on('error', () => {});
  return c;
}

export async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await fn().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A standalone redis-server; `persistent` turns AOF on (fsync always) so a kill + restart keeps data. */
export class StandaloneRedis {
  private constructor(
    readonly dir: string,
    readonly server: RedisProc,
  ) {}

  static async start(o: { persistent?: boolean } = {}): Promise<StandaloneRedis> {
    const dir = mkdtempSync(join(tmpdir(), 'redis-standalone-'));
    const port = await freePort();
    const extra = o.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : [];
    const server = new RedisProc('redis-server', serverArgs(dir, port, extra), port, /Ready to accept connections/);
    await server.start();
    return new StandaloneRedis(dir, server);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.server.port}`;
  }

  /** Crash: SIGKILL. */
  async kill(): Promise<void> {
    await this.server.kill();
  }

  /** Starts the server again on the same port and dir. */
  async restart(): Promise<void> {
    await this.server.start();
  }

  async stop(): Promise<void> {
    await this.server.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Test PKI made by `openssl`: a CA, a server certificate for 127.0.0.1/localhost, a client certificate, and a foreign CA. */
export interface TestPki {
  dir: string;
  caFile: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A CA that signed nothing here (a client trusting only it must fail). */
  otherCa: string;
}

/**
 * Makes the test PKI with the `openssl` CLI (EC P-256 keys, 1 day).
 *
 * @example
 * const pki = await makeTestPki()
 */
export async function makeTestPki(): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-pki-'));
  const f = (n: string) => join(dir, n);
  const ossl = (...a: string[]) => run('openssl', a, { cwd: dir });
  const ca = async (name: string) => {
    await ossl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      f(`${name}.key`),
      '-out',
      f(`${name}.crt`),
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
    );
  };
  await ca('test-ca');
  await ca('other-ca');
  const leaf = async (name: string, ext: string) => {
    writeFileSync(f(`${name}.ext`), ext);
    await ossl(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      f(`${name}.key`),
      '-out',
      f(`${name}.csr`),
      '-subj',
      `/CN=${name}`,
    );
    await ossl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('test-ca.crt'),
      '-CAkey',
      f('test-ca.key'),
      '-CAcreateserial',
      '-out',
      f(`${name}.crt`),
      '-days',
      '1',
      '-extfile',
      f(`${name}.ext`),
    );
  };
  await leaf('server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await leaf('client', 'extendedKeyUsage=clientAuth\n');
  const read = (n: string) => readFileSync(f(n), 'utf8');
  return {
    dir,
    caFile: f('test-ca.crt'),
    ca: read('test-ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
    otherCa: read('other-ca.crt'),
  };
}

/** Deletes the test PKI's files. */
export function removeTestPki(pki: TestPki | undefined): void {
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
}

/** A TLS-only redis-server (plain port off) that requires client certificates when `mutual`. */
export class TlsRedis {
  private constructor(
    readonly dir: string,
    readonly server: RedisProc,
    readonly pki: TestPki,
  ) {}

  static async start(pki: TestPki, o: { mutual?: boolean } = {}): Promise<TlsRedis> {
    const dir = mkdtempSync(join(tmpdir(), 'redis-tls-'));
    const port = await freePort();
    // TLS only: the plain port is off (0), the TLS port is the one handed out.
    const args = serverArgs(dir, 0, [
      '--tls-port',
      String(port),
      '--tls-cert-file',
      pki.serverCert,
      '--tls-key-file',
      pki.serverKey,
      '--tls-ca-cert-file',
      pki.caFile,
      '--tls-auth-clients',
      o.mutual ? 'yes' : 'no',
    ]);
    const server = new RedisProc('redis-server', args, port, /Ready to accept connections/);
    await server.start();
    return new TlsRedis(dir, server, pki);
  }

  get port(): number {
    return this.server.port;
  }

  /** Settings for this server; override to test failures. */
  settings(over: Partial<RedisConnectionSettings> = {}): RedisConnectionSettings {
    return { ...BASE_SETTINGS, url: `rediss://127.0.0.1:${this.port}`, tls: true, tlsCa: this.pki.ca, ...over };
  }

  async stop(): Promise<void> {
    await this.server.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** 1 master, 2 replicas, 3 sentinels (quorum 2), every data node with `password`, sentinels with `sentinelPassword`. */
export class SentinelSet {
  static readonly NAME = 'kitmaster';
  static readonly PASSWORD = 'data-node-password-1';
  static readonly SENTINEL_PASSWORD = 'sentinel-password-1';

  private constructor(
    readonly dir: string,
    readonly nodes: RedisProc[],
    readonly sentinels: RedisProc[],
  ) {}

  static async start(): Promise<SentinelSet> {
    const dir = mkdtempSync(join(tmpdir(), 'redis-sentinel-'));
    const pw = SentinelSet.PASSWORD;
    const auth = ['--requirepass', pw, '--masterauth', pw];
    const masterPort = await freePort();
    const master = await new RedisProc(
      'redis-server',
      serverArgs(join(dir), masterPort, [...auth, '--dbfilename', `dump-${masterPort}.rdb`]),
      masterPort,
      /Ready to accept connections/,
    ).start();
    const replicas: RedisProc[] = [];
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      replicas.push(
        await new RedisProc(
          'redis-server',
          serverArgs(dir, port, [
            ...auth,
            '--dbfilename',
            `dump-${port}.rdb`,
            '--replicaof',
            '127.0.0.1',
            String(masterPort),
          ]),
          port,
          /Ready to accept connections/,
        ).start(),
      );
    }
    const m = nodeClient(masterPort, pw);
    try {
      await until('both replicas online', async () => /connected_slaves:2/.test(await m.info('replication')));
    } finally {
      m.disconnect();
    }
    const sentinels: RedisProc[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const conf = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `requirepass ${SentinelSet.SENTINEL_PASSWORD}`,
          `sentinel monitor ${SentinelSet.NAME} 127.0.0.1 ${masterPort} 2`,
          `sentinel auth-pass ${SentinelSet.NAME} ${pw}`,
          `sentinel sentinel-pass ${SentinelSet.SENTINEL_PASSWORD}`,
          `sentinel down-after-milliseconds ${SentinelSet.NAME} 1000`,
          `sentinel failover-timeout ${SentinelSet.NAME} 5000`,
          `sentinel parallel-syncs ${SentinelSet.NAME} 2`,
          '',
        ].join('\n'),
      );
      sentinels.push(await new RedisProc('redis-sentinel', [conf], port, /\+monitor master/).start());
    }
    const set = new SentinelSet(dir, [master, ...replicas], sentinels);
    // Every sentinel knows both replicas and the other sentinels (so a failover can pick a replica at once).
    for (const s of sentinels) {
      const c = new Redis({
        host: '127.0.0.1',
        port: s.port,
        password: SentinelSet.SENTINEL_PASSWORD,
        maxRetriesPerRequest: 1,
      });
      c.on('error', () => {});
      try {
        await until('sentinel sees replicas and peers', async () => {
          const replicasSeen = (await c.call('SENTINEL', 'REPLICAS', SentinelSet.NAME)) as unknown[];
          const peers = (await c.call('SENTINEL', 'SENTINELS', SentinelSet.NAME)) as unknown[];
          return replicasSeen.length === 2 && peers.length === 2;
        });
      } finally {
        c.disconnect();
      }
    }
    return set;
  }

  /** Settings of the kit for this set. */
  settings(over: Partial<RedisConnectionSettings> = {}): RedisConnectionSettings {
    return {
      ...BASE_SETTINGS,
      mode: 'sentinel',
      sentinels: this.sentinels.map((s) => `127.0.0.1:${s.port}`),
      sentinelName: SentinelSet.NAME,
      sentinelPassword: SentinelSet.SENTINEL_PASSWORD,
      password: SentinelSet.PASSWORD,
      ...over,
    };
  }

  /** Port of the master as the sentinels see it now. */
  async masterPort(): Promise<number> {
    const c = new Redis({
      host: '127.0.0.1',
      port: this.sentinels[0]!.port,
      password: SentinelSet.SENTINEL_PASSWORD,
      maxRetriesPerRequest: 1,
    });
    c.on('error', () => {});
    try {
      const [, port] = (await c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SentinelSet.NAME)) as [string, string];
      return Number(port);
    } finally {
      c.disconnect();
    }
  }

  /** Client to the current master. */
  async master(): Promise<Redis> {
    return nodeClient(await this.masterPort(), SentinelSet.PASSWORD);
  }

  /**
   * Forces a failover (`SENTINEL FAILOVER`) and waits until the sentinels name a new master
   * that answers as master. Returns the old and new master ports.
   */
  async failover(): Promise<{ from: number; to: number }> {
    const from = await this.masterPort();
    const c = new Redis({
      host: '127.0.0.1',
      port: this.sentinels[0]!.port,
      password: SentinelSet.SENTINEL_PASSWORD,
      maxRetriesPerRequest: 1,
    });
    c.on('error', () => {});
    try {
      await c.call('SENTINEL', 'FAILOVER', SentinelSet.NAME);
    } finally {
      c.disconnect();
    }
    let to = from;
    await until('a new master', async () => {
      to = await this.masterPort();
      if (to === from) return false;
      const n = nodeClient(to, SentinelSet.PASSWORD);
      try {
        return /role:master/.test(await n.info('replication'));
      } finally {
        n.disconnect();
      }
    });
    return { from, to };
  }

  /** Kills the master process (SIGKILL) and waits until the sentinels promoted a replica. */
  async killMaster(): Promise<{ from: number; to: number }> {
    const from = await this.masterPort();
    await this.nodes.find((n) => n.port === from)!.kill();
    let to = from;
    await until('a replica promoted after the master died', async () => {
      to = await this.masterPort();
      if (to === from) return false;
      const n = nodeClient(to, SentinelSet.PASSWORD);
      try {
        return /role:master/.test(await n.info('replication'));
      } finally {
        n.disconnect();
      }
    });
    return { from, to };
  }

  async stop(): Promise<void> {
    for (const p of [...this.sentinels, ...this.nodes]) await p.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Three masters (no replicas) made into a Cluster by `redis-cli --cluster create`, with `password`. */
export class RedisClusterSet {
  static readonly PASSWORD = 'cluster-password-1';

  private constructor(
    readonly dir: string,
    readonly nodes: RedisProc[],
  ) {}

  static async start(): Promise<RedisClusterSet> {
    const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
    const pw = RedisClusterSet.PASSWORD;
    const nodes: RedisProc[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const bus = await freePort();
      nodes.push(
        await new RedisProc(
          'redis-server',
          serverArgs(dir, port, [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(dir, `nodes-${port}.conf`),
            '--cluster-port',
            String(bus),
            '--cluster-node-timeout',
            '2000',
            '--requirepass',
            pw,
            '--masterauth',
            pw,
            '--dbfilename',
            `dump-${port}.rdb`,
          ]),
          port,
          /Ready to accept connections/,
        ).start(),
      );
    }
    await run('redis-cli', [
      '-a',
      pw,
      '--no-auth-warning',
      '--cluster',
      'create',
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-yes',
    ]);
    for (const n of nodes) {
      const c = nodeClient(n.port, pw);
      try {
        await until('cluster_state:ok', async () => /cluster_state:ok/.test(String(await c.call('CLUSTER', 'INFO'))));
      } finally {
        c.disconnect();
      }
    }
    return new RedisClusterSet(dir, nodes);
  }

  settings(over: Partial<RedisConnectionSettings> = {}): RedisConnectionSettings {
    return {
      ...BASE_SETTINGS,
      mode: 'cluster',
      clusterNodes: this.nodes.map((n) => `127.0.0.1:${n.port}`),
      password: RedisClusterSet.PASSWORD,
      ...over,
    };
  }

  async stop(): Promise<void> {
    for (const p of this.nodes) await p.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
