/**
 * Redis for the tests: the shared server at 127.0.0.1:6379 (each test uses its own key prefix,
 * nothing is flushed), or a private `redis-server` on a spare port for tests that stop, restart
 * or pause it. Without Redis the tests skip, naming the Debian package to install; under CI=true
 * they fail instead.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
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
