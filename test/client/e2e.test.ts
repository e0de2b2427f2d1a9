/**
 * End to end: the browser client against the real `parley.v1` server (`WebSocketServer` with
 * `realtime`), over loopback. In Node (Parley's own `WebSocket` as the client's socket class)
 * and in headless Chromium (Debian's `chromium` driven by `playwright-core`, never a downloaded
 * browser), which loads the compiled client as ES modules from a tiny HTTP server.
 *
 * The recovery tests cut a subscriber's connection on the server side (`terminate()`, no close
 * frame) while messages keep being published, and check that it reconnects and receives every
 * message exactly once, in order: the ones it missed replayed from history after `since`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer, RealtimeError, type ServerOptions } from '../../src/index.js';
import { ParleyClient, type MessageInfo, type ParleyClientOptions } from '../../src/client/index.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const T = { timeout: 60_000 };

/** The token a client connects with becomes its user: `?token=` is all a browser can send. */
function authenticate(req: http.IncomingMessage): { user: string } | false {
  const token = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token');
  return token === null || token === '' ? false : { user: token };
}

async function startServer(options: Partial<ServerOptions> = {}): Promise<{ wss: WebSocketServer; url: string; stop: () => Promise<void> }> {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    authenticate,
    realtime: {
      requests: {
        add: (data) => {
          const { a, b } = data as { a: number; b: number };
          return a + b;
        },
        fail: () => {
          throw new RealtimeError('OUT_OF_STOCK', 'no more');
        },
      },
    },
    ...options,
  });
  await once(wss, 'listening');
  const { port } = wss.address() as AddressInfo;
  return {
    wss,
    url: `ws://127.0.0.1:${port}/rt`,
    stop: () => new Promise<void>((resolve) => {
      for (const ws of wss.clients ?? []) ws.terminate();
      wss.close(() => resolve());
    }),
  };
}

function nodeClient(url: string, options: ParleyClientOptions = {}): ParleyClient {
  return new ParleyClient(url, { WebSocket, reconnect: { initialDelay: 50, maxDelay: 500 }, ...options });
}

/** Resolves when `check()` holds, polling; rejects after `ms`. */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The server-side connection of the client with connection id `conn`. */
function serverSide(wss: WebSocketServer, conn: string | undefined): WebSocket {
  for (const ws of wss.clients ?? []) if (ws.connectionId === conn) return ws;
  throw new Error(`no server connection ${String(conn)}`);
}

void test('Node: 20 clients publish and subscribe; everyone gets all 200 messages once, in the same offset order', T, async () => {
  const { url, stop } = await startServer();
  const clients = Array.from({ length: 20 }, (_, i) => nodeClient(url, { token: `user${i}` }));
  const received = clients.map(() => [] as Array<{ data: unknown; offset: number }>);
  try {
    const subs = clients.map((c, i) => c.subscribe('room:lobby', (data, info) => received[i]!.push({ data, offset: info.offset })));
    await Promise.all(subs.map((s) => s.ready()));
    assert.deepEqual(clients.map((c) => c.user), clients.map((_, i) => `user${i}`), 'the token reached the server as the user');
    const acks = clients.flatMap((c, i) => Array.from({ length: 10 }, (_, n) => c.publish('room:lobby', { from: i, n }, { ack: true })));
    const offsets = await Promise.all(acks);
    assert.deepEqual([...offsets].sort((a, b) => a! - b!), Array.from({ length: 200 }, (_, k) => k + 1), 'acks carry distinct offsets 1..200');
    await until(() => received.every((r) => r.length >= 200), 20_000, 'every client to receive 200 messages');
    await new Promise((r) => setTimeout(r, 50)); // nothing extra arrives
    const reference = received[0]!;
    assert.deepEqual(reference.map((m) => m.offset), Array.from({ length: 200 }, (_, k) => k + 1));
    for (const r of received) assert.deepEqual(r, reference);
    for (let i = 0; i < 20; i++) {
      const mine = reference.filter((m) => (m.data as { from: number }).from === i).map((m) => (m.data as { n: number }).n);
      assert.deepEqual(mine, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], `client ${i}'s messages in its publish order`);
    }
    assert.ok(clients.every((c) => c.stats.duplicates === 0 && c.stats.resyncs === 0));
  } finally {
    for (const c of clients) c.close();
    await stop();
  }
});

