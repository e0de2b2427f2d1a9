/**
 * The admin page and its live feed over WebSocket: the page itself (strict CSP, the key form),
 * access rules (open on loopback without keys; otherwise the first message must carry a key),
 * and snapshots that show connections, topics, rates and slow consumers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket as NodeWebSocket } from '../../src/node/index.js';
import type { AdminSnapshot } from '../../src/server/admin.js';
import { launchChromium } from '../support/browser.js';
import { defer, request, secretKeys, serve, upgradeRequest, v1, waitFor } from './helpers.js';

const KEY = 'admin-test-key-0123456789';

/** Opens the admin feed; sends `key` first when given; resolves with a message reader. */
async function feed(t: Parameters<typeof serve>[0], port: number, key?: string): Promise<{ ws: NodeWebSocket; next: () => Promise<{ t: string; snapshot?: AdminSnapshot }> }> {
  const ws = new NodeWebSocket(`ws://127.0.0.1:${port}/admin/ws`);
  defer(t, () => ws.terminate());
  const queue: Array<{ t: string; snapshot?: AdminSnapshot }> = [];
  const waiting: Array<(m: { t: string; snapshot?: AdminSnapshot }) => void> = [];
  ws.on('message', (data: Buffer) => {
    const m = JSON.parse(data.toString('utf8')) as { t: string; snapshot?: AdminSnapshot };
    const w = waiting.shift();
    if (w !== undefined) w(m);
    else queue.push(m);
  });
  await waitFor(ws, 'open');
  if (key !== undefined) ws.send(JSON.stringify({ key }));
  return { ws, next: () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((resolve) => waiting.push(resolve))) };
}

void test('the admin page is served with a strict content security policy', async (t) => {
  const s = await serve(t);
  const page = await request(s.port, 'GET', '/admin');
  assert.equal(page.status, 200);
  assert.match(String(page.headers['content-security-policy']), /default-src 'none'.*connect-src 'self'/);
  assert.equal(page.headers['x-frame-options'], 'DENY');
  assert.match(page.text, /<title>Parley admin<\/title>/);
  assert.match(page.text, /data-needs-key="false"/);
  const off = await serve(t, { admin: { enabled: false } });
  assert.equal((await request(off.port, 'GET', '/admin')).status, 404);
});

void test('open on loopback without keys: the feed shows connections, topics and rates', async (t) => {
  const keys = secretKeys();
  const s = await serve(t, { auth: keys.auth });
  const c = await v1(t, `${s.wsUrl}?token=${await keys.sign({ sub: 'ivy', topics: { subscribe: ['room:*'] } })}`);
  c.send({ t: 'sub', id: 1, topic: 'room:7' });
  await c.nextOf('subok');
  s.handle.wss.publish('room:7', 'hello');
  await c.nextOf('msg');
  const admin = await feed(t, s.port);
  assert.equal((await admin.next()).t, 'welcome');
  const { snapshot } = await admin.next();
  assert.ok(snapshot !== undefined);
  // The feed's own socket passed the server's pipeline too, and is listed with its endpoint.
  assert.equal(snapshot.connections, 2);
  assert.equal(snapshot.shuttingDown, false);
  assert.deepEqual(snapshot.busiest.map((conn) => [conn.endpoint, conn.user, conn.protocol, conn.topics]).sort(), [
    ['/admin/ws', '(anonymous)', 'plain', 0],
    ['/ws', 'ivy', 'parley.v1', 2], // room:7 and user:ivy
  ]);
  const room = snapshot.topics.find((topic) => topic.topic === 'room:7');
  assert.deepEqual(room && [room.subscribers, room.published, room.delivered], [1, 1, 1]);
  assert.equal(snapshot.totals.publishes, 1);
  assert.deepEqual(snapshot.slow, []);
  // The feed keeps coming, once a second.
  const again = await admin.next();
  assert.equal(again.t, 'snapshot');
});

