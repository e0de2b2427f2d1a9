/**
 * The bundled apps under `parley serve --workers 2`: each runs when its multi-node backing is
 * configured (the auction on PostgreSQL, poker on the Redis adapter) and is left out otherwise,
 * with a banner line naming the setting; asked for without it, refused with that setting named.
 * The end-to-end cases are real processes on the machine's Redis and PostgreSQL: both apps' pages
 * on the shared port, and a bid (auction) and a seat (poker) taken through one worker seen by a
 * client of the other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ParleyClient } from '../../src/client/index.js';
import { WebSocket } from '../../src/index.js';
import { appsForWorkers, leftOutLine } from '../../src/cli/worker-apps.js';
import { ConfigError, loadConfig } from '../../src/server/config.js';
import type { LotView } from '../../src/apps/auction/rules.js';
import type { TableMessage } from '../../src/apps/poker/room.js';
import { needDatabase } from '../apps/auction/cluster-helpers.js';
import { lotInput } from '../apps/auction/helpers.js';
import { defer, until } from '../node/helpers.js';
import { deleteKeys, needRedis, SHARED_REDIS_URL, uniquePrefix } from '../redis/support.js';
import { MAIN, runCli, watch, type Watched } from './helpers.js';

const BUNDLED = { apps: ['auction', 'poker'] };
const T = { timeout: 60_000 };

void test('appsForWorkers: one process keeps every app; several keep those whose backing is set', () => {
  const bare = loadConfig({ defaults: BUNDLED });
  assert.deepEqual(appsForWorkers(bare, 1), { apps: ['auction', 'poker'], leftOut: [] });
  const { apps, leftOut } = appsForWorkers(bare, 2);
  assert.deepEqual(apps, []);
  assert.deepEqual(leftOut.map((a) => a.name), ['auction', 'poker']);
  assert.equal(leftOutLine(leftOut[0]!), '  apps       auction left out: several workers need auction.databaseUrl (PostgreSQL; --auction-database-url or PARLEY_AUCTION_DATABASE_URL)');
  assert.match(leftOutLine(leftOut[1]!), /^ {2}apps {7}poker left out: several workers need the Redis adapter \(cluster\.adapter redis .*--cluster-adapter redis --redis-url URL\)$/);

  const db = loadConfig({ defaults: BUNDLED, env: { PARLEY_AUCTION_DATABASE_URL: 'postgres://db/parley' } });
  assert.deepEqual(appsForWorkers(db, 2).apps, ['auction']);
  const redis = loadConfig({ defaults: BUNDLED, flags: { 'cluster-adapter': 'redis' } });
  assert.deepEqual(appsForWorkers(redis, 2).apps, ['poker']);
  const both = loadConfig({ defaults: BUNDLED, env: { PARLEY_AUCTION_DATABASE_URL: 'postgres://db/parley', PARLEY_CLUSTER_ADAPTER: 'redis' } });
  assert.deepEqual(appsForWorkers(both, 2), { apps: ['auction', 'poker'], leftOut: [] });
});

void test('appsForWorkers: an app asked for without its backing is a ConfigError naming the setting', () => {
  const asked = loadConfig({ defaults: BUNDLED, flags: { apps: 'auction,poker', workers: '2' } });
  assert.throws(() => appsForWorkers(asked, 2), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.problems.length, 2);
    assert.match(error.problems[0]!, /^apps: auction \(from flag --apps\) runs in several processes only with auction\.databaseUrl \(PostgreSQL; --auction-database-url or PARLEY_AUCTION_DATABASE_URL\): with workers 2 \(from flag --workers\)/);
    assert.match(error.problems[1]!, /^apps: poker \(from flag --apps\) runs in several processes only with the Redis adapter/);
    return true;
  });
  // Asked for with its backing: kept.
  const ok = loadConfig({ defaults: BUNDLED, env: { PARLEY_APPS: 'poker', PARLEY_CLUSTER_ADAPTER: 'redis' } });
  assert.deepEqual(appsForWorkers(ok, 2), { apps: ['poker'], leftOut: [] });
  // One process: nothing is needed.
  assert.deepEqual(appsForWorkers(asked, 1).apps, ['auction', 'poker']);
});

void test('--workers 2 with an app asked for and no backing exits 2 naming what to set', async (t) => {
  const r = await runCli(t, ['serve', '--workers', '2', '--apps', 'poker', '--port', '0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /apps: poker \(from flag --apps\) runs in several processes only with the Redis adapter .*--cluster-adapter redis --redis-url URL\): with workers 2 \(from flag --workers\) set that, or leave poker out of apps, or set workers to 1/);
});

interface Served {
  child: ChildProcessWithoutNullStreams;
  port: number;
  out: Watched;
  base: string;
}

/** Starts `parley serve --workers 2 --port 0` (default apps) with `extra` flags and `env`; stopped after the test. */
async function serveWorkers(t: TestContext, extra: string[], env: Record<string, string> = {}): Promise<Served> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-worker-apps-'));
  const child = spawn(process.execPath, [MAIN, 'serve', '--workers', '2', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn', ...extra], {
    stdio: 'pipe',
    env: { ...process.env, ...env },
  });
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  let stderr = '';
  child.stderr.on('data', (s: string) => { stderr += s; });
  defer(t, async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
  const out = watch(child.stdout);
  // The banner is written whole once both workers listen: wait for its last line.
  const m = await out.waitFor(/^parley server listening on http:\/\/127\.0\.0\.1:(\d+)\n[\s\S]*health /m, 30_000).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\nstderr: ${stderr}`);
  });
  const port = Number(m[1]);
  return { child, port, out, base: `http://127.0.0.1:${port}` };
}

