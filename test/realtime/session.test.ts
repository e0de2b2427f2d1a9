/**
 * The parley.v1 protocol over real sockets, envelope by envelope (docs/realtime-protocol.md):
 * validation of every incoming envelope (bad-input guide §22), requests and their errors
 * (§21), authorization, limits, presence requests and idempotent retries.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { RealtimeError, type WebSocket } from '../../src/index.js';
import { V1Client, startRealtime, until } from './helpers.js';

void describe('malformed envelopes get err with the right code, and nothing crashes', () => {
  void test('each class of bad envelope', async (t) => {
    const { url } = await startRealtime(t);
    const c = await V1Client.open(t, url);
    const cases: Array<[string | Uint8Array, string, unknown]> = [
      ['{not json', 'BAD_ENVELOPE', undefined],
      ['[1,2,3]', 'BAD_ENVELOPE', undefined],
      ['{"id":1}', 'BAD_ENVELOPE', undefined],
      [`{"t":"sub","id":1,"topic":"x","deep":${'['.repeat(5000)}${']'.repeat(5000)}}`, 'TOO_DEEP', undefined],
      ['{"t":"launch","id":2}', 'UNKNOWN_TYPE', 2],
      ['{"t":"sub","id":{"x":1},"topic":"x"}', 'BAD_ENVELOPE', undefined],
      ['{"t":"sub","id":"' + 'i'.repeat(65) + '","topic":"x"}', 'BAD_ENVELOPE', undefined],
      ['{"t":"sub","id":1.5,"topic":"x"}', 'BAD_ENVELOPE', undefined],
      [`{"t":"pub","topic":"x","data":"${'a'.repeat(70_000)}"}`, 'TOO_LARGE', undefined],
      ['{"t":"sub","id":3,"topic":"no spaces allowed"}', 'BAD_TOPIC', 3],
      ['{"t":"pub","id":4,"topic":"x"}', 'BAD_ENVELOPE', 4],
      ['{"t":"req","id":5}', 'BAD_ENVELOPE', 5],
      [new Uint8Array([0, 0, 0, 50, 1, 2]), 'BAD_ENVELOPE', undefined],
    ];
    for (const [frame, code, id] of cases) {
      const before = c.ofType('err').length;
      c.ws.send(frame);
      await until(() => c.ofType('err').length === before + 1, 3000, `err for ${code}`);
      const err = c.ofType('err')[before]!;
      assert.equal(err.code, code, String(frame).slice(0, 60));
      assert.equal(err.id, id);
      assert.equal(typeof err.message, 'string');
      // A valid envelope between them resets the run, so the connection survives the whole list.
      assert.equal((await c.call({ t: 'presence', topic: 'x' })).code, 'NOT_SUBSCRIBED');
    }
    assert.equal(c.ws.readyState, 1);
  });

  void test('10 malformed envelopes in a row close the connection with 1008; others are unaffected', async (t) => {
    const { wss, url } = await startRealtime(t);
    const bystander = await V1Client.open(t, url);
    await bystander.subscribe('x');
    const c = await V1Client.open(t, url);
    for (let i = 0; i < 9; i++) c.ws.send('nope');
    await until(() => c.ofType('err').length === 9);
    assert.equal(c.ws.readyState, 1, 'nine is not enough');
    c.ws.send('{"t":"nope"}');
    const [code, reason] = await c.closed;
    assert.equal(code, 1008);
    assert.equal(reason, 'too many malformed envelopes');
    wss.publish('x', 'still here');
    await bystander.waitFor((e) => e.t === 'msg');
  });

  void test('ids up to the limits are accepted: 64-character strings and safe integers', async (t) => {
    const { url } = await startRealtime(t);
    const c = await V1Client.open(t, url);
    for (const id of ['i'.repeat(64), Number.MAX_SAFE_INTEGER, -1, 0]) {
      const r = await c.call({ t: 'sub', id, topic: `t${String(id).length}` });
      assert.equal(r.t, 'subok');
    }
  });
});

void describe('requests', () => {
  void test('res with the handler\'s result; sync, async, binary, undefined → null', async (t) => {
    const { url } = await startRealtime(t, {
      realtime: {
        requests: {
          add: (data) => (data as number[]).reduce((a, b) => a + b, 0),
          later: async (data) => { await sleep(5); return { echoed: data }; },
          bytes: () => Buffer.from([7, 7]),
          nothing: () => undefined,
          whoami: (_data, ws) => ws.realtimeUser,
        },
      },
      authenticate: () => ({ user: 'zoe' }),
    });
    const c = await V1Client.open(t, url);
    assert.deepEqual(await c.call({ t: 'req', method: 'add', data: [1, 2, 3] }), { t: 'res', id: 1, data: 6 });
    assert.deepEqual((await c.call({ t: 'req', method: 'later', data: 'x' })).data, { echoed: 'x' });
    assert.deepEqual([...((await c.call({ t: 'req', method: 'bytes' })).data as Uint8Array)], [7, 7]);
    assert.equal((await c.call({ t: 'req', method: 'nothing' })).data, null);
    assert.equal((await c.call({ t: 'req', method: 'whoami' })).data, 'zoe');
  });

  void test('a handler that throws → err INTERNAL without the internal message; RealtimeError keeps its code', async (t) => {
    const reported: unknown[] = [];
    const { wss, url } = await startRealtime(t, {
      realtime: {
        requests: {
          boom: () => { throw new Error('db password is hunter2'); },
          rejects: () => Promise.reject(new Error('secret stack')),
          refuse: () => { throw new RealtimeError('AUCTION_CLOSED', 'the auction has ended'); },
          bigint: () => 10n,
        },
      },
    });
    wss.on('handlerError', (error) => reported.push(error));
    const c = await V1Client.open(t, url);
    for (const method of ['boom', 'rejects', 'bigint']) {
      const r = await c.call({ t: 'req', method });
      assert.equal(r.t, 'err');
      assert.equal(r.code, 'INTERNAL');
      assert.equal(r.message, 'internal error');
      assert.doesNotMatch(JSON.stringify(r), /hunter2|secret/);
    }
    assert.deepEqual(await c.call({ t: 'req', id: 'r', method: 'refuse' }), { t: 'err', id: 'r', code: 'AUCTION_CLOSED', message: 'the auction has ended' });
    assert.equal(reported.length, 3, 'the application hears of its own failures');
    assert.equal(c.ws.readyState, 1, 'the connection carries on');
  });

  void test('unknown methods, prototype names included → UNKNOWN_METHOD', async (t) => {
    const { url } = await startRealtime(t, { realtime: { requests: { known: () => 1 } } });
    const c = await V1Client.open(t, url);
    for (const method of ['unknown', '__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      assert.equal((await c.call({ t: 'req', method })).code, 'UNKNOWN_METHOD', method);
    }
    const r = await c.call({ t: 'req', method: 'known' });
    assert.equal(r.t, 'res');
    assert.equal(r.data, 1);
  });
});

void describe('subscriptions, authorization and limits', () => {
  void test('authorize (sync and async) → FORBIDDEN; only true allows', async (t) => {
    const { url } = await startRealtime(t, {
      realtime: {
        authorize: async (_ws, action, topic) => {
          await sleep(1);
          if (topic === 'truthy') return 1 as unknown as boolean;
          return topic.startsWith('public:') || (action === 'subscribe' && topic === 'readonly');
        },
      },
    });
    const c = await V1Client.open(t, url);
    assert.equal((await c.subscribe('public:1')).t, 'subok');
    assert.equal((await c.subscribe('private:1')).code, 'FORBIDDEN');
    assert.equal((await c.subscribe('truthy')).code, 'FORBIDDEN');
    assert.equal((await c.subscribe('readonly')).t, 'subok');
    assert.equal((await c.call({ t: 'pub', topic: 'readonly', data: 1 })).code, 'FORBIDDEN');
    // A pub without id is answered only when it fails.
    c.send({ t: 'pub', topic: 'readonly', data: 2 });
    await c.waitFor((e) => e.t === 'err' && e.id === undefined && e.code === 'FORBIDDEN');
  });

  void test('hooks that throw (authorize, userOf) → INTERNAL or a fallback, reported, and no crash', async (t) => {
    const reported: unknown[] = [];
    const { wss, url } = await startRealtime(t, {
      realtime: {
        authorize: (_ws, action) => { if (action === 'subscribe') throw new Error('acl store down'); return Promise.reject(new Error('acl timeout')); },
        userOf: () => { throw new Error('bad token'); },
      },
    });
    wss.on('handlerError', (error) => reported.push((error as Error).message));
    const c = await V1Client.open(t, url);
    assert.equal(c.hello.user, undefined, 'no user: the connection id stands in');
    assert.deepEqual(await c.call({ t: 'sub', id: 's', topic: 'x' }), { t: 'err', id: 's', code: 'INTERNAL', message: 'internal error' });
    assert.equal(wss.subscriberCount('x'), 0);
    assert.equal((await c.call({ t: 'pub', topic: 'x', data: 1 })).code, 'INTERNAL');
    assert.deepEqual(reported, ['bad token', 'acl store down', 'acl timeout']);
    assert.equal(c.ws.readyState, 1);
  });

  void test('sub then unsub behind a slow authorize stay in order', async (t) => {
    const { wss, url } = await startRealtime(t, { realtime: { authorize: () => sleep(30).then(() => true) } });
    const c = await V1Client.open(t, url);
    c.send({ t: 'sub', id: 1, topic: 'x' });
    c.send({ t: 'unsub', id: 2, topic: 'x' });
    assert.equal((await c.reply(1)).t, 'subok');
    assert.equal((await c.reply(2)).t, 'ok');
    assert.equal(wss.subscriberCount('x'), 0);
  });

  void test('unsub and presence of a topic not subscribed → NOT_SUBSCRIBED; maxSubscriptions → LIMIT', async (t) => {
    const { url } = await startRealtime(t, { realtime: { limits: { maxSubscriptions: 2 } } });
    const c = await V1Client.open(t, url);
    assert.equal((await c.call({ t: 'unsub', topic: 'x' })).code, 'NOT_SUBSCRIBED');
    assert.equal((await c.call({ t: 'presence', topic: 'x' })).code, 'NOT_SUBSCRIBED');
    await c.subscribe('a');
    await c.subscribe('b');
    assert.equal((await c.subscribe('c')).code, 'LIMIT');
    assert.equal((await c.subscribe('a')).t, 'subok', 're-subscribing an existing topic is not a new one');
    assert.deepEqual(await c.call({ t: 'unsub', id: 'u', topic: 'a' }), { t: 'ok', id: 'u' });
    assert.equal((await c.subscribe('c')).t, 'subok');
  });

  void test('maxEnvelopeBytes and maxDepth are configurable', async (t) => {
    const { url } = await startRealtime(t, { realtime: { limits: { maxEnvelopeBytes: 100, maxDepth: 3 } } });
    const c = await V1Client.open(t, url);
    c.ws.send(JSON.stringify({ t: 'pub', topic: 'x', data: 'y'.repeat(200) }));
    await c.waitFor((e) => e.code === 'TOO_LARGE');
    assert.equal((await c.call({ t: 'pub', topic: 'x', data: 'y'.repeat(40) })).t, 'ok', 'under the limit');
    c.ws.send(JSON.stringify({ t: 'pub', topic: 'x', data: [[[1]]] }));
    await c.waitFor((e) => e.code === 'TOO_DEEP');
  });
});

void describe('idempotent pub and req', () => {
  void test('a pub retried with the same id after a reconnect is applied once, with the same reply', async (t) => {
    const { url } = await startRealtime(t, { authenticate: () => ({ user: 'bob' }) });
    const watcher = await V1Client.open(t, url);
    await watcher.subscribe('bids');
    const first = await V1Client.open(t, url);
    const ack = await first.call({ t: 'pub', id: 'bid-1', topic: 'bids', data: { amount: 10 } });
    assert.deepEqual(ack, { t: 'ok', id: 'bid-1', offset: 1 });
    first.ws.terminate();
    const again = await V1Client.open(t, url);
    assert.deepEqual(await again.call({ t: 'pub', id: 'bid-1', topic: 'bids', data: { amount: 10 } }), ack);
    assert.equal((await again.call({ t: 'pub', id: 'bid-2', topic: 'bids', data: { amount: 11 } })).offset, 2);
    await until(() => watcher.msgs('bids').length === 2);
    await sleep(30);
    assert.deepEqual(watcher.msgs('bids').map((m) => m.data), [{ amount: 10 }, { amount: 11 }], 'applied once');
    assert.equal((await again.call({ t: 'pub', id: 'bid-1', topic: 'other', data: 1 })).code, 'BAD_ENVELOPE', 'same id, different request');
  });

  void test('a req retried while the first still runs waits for it: the handler runs once', async (t) => {
    let runs = 0;
    const { url } = await startRealtime(t, {
      authenticate: () => ({ user: 'cy' }),
      realtime: { requests: { slow: async () => { runs++; await sleep(40); return runs; } } },
    });
    const a = await V1Client.open(t, url);
    const b = await V1Client.open(t, url);
    a.send({ t: 'req', id: 'q', method: 'slow' });
    await sleep(5);
    b.send({ t: 'req', id: 'q', method: 'slow' });
    const [ra, rb] = await Promise.all([a.reply('q'), b.reply('q')]);
    assert.deepEqual(ra, { t: 'res', id: 'q', data: 1 });
    assert.deepEqual(rb, ra);
    assert.equal(runs, 1);
  });

  void test('without a user, ids are per connection', async (t) => {
    const { url } = await startRealtime(t);
    const a = await V1Client.open(t, url);
    const b = await V1Client.open(t, url);
    assert.equal((await a.call({ t: 'pub', id: 1, topic: 'x', data: 1 })).offset, 1);
    assert.equal((await b.call({ t: 'pub', id: 1, topic: 'x', data: 1 })).offset, 2);
  });
});

void describe('idempotency cache: refusals are not kept, and it is bounded in total', () => {
  void test('a refused pub is answered but its id is not kept: the same id then works for an allowed request', async (t) => {
    const { url } = await startRealtime(t, { realtime: { authorize: (_ws, action, topic) => action === 'subscribe' || topic.startsWith('open:') } });
    const c = await V1Client.open(t, url);
    assert.equal((await c.call({ t: 'pub', id: 7, topic: 'closed:x', data: 1 })).code, 'FORBIDDEN');
    assert.equal((await c.call({ t: 'pub', id: 7, topic: 'closed:x', data: 1 })).code, 'FORBIDDEN', 'asked again, not replayed');
    assert.deepEqual(await c.call({ t: 'pub', id: 7, topic: 'open:y', data: 1 }), { t: 'ok', id: 7, offset: 1 });
    // A request handler's refusal is not kept either: the retry runs again.
    let runs = 0;
    const s2 = await startRealtime(t, { realtime: { requests: { once: () => { if (++runs === 1) throw new RealtimeError('BUSY', 'try again'); return runs; } } } });
    const d = await V1Client.open(t, s2.url);
    assert.equal((await d.call({ t: 'req', id: 'r', method: 'once' })).code, 'BUSY');
    assert.deepEqual(await d.call({ t: 'req', id: 'r', method: 'once' }), { t: 'res', id: 'r', data: 2 });
  });

  void test('a connection without a user takes its ids with it when it closes; a known user keeps them', async (t) => {
    const { url } = await startRealtime(t, {
      authenticate: (req) => (req.url?.includes('user=bob') === true ? { user: 'bob' } : {}),
      realtime: { idempotency: { maxEntries: 5 } },
    });
    const bob = await V1Client.open(t, `${url}/?user=bob`);
    const first = await bob.call({ t: 'pub', id: 'keep', topic: 'x', data: 1 });
    for (let round = 0; round < 4; round++) {
      const anon = await V1Client.open(t, url);
      for (let i = 0; i < 3; i++) assert.equal((await anon.call({ t: 'pub', id: i, topic: 'x', data: i })).t, 'ok');
      anon.ws.close();
      await anon.closed;
    }
    // 12 anonymous ids came and went; bob's outcome was never pushed out of the 5-id budget.
    await sleep(20);
    assert.deepEqual(await bob.call({ t: 'pub', id: 'keep', topic: 'x', data: 1 }), first);
  });
});

void describe('presence info: bounded, and given only by clients that may publish on the topic', () => {
  void test('info over maxPresenceBytes is TOO_LARGE; over the per-connection total is LIMIT', async (t) => {
    const { url } = await startRealtime(t, { realtime: { limits: { maxPresenceBytes: 100, maxPresenceTotalBytes: 250 } } });
    const c = await V1Client.open(t, url);
    assert.equal((await c.call({ t: 'sub', topic: 'a', presence: { name: 'x'.repeat(200) } })).code, 'TOO_LARGE');
    assert.equal((await c.call({ t: 'sub', topic: 'a', presence: { name: 'x'.repeat(80) } })).t, 'subok');
    assert.equal((await c.call({ t: 'sub', topic: 'b', presence: { name: 'x'.repeat(80) } })).t, 'subok');
    assert.equal((await c.call({ t: 'sub', topic: 'c', presence: { name: 'x'.repeat(80) } })).code, 'LIMIT');
    // Leaving a topic gives its share back.
    assert.equal((await c.call({ t: 'unsub', topic: 'a' })).t, 'ok');
    assert.equal((await c.call({ t: 'sub', topic: 'c', presence: { name: 'x'.repeat(80) } })).t, 'subok');
  });

  void test('the default bound is 1 KiB', async (t) => {
    const { url } = await startRealtime(t);
    const c = await V1Client.open(t, url);
    assert.equal((await c.call({ t: 'sub', topic: 'a', presence: 'x'.repeat(1100) })).code, 'TOO_LARGE');
    assert.equal((await c.call({ t: 'sub', topic: 'a', presence: 'x'.repeat(1000) })).t, 'subok');
  });

  void test('a client that may subscribe but not publish joins presence without its info', async (t) => {
    const { url } = await startRealtime(t, {
      authenticate: (req) => ({ user: req.url?.includes('writer') === true ? 'writer' : 'reader' }),
      realtime: { authorize: (ws, action) => action === 'subscribe' || (ws.data as { user: string }).user === 'writer' },
    });
    const writer = await V1Client.open(t, `${url}/?writer`);
    await writer.call({ t: 'sub', topic: 'room', presence: { name: 'W' } });
    const reader = await V1Client.open(t, `${url}/?reader`);
    await reader.call({ t: 'sub', topic: 'room', presence: { spam: 'look at me' } });
    const join = await writer.waitFor((e) => e.t === 'pres' && (e.member as { user: string }).user === 'reader');
    assert.equal((join.member as { info?: unknown }).info, undefined);
    const members = (await writer.call({ t: 'presence', topic: 'room' })).members as Array<{ user: string; info?: unknown }>;
    assert.deepEqual(members.map((m) => [m.user, m.info]), [['writer', { name: 'W' }], ['reader', undefined]]);
  });
});

void describe('the connection\'s own message listeners', () => {
  void test('parley.v1 frames go to the protocol, not to message listeners', async (t) => {
    const { wss, url } = await startRealtime(t);
    const heard: unknown[] = [];
    wss.on('connection', (ws: WebSocket) => ws.on('message', (d) => heard.push(d)));
    const c = await V1Client.open(t, url);
    await c.subscribe('x');
    assert.deepEqual(heard, []);
  });
});