void test('Node: request/response, server error codes, presence, binary payloads', T, async () => {
  const { url, stop } = await startServer();
  const alice = nodeClient(url, { token: 'alice' });
  const bob = nodeClient(url, { token: 'bob' });
  try {
    assert.equal(await alice.request('add', { a: 2, b: 3 }), 5);
    await assert.rejects(alice.request('fail'), { code: 'OUT_OF_STOCK', message: 'no more' });
    await assert.rejects(alice.request('nope'), { code: 'UNKNOWN_METHOD' });
    const joins: string[] = [];
    const a = alice.subscribe('table:1', () => undefined, { presence: { seat: 1 } });
    a.on('presence', (event, member) => joins.push(`${event} ${member.user}`));
    await a.ready();
    const got: Array<[unknown, MessageInfo]> = [];
    const b = bob.subscribe('table:1', (data, info) => got.push([data, info]), { presence: { seat: 2 } });
    await b.ready();
    await until(() => joins.includes('join bob'), 5000, 'bob to join');
    const members = await alice.presence('table:1');
    assert.deepEqual(members.map((m) => [m.user, m.info]).sort(), [['alice', { seat: 1 }], ['bob', { seat: 2 }]]);
    await alice.publish('table:1', new Uint8Array([1, 2, 3, 255]), { ack: true });
    await until(() => got.length === 1, 5000, 'the binary message');
    assert.ok(got[0]![0] instanceof Uint8Array);
    assert.deepEqual([...got[0]![0]], [1, 2, 3, 255]);
    b.unsubscribe();
    bob.close();
    await until(() => joins.includes('leave bob'), 5000, 'bob to leave');
    assert.ok(Math.abs(alice.serverTimeOffset) < 1000, 'same machine: the clocks agree');
  } finally {
    alice.close();
    bob.close();
    await stop();
  }
});