/** A `parley.v1` client of an app's endpoint, and the worker it landed on (its connection id's prefix: one per server instance). */
async function appClient(t: TestContext, url: string, token?: string): Promise<{ client: ParleyClient; worker: string }> {
  const client = new ParleyClient(url, { WebSocket, reconnect: false, ...(token !== undefined ? { token } : {}) });
  defer(t, () => client.close());
  await new Promise<void>((resolve, reject) => {
    client.once('open', () => resolve());
    client.once('close', (info) => reject(new Error(`closed ${JSON.stringify(info)}`)));
  });
  return { client, worker: client.connectionId!.split('.')[0]! };
}

/** Connects until one client is on a different worker from `first` (the kernel or the round robin picks). */
async function onOtherWorker(t: TestContext, url: string, first: string, token?: string): Promise<ParleyClient> {
  for (let i = 0; i < 60; i++) {
    const c = await appClient(t, url, token);
    if (c.worker !== first) return c.client;
    c.client.close();
  }
  throw new Error('60 connections all landed on one worker');
}

/** Pids of the workers that answered `/healthz`, over new connections until both did. */
async function workerPids(base: string): Promise<Set<number>> {
  const pids = new Set<number>();
  for (let i = 0; i < 60 && pids.size < 2; i++) {
    const r = await fetch(`${base}/healthz`, { headers: { Connection: 'close' } });
    pids.add(((await r.json()) as { pid: number }).pid);
  }
  return pids;
}

async function session(base: string, app: string, name: string): Promise<{ token: string; user: string }> {
  const r = await fetch(`${base}/${app}/api/session`, { method: 'POST', headers: { 'Content-Type': 'application/json', Connection: 'close' }, body: JSON.stringify({ name }) });
  assert.equal(r.status, 201, `${app} session: ${r.status}`);
  return (await r.json()) as { token: string; user: string };
}

