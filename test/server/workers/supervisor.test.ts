/**
 * `parley serve --workers 2` as real processes: connections spread over the workers (each
 * worker's connection ids have their own prefix, and /healthz names the worker), one order per
 * topic across them, recovery from an offset on another worker, presence across workers, the HTTP
 * API on any worker, a worker killed with SIGKILL replaced while its clients resume on the other
 * one without a gap, and SIGHUP replacing every worker with 1012 closes and no message lost.
 * The port is shared the way the running Node shares it (SO_REUSEPORT on Node >= 22.12, the
 * cluster's round robin on Node 20); the suite runs on both in CI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { TestContext } from 'node:test';
import { SignJWT } from 'jose';
import { WebSocket } from '../../../src/index.js';
import { reusePortSupported } from '../../../src/server/workers/supervisor.js';
import { MAIN, watch, type Watched } from '../../cli/helpers.js';
import { defer, until } from '../../node/helpers.js';
import { request, post } from '../helpers.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const API_KEY = 'workers-test-api-key-0123456789';
const EXPECTED_SHARING = reusePortSupported() ? 'reuse-port' : 'round-robin';

interface Workers {
  child: ChildProcessWithoutNullStreams;
  port: number;
  out: Watched;
  url: string;
}

/** Starts `parley serve --workers 2 --port 0` and reads the port from its banner. */
async function startWorkers(t: TestContext, extra: string[] = [], env: Record<string, string> = {}): Promise<Workers> {
  const args = [MAIN, 'serve', '--workers', '2', '--port', '0', '--apps', '', '--log-level', 'info', '--heartbeat-ms', '0',
    '--jwt-secret', SECRET, '--api-keys', API_KEY, '--public-publish', 'public:*', '--shutdown-timeout-ms', '2000',
    '--messages-per-second', '10000', '--connections-per-ip-per-second', '10000', '--connection-burst-per-ip', '10000', ...extra];
  const child = spawn(process.execPath, args, { stdio: 'pipe', env: { ...process.env, ...env } });
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  let stderr = '';
  child.stderr.on('data', (s: string) => { stderr += s; });
  defer(t, async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
    await exited;
    clearTimeout(timer);
  });
  const out = watch(child.stdout);
  const m = await out.waitFor(/^parley server listening on http:\/\/127\.0\.0\.1:(\d+)\n/m, 20_000).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\nstderr: ${stderr}`);
  });
  const port = Number(m[1]);
  return { child, port, out, url: `ws://127.0.0.1:${port}/ws` };
}