void test('Node: a connection cut mid-stream reconnects and receives exactly the missed messages, in order', T, async () => {
  const { wss, url, stop } = await startServer();
  const client = nodeClient(url, { token: 'watcher' });
  const got: number[] = [];
  const kinds: string[] = [];
  try {
    const sub = client.subscribe('ticker', (data) => got.push(data as number));
    sub.on('subscribed', (info) => kinds.push(info.kind));
    await sub.ready();
    const N = 400;
    let published = 0;
    let publishedAtReopen = -1;
    let cutAt = -1;
    client.on('open', () => { publishedAtReopen = published; });
    const publisher = (async () => {
      while (published < N) {
        wss.publish('ticker', published++);
        if (cutAt < 0 && got.length >= 100) {
          cutAt = published;
          serverSide(wss, client.connectionId).terminate();
        }
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    await publisher;
    await until(() => got.length >= N, 20_000, `all ${N} messages (got ${got.length})`);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(cutAt > 0, 'the connection was cut');
    assert.ok(publishedAtReopen > cutAt, `messages were published while it was away (cut at ${cutAt}, back at ${publishedAtReopen})`);
    assert.deepEqual(got, Array.from({ length: N }, (_, k) => k), 'every message exactly once, in order');
    assert.deepEqual(kinds, ['fresh', 'recovered']);
    assert.equal(client.stats.reconnects, 1);
  } finally {
    client.close();
    await stop();
  }
});

void test('Node: history too short to cover the outage → reset with the application snapshot', T, async () => {
  const { wss, url, stop } = await startServer({ realtime: { history: { maxCount: 5 }, snapshot: (topic) => ({ topic, state: 'current' }) } });
  const client = nodeClient(url, { token: 'late' });
  try {
    const got: number[] = [];
    const sub = client.subscribe('scores', (data) => got.push(data as number));
    const resets: unknown[] = [];
    const initial = new Promise<unknown>((resolve) => sub.once('subscribed', (info) => resolve(info.snapshot)));
    sub.on('reset', (snapshot) => resets.push(snapshot));
    await sub.ready();
    assert.deepEqual(await initial, { topic: 'scores', state: 'current' }, 'a first subscription gets the snapshot too');
    wss.publish('scores', 0);
    await until(() => got.length === 1, 5000, 'the first message');
    const conn = client.connectionId;
    const opened = new Promise<void>((resolve) => client.once('open', () => resolve()));
    client.once('close', () => { for (let i = 1; i <= 20; i++) wss.publish('scores', i); });
    serverSide(wss, conn).terminate();
    await opened;
    await until(() => resets.length === 1, 5000, 'the reset');
    assert.deepEqual(resets, [{ topic: 'scores', state: 'current' }]);
    wss.publish('scores', 21);
    await until(() => got.length === 2, 5000, 'the next live message');
    assert.deepEqual(got, [0, 21], 'nothing from the lost stretch is delivered as if it were contiguous');
  } finally {
    client.close();
    await stop();
  }
});

// ---- headless Chromium -----------------------------------------------------------------

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** The page: subscribes with the compiled client and records what it gets. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>parley client</title><script type="module">
import { ParleyClient } from '/dist/src/client/index.js';
const url = location.origin.replace(/^http/, 'ws') + '/rt';
const client = new ParleyClient(url, { token: 'browser', reconnect: { initialDelay: 100, maxDelay: 1000 } });
const state = window.__state = { got: [], offsets: [], kinds: [], opens: 0, closes: 0, errors: [], conn: null, user: null };
client.on('open', (info) => { state.opens++; state.conn = info.conn; state.user = info.user; });
client.on('close', () => { state.closes++; });
client.on('error', (e) => { state.errors.push(e.code + ': ' + e.message); });
const sub = client.subscribe('live', (data, info) => { state.got.push(data); state.offsets.push(info.offset); });
sub.on('subscribed', (info) => state.kinds.push(info.kind));
sub.on('reset', () => state.kinds.push('RESET'));
window.__stats = () => ({ ...client.stats, conn: client.connectionId });
</script>`;

/** Serves the page and the compiled client (and only that) as ES modules. */
function pageServer(): http.Server {
  return http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(PAGE);
      return;
    }
    // The client and the browser-safe modules it imports: the envelope codec and the error model.
    const allowed = /^\/dist\/src\/client\/[a-z-]+\.js$/.test(path) || ['/dist/src/wire/envelope.js', '/dist/src/protocol/errors.js', '/dist/src/protocol/constants.js'].includes(path);
    if (!allowed) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' });
    res.end(readFileSync(`${root}${path.slice(1)}`));
  });
}

void test('Chromium: the compiled client recovers a connection cut mid-stream; every message exactly once, in order', { timeout: 120_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    const message = `${CHROMIUM} is missing: install the Debian package \`chromium\` (apt-get install -y chromium)`;
    if (process.env.CI === 'true') assert.fail(message);
    t.skip(message);
    return;
  }
  const { chromium } = await import('playwright-core');
  const server = pageServer();
  const wss = new WebSocketServer({ server, path: '/rt', authenticate });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  try {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(origin + '/');
    await page.waitForFunction(() => (globalThis as unknown as { __state?: { kinds: string[] } }).__state?.kinds.length === 1, undefined, { timeout: 20_000 });
    const state = async (): Promise<{ got: number[]; offsets: number[]; kinds: string[]; opens: number; closes: number; errors: string[]; conn: string; user: string }> =>
      page.evaluate(() => (globalThis as unknown as { __state: never }).__state);
    const first = await state();
    assert.equal(first.user, 'browser', 'the token reached the server');
    const N = 300;
    let cutAt = -1;
    for (let i = 0; i < N; i++) {
      wss.publish('live', i);
      if (cutAt < 0 && i >= 20 && i % 10 === 0 && (await state()).got.length >= 60) {
        cutAt = i + 1;
        serverSide(wss, first.conn).terminate();
      }
      await new Promise((r) => setTimeout(r, 3));
    }
    await page.waitForFunction((n) => (globalThis as unknown as { __state: { got: unknown[] } }).__state.got.length >= n, N, { timeout: 30_000 });
    await new Promise((r) => setTimeout(r, 100));
    const end = await state();
    assert.ok(cutAt > 0, 'the connection was cut');
    assert.deepEqual(end.got, Array.from({ length: N }, (_, k) => k), 'every message exactly once, in order');
    assert.deepEqual(end.offsets, Array.from({ length: N }, (_, k) => k + 1));
    assert.deepEqual(end.kinds, ['fresh', 'recovered']);
    assert.equal(end.opens, 2);
    assert.notEqual(end.conn, first.conn, 'a new connection');
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser.close();
    for (const ws of wss.clients ?? []) ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