void test('--workers 2 on PostgreSQL and Redis serves both apps on the shared port, each app\'s clients seeing each other across workers', T, async (t) => {
  const database = await needDatabase(t);
  if (database === undefined) return;
  const prefix = uniquePrefix('worker-apps');
  defer(t, () => deleteKeys(SHARED_REDIS_URL, prefix));
  const w = await serveWorkers(t, ['--cluster-adapter', 'redis', '--redis-url', SHARED_REDIS_URL, '--redis-key-prefix', prefix], { PARLEY_AUCTION_DATABASE_URL: database.url });
  assert.match(w.out.text(), new RegExp(`^ {2}app {8}${w.base}/auction/$`, 'm'));
  assert.match(w.out.text(), new RegExp(`^ {2}app {8}${w.base}/poker/$`, 'm'));
  assert.doesNotMatch(w.out.text(), /left out/);
  assert.equal((await workerPids(w.base)).size, 2, 'two workers answer on the port');

  // Each page, over new connections (so from either worker).
  for (let i = 0; i < 4; i++) {
    for (const app of ['auction', 'poker']) {
      const page = await fetch(`${w.base}/${app}/`, { headers: { Connection: 'close' } });
      assert.equal(page.status, 200, `${app} page`);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(await page.text(), /<html/i);
    }
  }

  // The auction: a lot and a bid made through one worker, followed by a watcher on the other.
  const ws = `ws://127.0.0.1:${w.port}`;
  const ann = await session(w.base, 'auction', 'Ann');
  const seller = await appClient(t, `${ws}/auction/ws`, ann.token);
  const lot = await seller.client.request<LotView>('createLot', lotInput(20 * 60_000, { title: 'Brass sextant', startingPrice: 5000, increment: 100 }));
  const watcher = await onOtherWorker(t, `${ws}/auction/ws`, seller.worker);
  // The lot reaches the other worker by the database's notification: ask there until it knows it.
  for (let i = 0; ; i++) {
    const known = await watcher.request<{ lot: LotView }>('lot', { lot: lot.id }).then(() => true, () => false);
    if (known) break;
    if (i > 100) assert.fail('the other worker never heard of the lot');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const seen: LotView[] = [];
  const sub = watcher.subscribe(`lot:${lot.id}`, (data) => seen.push((data as { lot: LotView }).lot));
  await sub.ready();
  const bob = await session(w.base, 'auction', 'Bob');
  const bidder = await appClient(t, `${ws}/auction/ws`, bob.token);
  await bidder.client.request('bid', { lot: lot.id, amount: 5000, key: 'worker-apps-bid-1' });
  await until(() => seen.some((l) => l.price === 5000 && l.bidCount === 1), 10_000);
  const { rows } = await database.db.query<{ amount: string }>('SELECT amount FROM auction_bids WHERE lot = $1', [lot.id]);
  assert.deepEqual(rows.map((r) => Number(r.amount)), [5000], 'the bid is in the shared database once');

  // Poker: a session from either worker, a seat taken through one worker, seen on the other.
  const carol = await session(w.base, 'poker', 'Carol');
  const player = await appClient(t, `${ws}/poker/ws`, carol.token);
  const spectator = await onOtherWorker(t, `${ws}/poker/ws`, player.worker);
  const tables: TableMessage[] = [];
  const table = spectator.subscribe('poker:table:main', (data) => tables.push(data as TableMessage));
  await table.ready();
  assert.deepEqual(await player.client.request('sit', { table: 'main', seat: 2, buyIn: 100 }), { ok: true });
  await until(() => tables.some((m) => m.state.seats[2]?.user === carol.user), 10_000);
});

void test('--workers 2 without PostgreSQL or Redis leaves both apps out, naming what to set; with one of them, its app runs', T, async (t) => {
  const bare = await serveWorkers(t, []);
  assert.match(bare.out.text(), /^ {2}apps {7}auction left out: several workers need auction\.databaseUrl \(PostgreSQL; --auction-database-url or PARLEY_AUCTION_DATABASE_URL\)$/m);
  assert.match(bare.out.text(), /^ {2}apps {7}poker left out: several workers need the Redis adapter \(cluster\.adapter redis with cluster\.redisUrl; --cluster-adapter redis --redis-url URL\)$/m);
  assert.doesNotMatch(bare.out.text(), /^ {2}app {8}/m);
  for (const app of ['auction', 'poker']) assert.equal((await fetch(`${bare.base}/${app}/`, { headers: { Connection: 'close' } })).status, 404, `${app} is not served`);

  if (!(await needRedis(t))) return;
  const prefix = uniquePrefix('worker-apps');
  defer(t, () => deleteKeys(SHARED_REDIS_URL, prefix));
  const redis = await serveWorkers(t, ['--cluster-adapter', 'redis', '--redis-url', SHARED_REDIS_URL, '--redis-key-prefix', prefix]);
  assert.match(redis.out.text(), /^ {2}apps {7}auction left out: several workers need auction\.databaseUrl/m);
  assert.match(redis.out.text(), new RegExp(`^ {2}app {8}${redis.base}/poker/$`, 'm'));
  assert.equal((await fetch(`${redis.base}/poker/`, { headers: { Connection: 'close' } })).status, 200);
  assert.equal((await fetch(`${redis.base}/auction/`, { headers: { Connection: 'close' } })).status, 404);

  // PostgreSQL alone: the auction runs on the workers' own bus (it never uses the cluster's adapter).
  const database = await needDatabase(t, false);
  if (database === undefined) return;
  const db = await serveWorkers(t, [], { PARLEY_AUCTION_DATABASE_URL: database.url });
  assert.match(db.out.text(), new RegExp(`^ {2}app {8}${db.base}/auction/$`, 'm'));
  assert.match(db.out.text(), /^ {2}apps {7}poker left out: several workers need the Redis adapter/m);
  for (let i = 0; i < 4; i++) assert.equal((await fetch(`${db.base}/auction/api/lots`, { headers: { Connection: 'close' } })).status, 200);
});
