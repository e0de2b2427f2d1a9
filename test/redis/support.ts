/**
 * Redis for the tests: the shared server at 127.0.0.1:6379 (each test uses its own key prefix,
 * nothing is flushed), or a private `redis-server` on a spare port for tests that stop, restart
 * or pause it. Without Redis the tests skip, naming the Debian package to install; under CI=true
 * they fail instead.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestContext } from 'node:test';

/** The shared Redis. */
export const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';
const INSTALL_HINT = 'Redis is not running on 127.0.0.1:6379 (install the Debian package redis-server, or run .ci/run, which starts it)';

/** Sends PING over a raw socket; resolves true on +PONG within `ms`. */
export function ping(port: number, ms = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), ms);
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data: Buffer) => done(data.toString().startsWith('+PONG')));
  });
}

/**
 * Skips the test (or fails it under CI=true) when the shared Redis does not answer.
 * @returns whether the test may go on
 */
export async function needRedis(t: TestContext): Promise<boolean> {
  if (await ping(6379)) return true;
  if (process.env.CI === 'true') throw new Error(INSTALL_HINT);
  t.skip(INSTALL_HINT);
  return false;
}

/**
 * Like {@link needRedis}, and also needs the `redis-server` program, for tests that run a Redis
 * of their own (to restart or pause it).
 */
export async function needRedisServer(t: TestContext): Promise<boolean> {
  if (!(await needRedis(t))) return false;
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0) return true;
  const hint = 'these tests start their own redis-server (install the Debian package redis-server)';
  if (process.env.CI === 'true') throw new Error(hint);
  t.skip(hint);
  return false;
}

/** A key prefix no other test (or run) uses. */
export function uniquePrefix(name: string): string {
  return `parley-test:${name}:${randomBytes(4).toString('hex')}:`;
}

/** A TCP port that was free a moment ago. */
export function sparePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    });
  });
}

/** A `redis-server` of the test's own, without persistence: a restart loses every key. */
export class PrivateRedis {
  #process: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  /** Starts one on a spare port; it is killed when the test ends (given a test; else call stop()). */
  static async start(t?: TestContext): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await sparePort());
    t?.after(() => redis.stop());
    await redis.restart();
    return redis;
  }

  /** Its URL. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** (Re)starts it and waits until it answers. */
  async restart(): Promise<void> {
    this.stop();
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    child.on('error', () => {});
    this.#process = child;
    const deadline = performance.now() + 5000;
    while (!(await ping(this.port, 200))) {
      if (performance.now() > deadline) throw new Error(`redis-server on port ${this.port} did not start (install the Debian package redis-server)`);
      await sleep(20);
    }
  }

  /** Kills it (SIGKILL: no shutdown, no save). */
  stop(): void {
    const child = this.#process;
    this.#process = undefined;
    if (child !== undefined && child.exitCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
  }

  /** Freezes it (SIGSTOP): sockets stay open, nothing is answered. */
  pause(): void {
    this.#process?.kill('SIGSTOP');
  }

  /** Thaws it. */
  resume(): void {
    this.#process?.kill('SIGCONT');
  }
}

/** Deletes every key under `prefix` on the Redis at `url` (SCAN, never FLUSHALL: the Redis is shared). */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const { createClient } = await import('redis');
  const client = createClient({ url });
  client.on('error', () => {});
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.sendCommand<[string, string[]]>(['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000']);
      cursor = next;
      if (keys.length > 0) await client.sendCommand(['DEL', ...keys]);
    } while (cursor !== '0');
  } finally {
    client.destroy();
  }
}

/** A Parley node running in a child process (test/redis/fixtures/cluster-node.ts). */
export interface NodeProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  readonly node: string;
  /** What it wrote to stderr (its adapter's log). */
  readonly log: string[];
}

/**
 * Starts a node process on `redisUrl` and waits for its port; it is killed when the test ends.
 * @param env - more environment (KEY_PREFIX, PRESENCE_TTL_MS, ...)
 */
