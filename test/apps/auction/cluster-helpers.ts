/**
 * Helpers for the auction's multi-node tests: real PostgreSQL (a schema of the test's own,
 * dropped afterwards), real Redis (a key prefix of the test's own), and real `parley serve`
 * processes (`node dist/src/cli/main.js serve --port 0`) sharing both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { WebSocket } from '../../../src/index.js';
import { ParleyClient } from '../../../src/client/index.js';
import { deleteKeys, needRedis, SHARED_REDIS_URL, uniquePrefix } from '../../redis/support.js';

/** The compiled CLI (dist/test/apps/auction → dist/src/cli). */
const MAIN = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));

/** The machine's PostgreSQL (trust auth); `PARLEY_TEST_DATABASE_URL` overrides. */
export const DATABASE_URL = process.env.PARLEY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const INSTALL_HINT = `these tests need PostgreSQL at ${DATABASE_URL} (install the Debian package postgresql, or set PARLEY_TEST_DATABASE_URL)`;

/** A schema of the test's own: its URL (search path set to it) and a client on it. */
export interface TestDatabase {
  schema: string;
  /** The database URL whose connections use the schema. */
  url: string;
  /** A client for the test's own queries, in the schema. */
  db: pg.Client;
}

/**
 * Creates a schema of the test's own (dropped when the test ends), or skips the test when
 * PostgreSQL does not answer (fails under CI=true). Also needs the shared Redis unless `redis`
 * is false.
 */
export async function needDatabase(t: TestContext, redis = true): Promise<TestDatabase | undefined> {
  if (redis && !(await needRedis(t))) return undefined;
  const admin = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
  } catch {
    if (process.env.CI === 'true') throw new Error(INSTALL_HINT);
    t.skip(INSTALL_HINT);
    return undefined;
  }
  const schema = `parley_test_auction_${randomBytes(5).toString('hex')}`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = `${DATABASE_URL}${DATABASE_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  t.after(async () => {
    await db.end();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  });
  return { schema, url, db };
}

/** A `parley serve` process hosting the auction. */
export interface AuctionNode {
  child: ChildProcess;
  pid: number;
  port: number;
  /** `http://127.0.0.1:<port>/auction` */
  base: string;
  /** `ws://127.0.0.1:<port>/auction/ws` */
  wsUrl: string;
  /** What it logged (JSON lines). */
  log: string[];
}

/**
 * Starts `count` server processes on the database and one Redis key prefix; killed after the
 * test. `env` is added to each one's environment (other settings, `PARLEY_AUCTION_ANTI_SNIPE_MS`).
 */
export async function startNodes(t: TestContext, database: TestDatabase, count: number, env: Record<string, string> = {}): Promise<AuctionNode[]> {
  const prefix = uniquePrefix('auction');
  t.after(() => deleteKeys(SHARED_REDIS_URL, prefix));
  // The first alone (it creates the tables and takes the timer lock), then the others at once.
  const first = await startNode(t, database, prefix, env);
  return [first, ...(await Promise.all(Array.from({ length: count - 1 }, () => startNode(t, database, prefix, env))))];
}

async function startNode(t: TestContext, database: TestDatabase, prefix: string, env: Record<string, string>): Promise<AuctionNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'auction-node-'));
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--apps', 'auction', '--data-dir', dataDir, '--log-level', 'warn',
    '--cluster-adapter', 'redis', '--redis-url', SHARED_REDIS_URL, '--redis-key-prefix', prefix], {
    // The URL in the environment: it names the schema, and flags show in `ps`.
    env: { ...process.env, PARLEY_AUCTION_DATABASE_URL: database.url, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });
  const log: string[] = [];
  child.stderr.setEncoding('utf8').on('data', (s: string) => log.push(s));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      log.push(s);
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m !== null) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`parley serve exited with ${code}: ${log.join('')}`)));
  });
  return { child, pid: child.pid!, port, base: `http://127.0.0.1:${port}/auction`, wsUrl: `ws://127.0.0.1:${port}/auction/ws`, log };
}

/** Kills a node with SIGKILL and waits until it is gone. */
export async function kill(node: AuctionNode): Promise<void> {
  const gone = new Promise((resolve) => node.child.once('exit', resolve));
  node.child.kill('SIGKILL');
  await gone;
}

/** A session, made through a node's HTTP API (sessions are in the database: valid on every node). */
export interface Session {
  token: string;
  user: string;
  name: string;
}

/** Signs in as `name` on `node`. */
export async function signIn(node: AuctionNode, name: string): Promise<Session> {
  const res = await fetch(`${node.base}/api/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name }) });
  if (res.status !== 201) throw new Error(`sign-in failed on port ${node.port}: ${res.status}`);
  return (await res.json()) as Session;
}

/** A client of `node` with `session`, closed after the test; it does not reconnect (a killed node stays dead). */
export function connect(t: TestContext, node: AuctionNode, session?: Session): ParleyClient {
  const client = new ParleyClient(node.wsUrl, { WebSocket, reconnect: false, ...(session !== undefined ? { token: session.token } : {}) });
  t.after(() => client.close());
  return client;
}

/** The pid of the node whose session holds the auction's timer lock (from `pg_locks`), if any. */
export async function timerHolder(database: TestDatabase, nodes: AuctionNode[]): Promise<number | undefined> {
  const { rows } = await database.db.query<{ application_name: string }>(
    `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'parley-auction %'`,
  );
  const pids = new Set(nodes.map((n) => n.pid));
  for (const row of rows) {
    const pid = Number(/^parley-auction (\d+)-/.exec(row.application_name)?.[1]);
    if (pids.has(pid)) return pid;
  }
  return undefined;
}

/** Resolves when `check()` holds, polling; rejects after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