void test('the feed refuses another site\'s page (403), in open mode too; its own origin and ws.origins pass', async (t) => {
  const s = await serve(t, { ws: { origins: ['https://ops.example'] } });
  assert.match((await request(s.port, 'GET', '/admin')).text, /data-needs-key="false"/);
  assert.equal((await upgradeRequest(s.port, '/admin/ws', { Origin: 'https://evil.example' })).status, 403);
  assert.equal((await upgradeRequest(s.port, '/admin/ws', { Origin: 'null' })).status, 403);
  assert.equal((await upgradeRequest(s.port, '/admin/ws', { Origin: `http://127.0.0.1:${s.port}` })).status, 101);
  assert.equal((await upgradeRequest(s.port, '/admin/ws', { Origin: 'https://ops.example' })).status, 101);
  // Not a browser: no Origin, no cross-site risk.
  assert.equal((await upgradeRequest(s.port, '/admin/ws')).status, 101);
});

void test('with keys configured, the feed needs the key in the first message: a wrong key is closed with 1008', async (t) => {
  const s = await serve(t, { api: { keys: [KEY] } });
  const page = await request(s.port, 'GET', '/admin');
  assert.match(page.text, /data-needs-key="true"/);
  const wrong = await feed(t, s.port, 'not-the-key');
  const [code, reason] = await waitFor<[number, Buffer]>(wrong.ws, 'close', 3000);
  assert.equal(code, 1008);
  assert.equal(String(reason), 'wrong admin key');
  const right = await feed(t, s.port, KEY);
  assert.equal((await right.next()).t, 'welcome');
  assert.equal((await right.next()).snapshot?.connections, 1); // itself
});

void test('bound beyond loopback with no key configured, the page asks for a key and none works', async (t) => {
  const s = await serve(t, { host: '0.0.0.0' });
  assert.match((await request(s.port, 'GET', '/admin')).text, /data-needs-key="true"/);
  const guess = await feed(t, s.port, '');
  const [code] = await waitFor<[number, Buffer]>(guess.ws, 'close', 3000);
  assert.equal(code, 1008);
});

void test('in Chromium, the admin page asks for the key, then shows live connections and topics', { timeout: 60_000 }, async (t) => {
  const browser = await launchChromium(t);
  if (browser === undefined) return;
  try {
    const s = await serve(t, { api: { keys: [KEY] } });
    const c = await v1(t, s.wsUrl);
    c.send({ t: 'sub', id: 1, topic: 'public:lobby' });
    await c.nextOf('subok');
    // The page's CSP forbids eval, which the test's string expressions need (the page itself uses none).
    const page = await (await browser.newContext({ bypassCSP: true })).newPage();
    await page.goto(`${s.url}/admin`);
    await page.fill('#key', KEY);
    await page.click('#login button');
    await page.waitForFunction("document.querySelector('#state')?.textContent === 'live'", undefined, { timeout: 10_000 });
    // Expressions as strings: this file is typed for Node, the code runs in the page.
    const read = <T>(expression: string): Promise<T> => page.evaluate<T>(expression);
    const cards = await read<string[]>("[...document.querySelectorAll('#cards .card')].map((e) => e.textContent)");
    // The page's own feed is a connection as well.
    assert.ok(cards.includes('2connections'), cards.join(' | '));
    const rows = await read<string[][]>("[...document.querySelectorAll('#conns tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent))");
    assert.deepEqual(rows.map((row) => row[3]).sort(), ['parley.v1', 'plain']);
    const topics = await read<string[]>("[...document.querySelectorAll('#topics tbody tr td:first-child')].map((td) => td.textContent)");
    assert.deepEqual(topics, ['public:lobby']);
    // Charts of the last minutes: connections, messages in/out, deliveries, drops, each drawn.
    const captions = await read<string[]>("[...document.querySelectorAll('figure.chart figcaption')].map((e) => e.firstChild.textContent)");
    assert.deepEqual(captions, ['Connections', 'Messages per second', 'Deliveries per second', 'Drops per second']);
    assert.ok(await read<boolean>("[...document.querySelectorAll('figure.chart canvas')].every((c) => c.width > 0 && c.height > 0)"), 'every chart is drawn');
    // The connections chart counts the page's own feed too.
    assert.equal(await read<string>("document.querySelector('figure.chart .now').textContent"), '2');
    assert.equal(await read<boolean>("document.querySelector('#login').offsetParent === null"), true, 'the key form is gone once live');
    // A second connection appears within a couple of snapshots.
    await v1(t, s.wsUrl);
    await page.waitForFunction("document.querySelectorAll('#conns tbody tr').length === 3", undefined, { timeout: 5000 });
  } finally {
    await browser.close();
  }
});