export async function startNodeProcess(t: TestContext | undefined, redisUrl: string, env: Record<string, string>): Promise<NodeProcess> {
  const script = new URL('./fixtures/cluster-node.js', import.meta.url);
  const child = spawn(process.execPath, [script.pathname], { env: { ...process.env, REDIS_URL: redisUrl, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  t?.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const log: string[] = [];
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => log.push(...chunk.split('\n').filter((l) => l.length > 0)));
  const first = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const nl = out.indexOf('\n');
      if (nl !== -1) resolve(out.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`node process exited with ${code}: ${log.join('\n')}`)));
  });
  const { port, node } = JSON.parse(first) as { port: number; node: string };
  return { child, port, url: `ws://127.0.0.1:${port}`, node, log };
}

/**
 * Skips the test (or fails it under CI=true) without `redis-server` and `redis-cli`, for tests
 * that start a Redis Cluster of their own (the shared Redis is not needed).
 * @returns whether the test may go on
 */
export function needRedisClusterTools(t: TestContext): boolean {
  const ok = ['redis-server', 'redis-cli'].every((program) => spawnSync(program, ['--version'], { stdio: 'ignore' }).status === 0);
  if (ok) return true;
  const hint = 'these tests start their own Redis Cluster with redis-server and redis-cli >= 7 (install the Debian packages redis-server and redis-tools)';
  if (process.env.CI === 'true') throw new Error(hint);
  t.skip(hint);
  return false;
}

/** Runs `redis-cli` with `args`; resolves its stdout (rejects on a non-zero exit). */
export function redisCli(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { err += chunk; });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`redis-cli ${args.join(' ')} exited with ${code}: ${err}${out}`))));
  });
}

/** Whether a CLUSTER NODES line (`id addr flags master ping pong epoch link slot...`) is a live master with slots. */
function isServingMaster(line: string): boolean {
  const fields = line.trim().split(' ');
  const flags = fields[2]?.split(',') ?? [];
  return flags.includes('master') && !flags.includes('fail') && !flags.includes('fail?') && fields.length > 8;
}

/** Options of {@link PrivateCluster.start}. */
export interface PrivateClusterOptions {
  /** Masters. Default 3 (the fewest `redis-cli --cluster create` accepts). */
  masters?: number;
  /** `cluster-node-timeout`: how long a master may not answer before its replica takes over. Default 1,000 ms. */
  nodeTimeoutMs?: number;
  /**
   * `cluster-require-full-coverage`. Default false (`no`): the masters that are up keep serving
   * their slots while a failed master's replica is not promoted yet (with `yes`, the whole cluster
   * refuses commands then).
   */
  requireFullCoverage?: boolean;
}

/**
 * A Redis Cluster of the test's own: N masters with one replica each, on spare ports (client and
 * cluster-bus ports both), without persistence, in a temporary directory. Killed and removed when
 * the test ends (given a test; else call stop()).
 */
export class PrivateCluster {
  readonly #processes = new Map<number, ChildProcess>();
  readonly #args = new Map<number, string[]>();
  private constructor(readonly ports: readonly number[], readonly dir: string) {}

