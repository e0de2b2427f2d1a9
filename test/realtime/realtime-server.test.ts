/**
 * The real-time server end to end over real sockets: fan-out to many clients, the server-side
 * API, subprotocol selection, and the ws-compatible behaviour that must not change.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { WebSocket, WebSocketServer, InvalidStateError } from '../../src/index.js';
import * as nodeLayer from '../../src/node/index.js';
import { RawClient, V1Client, openPlain, startRealtime, until } from './helpers.js';

void describe('publish/subscribe across many clients', () => {
  void test('50 parley.v1 clients and 10 plain ones: every message reaches every subscriber, in order', async (t) => {
    const { wss, url } = await startRealtime(t);
    wss.on('connection', (ws: WebSocket) => {
      if (ws.protocol === '') ws.subscribe('auction:1');
    });
    const v1 = await Promise.all(Array.from({ length: 50 }, () => V1Client.open(t, url)));
    const plain = await Promise.all(Array.from({ length: 10 }, () => openPlain(t, url)));
    const subs = await Promise.all(v1.map((c) => c.subscribe('auction:1')));
    for (const s of subs) assert.equal(s.t, 'subok');
    assert.equal(wss.subscriberCount('auction:1'), 60);

    // 20 publishes from one client (with acks) and 20 from the server.
    const publisher = v1[0]!;
    for (let i = 0; i < 20; i++) publisher.send({ t: 'pub', id: `p${i}`, topic: 'auction:1', data: { bid: i } });
    const acks = await Promise.all(Array.from({ length: 20 }, (_, i) => publisher.reply(`p${i}`)));
    assert.deepEqual(acks.map((a) => a.offset), Array.from({ length: 20 }, (_, i) => i + 1));
    for (let i = 20; i < 40; i++) {
      const r = wss.publish('auction:1', { bid: i });
      assert.equal(r.status, 'ok');
      assert.equal(r.offset, i + 1);
      assert.equal(r.delivered, 60);
    }
    await until(() => v1.every((c) => c.msgs('auction:1').length === 40) && plain.every((p) => p.messages.length === 40), 10_000, 'every delivery');
    for (const c of v1) {
      const msgs = c.msgs('auction:1');
      assert.deepEqual(msgs.map((m) => m.offset), Array.from({ length: 40 }, (_, i) => i + 1));
      assert.deepEqual(msgs.map((m) => (m.data as { bid: number }).bid), Array.from({ length: 40 }, (_, i) => i));
      assert.equal(new Set(msgs.map((m) => m.epoch)).size, 1);
    }
    for (const p of plain) {
      assert.deepEqual(p.messages.map((m) => JSON.parse(m.data.toString()) as unknown), Array.from({ length: 40 }, (_, i) => ({ bid: i })));
      assert.ok(p.messages.every((m) => !m.isBinary));
    }
    const stats = wss.topicStats('auction:1');
    assert.equal(stats.subscribers, 60);
    assert.equal(stats.published, 40);
    assert.equal(stats.delivered, 2400);
    assert.equal(stats.dropped + stats.conflated + stats.closed, 0);
  });

  void test('binary data: binary envelopes for parley.v1, binary frames for plain clients', async (t) => {
    const { wss, url } = await startRealtime(t);
    wss.on('connection', (ws: WebSocket) => { if (ws.protocol === '') ws.subscribe('files'); });
    const v1 = await V1Client.open(t, url);
    const plain = await openPlain(t, url);
    await v1.subscribe('files');
    wss.publish('files', Buffer.from([1, 2, 3]));
    const bin = new Uint8Array([0xde, 0xad]);
    const frame = new Uint8Array(4 + 40 + bin.length);
    const head = Buffer.from(JSON.stringify({ t: 'pub', topic: 'files', bin: true }).padEnd(40, ' '));
    new DataView(frame.buffer).setUint32(0, head.length);
    frame.set(head, 4);
    frame.set(bin, 44);
    v1.ws.send(frame);
    await until(() => v1.msgs('files').length === 2 && plain.messages.length === 2);
    assert.deepEqual(v1.msgs('files').map((m) => [...(m.data as Uint8Array)]), [[1, 2, 3], [0xde, 0xad]]);
    assert.deepEqual(plain.messages.map((m) => [m.isBinary, [...m.data]]), [[true, [1, 2, 3]], [true, [0xde, 0xad]]]);
  });
});

void describe('server-side API', () => {
  void test('ws.subscribe/unsubscribe/isSubscribed/topics and ws.publish (everyone but a plain sender)', async (t) => {
    const { wss, url } = await startRealtime(t);
    const server: WebSocket[] = [];
    wss.on('connection', (ws: WebSocket) => {
      server.push(ws);
      assert.equal(ws.subscribe('news'), true);
      assert.equal(ws.subscribe('news'), false, 'already subscribed');
      ws.subscribe('sports');
      ws.on('message', (data: Buffer) => ws.publish('news', data.toString()));
    });
    const a = await openPlain(t, url);
    const b = await openPlain(t, url);
    await until(() => server.length === 2);
    const [sa] = server;
    assert.deepEqual(sa!.topics.sort(), ['news', 'sports']);
    assert.equal(sa!.isSubscribed('news'), true);
    assert.equal(sa!.unsubscribe('sports'), true);
    assert.equal(sa!.unsubscribe('sports'), false);
    assert.equal(sa!.isSubscribed('sports'), false);
    assert.match(sa!.connectionId!, /^[\w-]+\.\w+$/);
    a.ws.send('from a');
    await until(() => b.messages.length === 1);
    assert.equal(b.messages[0]!.data.toString(), 'from a');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(a.messages.length, 0, 'the plain sender does not get its own message');
    assert.throws(() => sa!.subscribe('not a topic'), TypeError);
    assert.throws(() => wss.publish('news', 1n), TypeError);
  });

  void test('server-side subscribe with since replays the missed messages to a plain client', async (t) => {
    const { wss, url } = await startRealtime(t);
    for (const v of ['a', 'b', 'c', 'd']) wss.publish('log', v);
    const position = await wss.position('log');
    wss.on('connection', (ws: WebSocket) => ws.subscribe('log', { since: { epoch: position.epoch, offset: 2 } }));
    const p = await openPlain(t, url);
    await until(() => p.messages.length === 2);
    wss.publish('log', 'e');
    await until(() => p.messages.length === 3);
    assert.deepEqual(p.messages.map((m) => m.data.toString()), ['c', 'd', 'e']);
  });

  void test('connections close: subscriptions and presence go with them', async (t) => {
    const { wss, url } = await startRealtime(t);
    const c = await V1Client.open(t, url);
    await c.subscribe('room', { presence: { name: 'x' } });
    assert.equal(wss.subscriberCount('room'), 1);
    assert.equal((await wss.presence('room')).length, 1);
    c.ws.close();
    await until(() => wss.subscriberCount('room') === 0);
    assert.deepEqual(await wss.presence('room'), []);
  });

  void test('a client-side WebSocket has no topics: InvalidStateError', async (t) => {
    const { url } = await startRealtime(t);
    const { ws } = await openPlain(t, url);
    assert.throws(() => ws.subscribe('x'), InvalidStateError);
    assert.throws(() => ws.unsubscribe('x'), InvalidStateError);
    assert.throws(() => ws.isSubscribed('x'), InvalidStateError);
    assert.throws(() => ws.topics, InvalidStateError);
    assert.throws(() => ws.publish('x', 1), InvalidStateError);
    assert.equal(ws.connectionId, undefined);
  });
});

void describe('subprotocol selection and ws compatibility', () => {
  void test('parley.v1 is chosen when offered among others; hello comes first with conn and user', async (t) => {
    const { wss, url } = await startRealtime(t, { authenticate: () => ({ user: 'ann' }) });
    const c = await V1Client.open(t, url, ['chat', 'parley.v1']);
    assert.equal(c.ws.protocol, 'parley.v1');
    assert.equal(c.received[0]!.t, 'hello');
    assert.equal(c.hello.v, 1);
    assert.equal(c.hello.user, 'ann');
    assert.equal(typeof c.hello.conn, 'string');
    assert.ok(Math.abs((c.hello.time as number) - Date.now()) < 5000);
    assert.equal(wss.clients.size, 1);
  });

  void test('the application\'s own handleProtocols decides; a plain connection gets no envelope', async (t) => {
    const { wss, url } = await startRealtime(t, { handleProtocols: (protocols) => (protocols.has('chat') ? 'chat' : false) });
    const server: WebSocket[] = [];
    wss.on('connection', (ws: WebSocket) => {
      server.push(ws);
      ws.on('message', (data: Buffer) => ws.send(`echo ${data.toString()}`));
    });
    const ws = new WebSocket(url, ['parley.v1', 'chat']);
    t.after(() => ws.terminate());
    const got: string[] = [];
    ws.on('message', (d: Buffer) => got.push(d.toString()));
    await new Promise((resolve) => ws.once('open', resolve));
    assert.equal(ws.protocol, 'chat');
    ws.send('{"t":"sub","id":1,"topic":"x"}');
    await until(() => got.length === 1);
    assert.deepEqual(got, ['echo {"t":"sub","id":1,"topic":"x"}'], 'not a parley.v1 connection: messages reach the app');
  });

  void test('without a subprotocol nothing changes: first offer chosen, app messages, close codes', async (t) => {
    const { wss, url } = await startRealtime(t);
    wss.on('connection', (ws: WebSocket) => ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary })));
    const ws = new WebSocket(url, ['x', 'y']);
    t.after(() => ws.terminate());
    await new Promise((resolve) => ws.once('open', resolve));
    assert.equal(ws.protocol, 'x');
    const echoed = new Promise<Buffer>((resolve) => ws.once('message', resolve));
    ws.send('hi');
    assert.equal((await echoed).toString(), 'hi');
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    ws.close(4000);
    assert.equal(await closed, 4000);
  });

  void test('an application may keep its own ws.topics property', async (t) => {
    const { wss, url } = await startRealtime(t);
    const seen = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    await openPlain(t, url);
    const ws = await seen;
    ws.subscribe('a');
    (ws as unknown as { topics: unknown }).topics = new Set(['mine']);
    assert.deepEqual(ws.topics, new Set(['mine']));
    assert.equal(ws.isSubscribed('a'), true);
  });

  void test('parley/node keeps the plain classes; the default export carries the real-time ones', async () => {
    assert.notEqual(nodeLayer.WebSocketServer, WebSocketServer);
    assert.ok(new WebSocketServer({ noServer: true }) instanceof nodeLayer.WebSocketServer);
    assert.equal('publish' in nodeLayer.WebSocketServer.prototype, false);
    const parley = await import('../../src/index.js');
    assert.equal(parley.default, WebSocket);
    assert.equal(parley.default.WebSocketServer, WebSocketServer);
    assert.equal(parley.default.Server, WebSocketServer);
  });

  void test('noServer mode: handleUpgrade gives real-time connections too', async (t) => {
    const http = await import('node:http');
    const wss = new WebSocketServer({ noServer: true });
    const server = http.createServer();
    server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      for (const ws of wss.clients ?? []) ws.terminate();
      server.closeAllConnections();
      server.close();
      wss.close();
    });
    const port = (server.address() as { port: number }).port;
    const c = await V1Client.open(t, `ws://127.0.0.1:${port}`);
    await c.subscribe('x');
    wss.publish('x', 'hello');
    await c.waitFor((e) => e.t === 'msg');
    assert.equal(c.msgs('x')[0]!.data, 'hello');
  });

  void test('a raw parley.v1 client works byte for byte as the spec says', async (t) => {
    const { wss, port } = await startRealtime(t);
    const raw = await RawClient.connect(t, port, 'parley.v1');
    raw.startReading();
    await until(() => raw.envelopes().length === 1);
    assert.equal(raw.envelopes()[0]!.t, 'hello');
    raw.sendText('{"t":"sub","id":"s","topic":"x"}');
    await until(() => raw.envelopes().some((e) => e.t === 'subok'));
    wss.publish('x', { a: 1 });
    await until(() => raw.envelopes().some((e) => e.t === 'msg'));
    const msg = raw.envelopes().find((e) => e.t === 'msg')!;
    assert.deepEqual({ ...msg, epoch: 'E' }, { t: 'msg', topic: 'x', epoch: 'E', offset: 1, data: { a: 1 } });
  });
});

void describe('publish to clients with permessage-deflate', () => {
  void test('the envelope is compressed once and every deflate subscriber reads it; the wire carries far fewer bytes', async (t) => {
    const { WebSocket: WsClient } = await import('ws');
    const { wss, url } = await startRealtime(t, { perMessageDeflate: { threshold: 256 } });
    const clients = await Promise.all(Array.from({ length: 3 }, async () => {
      const ws = new WsClient(url, 'parley.v1', { perMessageDeflate: { threshold: 0 } });
      t.after(() => ws.terminate());
      const got: Array<Record<string, unknown>> = [];
      ws.on('message', (d: Buffer) => got.push(JSON.parse(d.toString()) as Record<string, unknown>));
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      ws.send(JSON.stringify({ t: 'sub', id: 's', topic: 'prices' }));
      await until(() => got.some((e) => e.t === 'subok'), 5000, 'subok');
      const socket = (ws as unknown as { _socket: { bytesRead: number } })._socket;
      return { ws, got, socket };
    }));
    const items = Array.from({ length: 200 }, (_, i) => ({ lot: i, price: 1000 + i * 5, leader: `bidder-${i % 9}` }));
    const before = clients.map((c) => c.socket.bytesRead);
    const r = wss.publish('prices', items);
    assert.equal(r.delivered, 3);
    await until(() => clients.every((c) => c.got.some((e) => e.t === 'msg')), 5000, 'the message');
    const size = JSON.stringify(items).length;
    for (const [i, c] of clients.entries()) {
      const msg = c.got.find((e) => e.t === 'msg')!;
      assert.deepEqual(msg.data, items);
      assert.equal(msg.offset, 1);
      const wire = c.socket.bytesRead - before[i]!;
      assert.ok(wire < size / 3, `compressed on the wire: ${wire} bytes for ${size}`);
    }
  });
});
