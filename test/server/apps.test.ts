/**
 * Hosting apps: each configured app is created with its context (prefix, its own data directory,
 * its own adapter, its web root under the package's dist/web, a log sink), gets the requests
 * and upgrades under its prefix, and is closed with the shutdown code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InMemoryAdapter } from '../../src/index.js';
import type { AppContext, AppFactory, ParleyApp } from '../../src/server/app.js';
import { defaultConfig } from '../../src/server/config.js';
import { startServer } from '../../src/server/serve.js';
import { Peer, signIn, until } from '../apps/poker/helpers.js';
import { LogCapture, request, secretKeys, serve, upgradeRequest, v1 } from './helpers.js';

/** A recording app: answers GET <prefix>/hello, refuses upgrades, remembers how it was closed. */
function recordingApp(contexts: AppContext[], closes: Array<number | undefined>): AppFactory {
  return (context) => {
    contexts.push(context);
    context.log('info', { msg: 'app started', where: context.basePath });
    const app: ParleyApp = {
      name: context.basePath.slice(1),
      title: 'Test app',
      description: 'records what the host does',
      handleRequest(req, res) {
        if (req.url !== `${context.basePath}/hello`) return false;
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`hello from ${context.basePath}`);
        return true;
      },
      handleUpgrade: () => false,
      close(code) {
        closes.push(code);
        return Promise.resolve();
      },
    };
    return app;
  };
}

void test('apps are mounted at /<name> with their own data directory, their own adapter and a web root', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-apps-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const contexts: AppContext[] = [];
  const closes: Array<number | undefined> = [];
  const adapter = new InMemoryAdapter();
  const factories = new Map([['alpha', recordingApp(contexts, closes)], ['beta', recordingApp(contexts, closes)]]);
  const s = await serve(t, { apps: ['alpha', 'beta'], dataDir: join(dataDir, 'state') }, { apps: factories, adapter });

  assert.deepEqual(contexts.map((c) => c.basePath), ['/alpha', '/beta']);
  assert.notEqual(contexts[0]!.adapter, contexts[1]!.adapter);
  for (const c of contexts) {
    assert.equal(c.dataDir, join(dataDir, 'state', c.basePath.slice(1)));
    assert.ok(existsSync(c.dataDir), 'data directory created');
    // Not the server's adapter: an app's topics are out of reach of /ws and the HTTP API.
    assert.notEqual(c.adapter, adapter);
    assert.ok(c.adapter instanceof InMemoryAdapter);
    assert.ok(c.sockets !== undefined, 'the host gives its pipeline');
    // Relative to the package (dist/web/<name>), not to the working directory.
    assert.equal(c.webRoot, fileURLToPath(new URL(`../../web${c.basePath}`, import.meta.url)));
  }
  assert.equal((await request(s.port, 'GET', '/alpha/hello')).text, 'hello from /alpha');
  assert.equal((await request(s.port, 'GET', '/beta/hello')).text, 'hello from /beta');
  assert.equal((await request(s.port, 'GET', '/beta/nothing')).status, 404);
  assert.equal((await upgradeRequest(s.port, '/alpha/ws')).status, 404);
  const index = await request(s.port, 'GET', '/');
  assert.match(index.text, /href="\/alpha\/"/);
  assert.ok(s.logs.lines.some((l) => l.app === 'alpha' && l.msg === 'app started'));

  await s.handle.close({ code: 1001 });
  assert.deepEqual(closes, [1001, 1001]);
});

void test('an unknown app name fails the start with the names available', async () => {
  const config = defaultConfig({ port: 0, apps: ['nope'], log: { level: 'silent' } });
  await assert.rejects(startServer(config, { apps: new Map(), logDestination: new LogCapture() }), /apps: unknown app 'nope' \(available: none\)/);
});