  /** Starts the servers, creates the cluster and waits until every node says `cluster_state:ok` and every replica is in sync. */
  static async start(t?: TestContext, options: PrivateClusterOptions = {}): Promise<PrivateCluster> {
    const masters = options.masters ?? 3;
    const ports: number[] = [];
    const busPorts: number[] = [];
    while (ports.length < masters * 2) {
      const port = await sparePort();
      const bus = await sparePort();
      if (port === bus || ports.includes(port) || ports.includes(bus) || busPorts.includes(port) || busPorts.includes(bus)) continue;
      ports.push(port);
      busPorts.push(bus);
    }
    const cluster = new PrivateCluster(ports, mkdtempSync(join(tmpdir(), 'parley-redis-cluster-')));
    t?.after(() => cluster.stop());
    try {
      ports.forEach((port, i) => {
        cluster.#args.set(port, [
          '--port', String(port), '--cluster-port', String(busPorts[i]), '--bind', '127.0.0.1',
          '--cluster-enabled', 'yes', '--cluster-config-file', join(cluster.dir, `nodes-${port}.conf`),
          '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 1000), '--dir', cluster.dir,
          '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--repl-diskless-sync-delay', '0',
          '--cluster-require-full-coverage', options.requireFullCoverage === true ? 'yes' : 'no',
        ]);
        cluster.#spawn(port);
      });
      for (const port of ports) await cluster.#waitFor(() => ping(port, 200), `redis-server on port ${port} did not start`);
      await redisCli(['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes']);
      await cluster.waitHealthy();
    } catch (error) {
      cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The node URLs (the adapter's `cluster.rootNodes`). */
  get rootNodes(): string[] {
    return this.ports.map((p) => `redis://127.0.0.1:${p}`);
  }

  /** The ports of the nodes still running. */
  get running(): number[] {
    return this.ports.filter((p) => this.#processes.has(p));
  }

  /** Waits until every running node says `cluster_state:ok`, knows the same masters, and every master has an in-sync replica (unless `replicas` is false). */
  async waitHealthy(replicas = true, ms = 20_000): Promise<void> {
    await this.#waitFor(async () => {
      for (const port of this.running) if (!(await redisCli(['-p', String(port), 'CLUSTER', 'INFO']).catch(() => '')).includes('cluster_state:ok')) return false;
      const masters = await this.masters();
      if (!replicas) return true;
      for (const port of masters) if (!/slave0:.*state=online/.test(await redisCli(['-p', String(port), 'INFO', 'replication']).catch(() => ''))) return false;
      return true;
    }, 'the Redis Cluster did not become healthy', ms);
  }

  /** The ports of the masters (as the first running node sees them). */
  async masters(): Promise<number[]> {
    const port = this.running[0];
    if (port === undefined) return [];
    const nodes = await redisCli(['-p', String(port), 'CLUSTER', 'NODES']);
    return nodes.split('\n').filter((l) => isServingMaster(l)).map((l) => Number(/:(\d+)@/.exec(l)![1]));
  }

  /** The port of the master serving `key`'s slot (as the first running node sees it). */
  async masterOf(key: string): Promise<number> {
    const port = this.running[0]!;
    const slot = Number((await redisCli(['-p', String(port), 'CLUSTER', 'KEYSLOT', key])).trim());
    const nodes = await redisCli(['-p', String(port), 'CLUSTER', 'NODES']);
    for (const line of nodes.split('\n')) {
      if (!isServingMaster(line)) continue;
      const ranges = line.split(' ').slice(8);
      for (const range of ranges) {
        const [from, to] = range.split('-').map(Number);
        if (from !== undefined && slot >= from && slot <= (to ?? from)) return Number(/:(\d+)@/.exec(line)![1]);
      }
    }
    throw new Error(`no master serves slot ${slot}`);
  }

  #spawn(port: number): void {
    const child = spawn('redis-server', this.#args.get(port)!, { stdio: 'ignore' });
    child.on('error', () => {});
    this.#processes.set(port, child);
  }

  /**
   * Starts a killed node again (its data is gone, its cluster config kept): it rejoins the cluster,
   * as a replica when its slots moved to another master meanwhile.
   */
  async restart(port: number): Promise<void> {
    this.kill(port);
    this.#spawn(port);
    await this.#waitFor(() => ping(port, 200), `redis-server on port ${port} did not start again`);
  }

  /** Kills one node with SIGKILL (no shutdown, no save); it stays down. */
  kill(port: number): void {
    const child = this.#processes.get(port);
    this.#processes.delete(port);
    if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
  }

  /** Kills every node and removes the directory. */
  stop(): void {
    for (const port of [...this.#processes.keys()]) this.kill(port);
    rmSync(this.dir, { recursive: true, force: true });
  }

  async #waitFor(check: () => Promise<boolean>, message: string, ms = 5000): Promise<void> {
    const deadline = performance.now() + ms;
    while (!(await check())) {
      if (performance.now() > deadline) throw new Error(message);
      await sleep(50);
    }
  }
}