function token(user: string): Promise<string> {
  return new SignJWT({ sub: user }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().sign(new TextEncoder().encode(SECRET));
}

/** A `parley.v1` client: its envelopes, and the worker it landed on (its connection id's prefix). */
interface Client {
  ws: WebSocket;
  worker: string;
  next(t?: string): Promise<Record<string, unknown>>;
  send(envelope: Record<string, unknown>): void;
  closed: Promise<number>;
}

async function connect(t: TestContext, url: string, user: string): Promise<Client> {
  const ws = new WebSocket(`${url}?token=${await token(user)}`, 'parley.v1');
  defer(t, () => ws.terminate());
  // A worker killed under the connection resets it: that is an outcome here, not a test error.
  ws.on('error', () => {});
  const queue: Array<Record<string, unknown>> = [];
  let wake: (() => void) | undefined;
  ws.on('message', (data: Buffer) => {
    queue.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
    wake?.();
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
  const next = async (type?: string): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + 5000;
    for (;;) {
      const i = queue.findIndex((e) => type === undefined || e.t === type);
      if (i !== -1) return queue.splice(i, 1)[0]!;
      if (Date.now() > deadline) throw new Error(`no ${type ?? 'envelope'} within 5 s (have ${JSON.stringify(queue).slice(0, 300)})`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  };
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const hello = await next('hello');
  return { ws, worker: String(hello.conn).split('.')[0]!, next, send: (e) => ws.send(JSON.stringify(e)), closed };
}

/** Connects until there is one client on each of two different workers (the kernel or the cluster picks). */
async function onTwoWorkers(t: TestContext, url: string, users: [string, string]): Promise<[Client, Client]> {
  const first = await connect(t, url, users[0]);
  for (let i = 0; i < 60; i++) {
    const c = await connect(t, url, users[1]);
    if (c.worker !== first.worker) return [first, c];
    c.ws.close();
  }
  throw new Error('60 connections all landed on one worker');
}

/** The next presence change of `user` (a client hears its own join too). */
async function presenceOf(c: Client, user: string): Promise<string> {
  for (;;) {
    const e = await c.next('pres');
    if ((e.member as { user: string }).user === user) return e.event as string;
  }
}

async function subscribe(c: Client, topic: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  c.send({ t: 'sub', id: `s-${topic}`, topic, ...extra });
  const ok = await c.next('subok');
  assert.equal(ok.topic, topic);
  return ok;
}

/** The workers' pids, from /healthz over new connections until both answered. */
async function workerPids(port: number): Promise<number[]> {
  const pids = new Set<number>();
  for (let i = 0; i < 60 && pids.size < 2; i++) {
    const r = await request(port, 'GET', '/healthz');
    pids.add((r.json as { pid: number }).pid);
  }
  return [...pids];
}

/**
 * A subscriber that always comes back: on every close it reconnects (to whichever worker) and
 * resumes from the last offset it has, recording the close codes and every offset received.
 */
class Follower {
  readonly offsets: number[] = [];
  readonly codes: number[] = [];
  readonly recovered: boolean[] = [];
  epoch: string | undefined;
  #stopped = false;
  #ws: WebSocket | undefined;
  constructor(readonly url: string, readonly topic: string, readonly user: string) {}

  async start(): Promise<void> {
    await this.#open();
  }

  async #open(): Promise<void> {
    for (;;) {
      if (this.#stopped) return;
      try {
        await this.#once();
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  async #once(): Promise<void> {
    const ws = new WebSocket(`${this.url}?token=${await token(this.user)}`, 'parley.v1');
    this.#ws = ws;
    ws.on('error', () => {});
    // Until its subok, a connection that closes only rejects, and #open's loop retries; after it,
    // the close handler reconnects. Both at once would leave two connections following the topic.
    let established = false;
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.on('message', (data: Buffer) => {
        const e = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
        if (e.t === 'hello') {
          const last = this.offsets.at(-1);
          const since = this.epoch !== undefined ? { since: { epoch: this.epoch, offset: last ?? 0 } } : {};
          ws.send(JSON.stringify({ t: 'sub', id: 1, topic: this.topic, ...since }));
        } else if (e.t === 'subok') {
          this.epoch = e.epoch as string;
          if (e.recovered !== undefined) this.recovered.push(e.recovered as boolean);
          established = true;
          resolve();
        } else if (e.t === 'msg') {
          this.offsets.push(e.offset as number);
        }
      });
      ws.once('close', (code: number) => {
        reject(new Error(`closed ${code}`));
        if (!established || this.#ws !== ws || this.#stopped) return;
        this.codes.push(code);
        void this.#open();
      });
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#ws?.terminate();
  }
}

/** Offsets 1..n, each once, in order. */
function assertContiguous(offsets: readonly number[], n: number, who: string): void {
  assert.deepEqual(offsets, Array.from({ length: n }, (_, i) => i + 1), `${who} got every offset once, in order`);
}

/** Publishes through the HTTP API (a new connection each time, so any worker), retrying refused attempts. */
async function apiPublish(port: number, topic: string, data: unknown): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await post(port, `/api/topics/${encodeURIComponent(topic)}/publish`, { data }, API_KEY);
      if (r.status === 200) return (r.json as { offset: number }).offset;
      if (attempt > 100) throw new Error(`publish answered ${r.status}: ${r.text}`);
    } catch (error) {
      // A connection to a worker that is just stopping (reload, SIGKILL) may be refused or reset.
      if (attempt > 100) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

void test(`the workers share the port (${EXPECTED_SHARING} on Node ${process.versions.node}), each answering as itself`, async (t) => {
  const w = await startWorkers(t);
  assert.match(w.out.text(), new RegExp(`workers {4}2 \\(${EXPECTED_SHARING}; bus: the primary process`));
  const pids = await workerPids(w.port);
  assert.equal(pids.length, 2, 'health checks over new connections reach both workers');
  assert.ok(!pids.includes(w.child.pid!), 'the primary serves nothing itself');
  const ready = await request(w.port, 'GET', '/readyz');
  assert.equal(ready.status, 200);
});

void test('a topic has one order across workers: messages published on both reach subscribers on both, with the same offsets', async (t) => {
  const w = await startWorkers(t);
  const [a, b] = await onTwoWorkers(t, w.url, ['alice', 'bob']);
  await subscribe(a, 'public:order');
  await subscribe(b, 'public:order');
  for (let i = 0; i < 50; i++) {
    a.send({ t: 'pub', topic: 'public:order', data: `a${i}` });
    b.send({ t: 'pub', topic: 'public:order', data: `b${i}` });
  }
  const seen: Array<Array<[number, unknown]>> = [[], []];
  for (const [k, c] of [a, b].entries()) {
    for (let i = 0; i < 100; i++) {
      const m = await c.next('msg');
      seen[k]!.push([m.offset as number, m.data]);
    }
  }
  assert.deepEqual(seen[0], seen[1], 'both workers deliver the same messages in the same order');
  assert.deepEqual(seen[0]!.map(([o]) => o), Array.from({ length: 100 }, (_, i) => i + 1));
  // Each sender's own messages keep their order.
  const fromA = seen[0]!.map(([, d]) => d).filter((d) => String(d).startsWith('a'));
  assert.deepEqual(fromA, Array.from({ length: 50 }, (_, i) => `a${i}`));
});

void test('a client resumes from its offset on another worker: the missed messages, then live ones', async (t) => {
  const w = await startWorkers(t);
  const [a, b] = await onTwoWorkers(t, w.url, ['alice', 'bob']);
  const ok = await subscribe(a, 'public:resume');
  for (let i = 1; i <= 3; i++) b.send({ t: 'pub', topic: 'public:resume', data: i });
  for (let i = 1; i <= 3; i++) assert.equal((await a.next('msg')).offset, i);
  a.ws.close();
  await a.closed;
  for (let i = 4; i <= 8; i++) b.send({ t: 'pub', topic: 'public:resume', id: i, data: i });
  for (let i = 4; i <= 8; i++) await b.next('ok');
  // The same user again, on the worker that is not b's... and then on b's: both recover.
  let back: Client | undefined;
  for (let i = 0; i < 60 && back === undefined; i++) {
    const c = await connect(t, w.url, 'alice');
    if (c.worker === b.worker) back = c;
    else c.ws.close();
  }
  assert.ok(back !== undefined, 'a connection landed on the other worker');
  const resumed = await subscribe(back, 'public:resume', { since: { epoch: ok.epoch, offset: 3 } });
  assert.equal(resumed.recovered, true);
  assert.equal(resumed.epoch, ok.epoch, 'one epoch for the topic across workers');
  for (let i = 4; i <= 8; i++) assert.deepEqual([(await back.next('msg')).offset, i], [i, i]);
  b.send({ t: 'pub', topic: 'public:resume', data: 9 });
  assert.equal((await back.next('msg')).offset, 9);
});

void test('presence spans workers: joins, the member list and leaves', async (t) => {
  const w = await startWorkers(t);
  const [a, b] = await onTwoWorkers(t, w.url, ['alice', 'bob']);
  await subscribe(a, 'public:room', { presence: {} });
  await subscribe(b, 'public:room', { presence: {} });
  assert.equal(await presenceOf(a, 'bob'), 'join');
  b.send({ t: 'presence', id: 'p', topic: 'public:room' });
  const list = await b.next('ok');
  assert.deepEqual((list.members as Array<{ user: string }>).map((m) => m.user).sort(), ['alice', 'bob']);
  a.ws.close();
  assert.equal(await presenceOf(b, 'alice'), 'leave');
});

void test('the HTTP API publishes and reads history on any worker, in the topic\'s one order', async (t) => {
  const w = await startWorkers(t);
  const [a, b] = await onTwoWorkers(t, w.url, ['alice', 'bob']);
  await subscribe(a, 'public:api');
  await subscribe(b, 'public:api');
  const offsets: number[] = [];
  for (let i = 0; i < 20; i++) offsets.push(await apiPublish(w.port, 'public:api', { i }));
  assert.deepEqual(offsets, Array.from({ length: 20 }, (_, i) => i + 1));
  for (const c of [a, b]) for (let i = 0; i < 20; i++) assert.deepEqual((await c.next('msg')).data, { i });
  const histories = new Set<string>();
  for (let i = 0; i < 6; i++) {
    const r = await request(w.port, 'GET', '/api/topics/public%3Aapi/history', { headers: { Authorization: `Bearer ${API_KEY}` } });
    assert.equal(r.status, 200, r.text);
    const h = r.json as { messages: Array<{ offset: number }> };
    histories.add(JSON.stringify(h.messages.map((m) => m.offset)));
  }
  assert.deepEqual([...histories], [JSON.stringify(offsets)], 'every answer, from either worker, has the whole history');
});

void test('a worker killed with SIGKILL is replaced; its clients resume on the other worker without a gap', async (t) => {
  const w = await startWorkers(t);
  const pair = await onTwoWorkers(t, w.url, ['p0', 'p1']);
  for (const c of pair) await subscribe(c, 'public:kill-room', { presence: {} });
  assert.equal(await presenceOf(pair[0], 'p1'), 'join');
  const followers = Array.from({ length: 8 }, (_, i) => new Follower(w.url, 'public:kill', `f${i}`));
  await Promise.all(followers.map((f) => f.start()));
  defer(t, () => { for (const f of followers) f.stop(); });
  let last = 0;
  for (let i = 0; i < 20; i++) last = await apiPublish(w.port, 'public:kill', i);
  const pids = await workerPids(w.port);
  const victim = pids[0]!;
  process.kill(victim, 'SIGKILL');
  // Publishing goes on while the clients of the dead worker reconnect.
  for (let i = 0; i < 40; i++) last = await apiPublish(w.port, 'public:kill', i);
  await w.out.waitFor(new RegExp(`"pid":${victim},.*"signal":"SIGKILL".*worker died: replacing it`), 5000);
  await w.out.waitFor(/replacement worker listening/, 10_000);
  for (let i = 0; i < 20; i++) last = await apiPublish(w.port, 'public:kill', i);
  await until(() => followers.every((f) => f.offsets.length >= last), 10_000);
  for (const [i, f] of followers.entries()) assertContiguous(f.offsets, last, `follower ${i}`);
  const moved = followers.filter((f) => f.codes.length > 0);
  assert.ok(moved.length > 0, 'some followers were on the killed worker');
  for (const f of moved) {
    assert.deepEqual(f.codes, [1006], 'a killed worker closes nothing cleanly');
    assert.ok(f.recovered.length > 0 && f.recovered.every((r) => r), 'every resume recovered');
  }
  // The user whose connection died with the worker leaves the presence its peer sees.
  const [dead, alive] = await Promise.race([
    pair[0].closed.then(() => [pair[0], pair[1]] as const),
    pair[1].closed.then(() => [pair[1], pair[0]] as const),
  ]);
  assert.equal(await presenceOf(alive, dead === pair[0] ? 'p0' : 'p1'), 'leave');
  const now = await workerPids(w.port);
  assert.equal(now.length, 2);
  assert.ok(!now.includes(victim), 'the dead worker is gone and a new one answers');
});

void test('SIGHUP replaces the workers one at a time: clients are closed with 1012 and resume without losing a message', async (t) => {
  const w = await startWorkers(t);
  const before = await workerPids(w.port);
  const followers = Array.from({ length: 8 }, (_, i) => new Follower(w.url, 'public:reload', `f${i}`));
  await Promise.all(followers.map((f) => f.start()));
  defer(t, () => { for (const f of followers) f.stop(); });
  let last = 0;
  let publishing = true;
  let failed: Error | undefined;
  const publisher = (async () => {
    for (let i = 0; publishing; i++) last = await apiPublish(w.port, 'public:reload', i);
  })().catch((error: unknown) => {
    // Kept with what the primary said, so that a failure shows whether the server was still up.
    const state = `primary exit ${String(w.child.exitCode)} signal ${String(w.child.signalCode)}`;
    failed = new Error(`publishing failed at offset ${last} (${state}): ${String(error)}\nstdout tail: ${w.out.text().slice(-2000)}`);
  });
  const publishedTo = (n: number) => (): boolean => {
    if (failed !== undefined) throw failed;
    return last >= n;
  };
  await until(publishedTo(20), 5000);
  w.child.kill('SIGHUP');
  await w.out.waitFor(/reload complete/, 20_000);
  const atReload = last;
  await until(publishedTo(atReload + 20), 5000);
  publishing = false;
  await publisher;
  if (failed !== undefined) throw failed;
  await until(() => followers.every((f) => f.offsets.length >= last), 10_000);
  for (const [i, f] of followers.entries()) assertContiguous(f.offsets, last, `follower ${i}`);
  const codes = followers.flatMap((f) => f.codes);
  assert.ok(followers.every((f) => f.codes.length > 0), 'every follower was on an old worker, and was moved');
  assert.deepEqual([...new Set(codes)], [1012], 'each old worker closed its clients with 1012 (Service Restart)');
  for (const f of followers) assert.ok(f.recovered.every((r) => r), 'every resume recovered');
  const after = await workerPids(w.port);
  assert.equal(after.length, 2);
  assert.deepEqual(after.filter((p) => before.includes(p)), [], 'both workers are new');
});

void test(`the bus works with the other sharing too (${EXPECTED_SHARING === 'reuse-port' ? 'round robin, forced' : 'SO_REUSEPORT is refused here'})`, async (t) => {
  if (EXPECTED_SHARING === 'round-robin') {
    // Node 20: asking for SO_REUSEPORT names what is missing instead of failing later.
    const child = spawn(process.execPath, [MAIN, 'serve', '--workers', '2', '--port', '0', '--apps', ''], { env: { ...process.env, PARLEY_WORKER_SHARING: 'reuse-port' } });
    let stderr = '';
    child.stderr.on('data', (s: Buffer) => { stderr += s.toString(); });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(code, 1);
    assert.match(stderr, /PARLEY_WORKER_SHARING=reuse-port, but this Node .* has no SO_REUSEPORT/);
    return;
  }
  const w = await startWorkers(t, [], { PARLEY_WORKER_SHARING: 'round-robin' });
  assert.match(w.out.text(), /workers {4}2 \(round-robin;/);
  const [a, b] = await onTwoWorkers(t, w.url, ['alice', 'bob']);
  await subscribe(b, 'public:rr');
  a.send({ t: 'pub', topic: 'public:rr', data: 'across' });
  assert.equal((await b.next('msg')).data, 'across');
});

void test('--workers: apps without their multi-node backing are left out unless asked for (then refused), and bad values are named', async (t) => {
  const run = async (args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> => {
    const child = spawn(process.execPath, [MAIN, 'serve', ...args], { env: { ...process.env, ...env } });
    defer(t, () => { if (child.exitCode === null) child.kill('SIGKILL'); });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (s: Buffer) => { stdout += s.toString(); });
    child.stderr.on('data', (s: Buffer) => { stderr += s.toString(); });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { code, stdout, stderr };
  };
  const asked = await run(['--workers', '2', '--apps', 'auction', '--port', '0']);
  assert.equal(asked.code, 2);
  assert.match(asked.stderr, /apps: auction \(from flag --apps\) runs in several processes only with auction\.databaseUrl .*: with workers 2 \(from flag --workers\)/);
  const zero = await run(['--workers', '0']);
  assert.equal(zero.code, 2);
  assert.match(zero.stderr, /workers must be at least 1, got "0" \(from flag --workers\)/);
  // Not asked for: left out, and the banner says so.
  const plain = spawn(process.execPath, [MAIN, 'serve', '--workers', '2', '--port', '0', '--log-level', 'silent']);
  defer(t, () => { if (plain.exitCode === null) plain.kill('SIGKILL'); });
  await watch(plain.stdout).waitFor(/^ {2}apps {7}poker left out: several workers need the Redis adapter/m, 20_000);
  plain.kill('SIGTERM');
  const printed = await run(['--print-config'], { PARLEY_WORKERS: 'auto' });
  assert.equal(printed.code, 0);
  const config = JSON.parse(printed.stdout) as { workers: unknown; apps: string[] };
  assert.equal(config.workers, 'auto');
});