void test('an app that fails to start fails the start, and the apps already started are closed', async () => {
  const contexts: AppContext[] = [];
  const closes: Array<number | undefined> = [];
  const factories = new Map<string, AppFactory>([
    ['good', recordingApp(contexts, closes)],
    ['bad', () => { throw new Error('no database'); }],
  ]);
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-apps-'));
  try {
    const config = defaultConfig({ port: 0, apps: ['good', 'bad'], dataDir, log: { level: 'silent' } });
    await assert.rejects(startServer(config, { apps: factories, logDestination: new LogCapture() }), /no database/);
    assert.deepEqual(closes, [1001]);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

void test('an app\'s topics are out of reach of /ws and the HTTP API, whatever a token grants', { timeout: 30_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-apps-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const keys = secretKeys();
  const apiKey = 'apps-test-api-key-0123456789';
  const s = await serve(t, { apps: ['poker'], dataDir, auth: keys.auth, api: { keys: [apiKey] } });
  const base = `${s.url}/poker`;
  const pokerWs = `ws://127.0.0.1:${s.port}/poker/ws`;
  // Two players at the heads-up table: a hand starts and each gets their hole cards.
  const players: Array<{ user: string; peer: Peer; hole: string }> = [];
  for (const [seat, name] of ['Alice', 'Bob'].entries()) {
    const session = await signIn(base, name);
    const peer = await Peer.open(pokerWs, session.token);
    t.after(() => peer.close());
    const hole = `poker:hole:heads-up:${session.user}`;
    assert.equal((await peer.subscribe(hole)).t, 'subok');
    assert.equal((await peer.subscribe('poker:table:heads-up')).t, 'subok');
    players.push({ user: session.user, peer, hole });
    if (seat === 1) break;
  }
  // A /ws token that may subscribe and publish to everything ("*") and to poker:* by name.
  const mallory = await v1(t, `${s.wsUrl}?token=${await keys.sign({ sub: 'mallory', topics: { subscribe: ['*', 'poker:*'], publish: ['*', 'poker:*'] } })}`);
  await mallory.nextOf('hello');
  const alice = players[0]!;
  mallory.send({ t: 'sub', id: 1, topic: alice.hole });
  mallory.send({ t: 'sub', id: 2, topic: 'poker:table:heads-up' });
  mallory.send({ t: 'sub', id: 3, topic: 'poker:lobby' });
  for (let i = 0; i < 3; i++) await mallory.nextOf('subok');

  for (const [seat, p] of players.entries()) {
    const sat = await p.peer.request('sit', { table: 'heads-up', seat, buyIn: 100 });
    assert.deepEqual([sat.t, sat.data], ['res', { ok: true }]);
  }
  await until(() => (alice.peer.hole(alice.hole)?.cards.length ?? 0) === 2, 'Alice\'s hole cards', 10_000);

  // Forged table state from /ws reaches no poker watcher.
  mallory.send({ t: 'pub', id: 4, topic: 'poker:table:heads-up', data: { forged: true } });
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (const p of players) assert.ok(!p.peer.frames.some((f) => f.includes('forged')), 'a poker watcher received forged state');
  // Nothing the poker app published reached /ws: no hole card, no table state, no lobby.
  const seen: Array<Record<string, unknown>> = [];
  for (;;) {
    const e = await mallory.next().catch(() => undefined);
    if (e === undefined) break;
    seen.push(e);
  }
  assert.ok(seen.some((e) => e.t === 'ok' && e.id === 4), 'the publish was accepted on /ws');
  assert.deepEqual(seen.filter((e) => e.t === 'msg').map((e) => e.data), [{ forged: true }]); // its own publish only
  // The HTTP API's history has none of the app's messages either.
  const auth = { headers: { Authorization: `Bearer ${apiKey}` } };
  for (const topic of [alice.hole, 'poker:table:heads-up', 'poker:lobby']) {
    const history = await request(s.port, 'GET', `/api/topics/${topic}/history`, auth);
    assert.equal(history.status, 200, history.text);
    const messages = (history.json as { messages: Array<{ data: unknown }> }).messages;
    assert.ok(!JSON.stringify(messages).includes('cards'), `${topic}: ${history.text}`);
    if (topic !== 'poker:table:heads-up') assert.deepEqual(messages, []);
  }
});
