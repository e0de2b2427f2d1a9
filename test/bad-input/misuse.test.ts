/**
 * Bad-input guide §15 (API misuse by the application: a thrown TypeError/state error, never
 * stray bytes on the wire) and §21 (the application's handler throws or rejects → 1011 to that
 * peer only). A raw peer watches exactly what reaches the wire.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { WebSocket } from '../../src/index.js';
import { clientFrame, closePayload, OP, type RawPeer } from './raw-peer.js';
import { expectClose, Harness, sleep, textOf, withServer } from './server-harness.js';

const T = { timeout: 20_000 };

/** A raw peer and the server-side WebSocket of its connection. */
async function pair(h: Harness): Promise<{ peer: RawPeer; ws: WebSocket }> {
  const connection = h.nextConnection();
  const peer = await h.peer();
  await peer.handshake();
  return { peer, ws: await connection };
}

/** Nothing reaches the peer for `ms`. */
async function silence(peer: RawPeer, ms: number, what: string): Promise<void> {
  await sleep(ms);
  assert.equal(peer.unread().length, 0, `${what}: bytes reached the wire`);
}

/** The callback of `fn(cb)`, or a failure when it is not called within 1 s. */
function callbackResult(fn: (cb: (e?: Error | null) => void) => void): Promise<Error | null | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('callback not called')), 1000);
    fn((e) => { clearTimeout(timer); resolve(e); });
  });
}

void test('§15 send after close → callback error, no bytes on the wire after the close frame', T, async () => {
  await withServer({}, async (h) => {
    const { peer, ws } = await pair(h);
    ws.close(1000, 'bye');
    const sendErr = await callbackResult((cb) => ws.send('EVIL-after-close', cb));
    assert.ok(sendErr instanceof Error, 'send after close must report an error');
    const pingErr = await callbackResult((cb) => ws.ping('p', cb));
    assert.ok(pingErr instanceof Error, 'ping after close must report an error');
    assert.doesNotThrow(() => ws.send('no callback'));
    const c = await peer.readClose();
    assert.equal(c.code, 1000);
    assert.deepEqual(c.before, []);
    await silence(peer, 200, 'send while CLOSING');
    await peer.write(clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000) }));
    await peer.waitClosed();
    await new Promise((r) => setImmediate(r));
    assert.ok((await callbackResult((cb) => ws.send('EVIL-closed', cb))) instanceof Error);
    assert.equal(peer.unread().length, 0);
    // The client role too.
    const client = await h.client();
    client.close(1000);
    assert.ok((await callbackResult((cb) => client.send('EVIL-client', cb))) instanceof Error);
    await h.checkHealthy();
  });
});

void test("§15 close('abc'), close(1005), close(1000, {}) → TypeError; nothing sent; the connection still works", T, async () => {
  await withServer({}, async (h) => {
    const { peer, ws } = await pair(h);
    assert.throws(() => ws.close('abc' as unknown as number), TypeError);
    assert.throws(() => ws.close(1005), TypeError);
    assert.throws(() => ws.close(999), TypeError);
    assert.throws(() => ws.close(1000, {} as never), TypeError);
    assert.throws(() => ws.close(1000, 42 as never), TypeError);
    assert.equal(ws.readyState, WebSocket.OPEN);
    await silence(peer, 150, 'rejected close()');
    ws.send('still-ok');
    const f = await peer.readFrame();
    assert.deepEqual([f.opcode, f.fin, f.payload.toString()], [OP.TEXT, true, 'still-ok']);
    ws.close(1000);
    assert.equal((await peer.readClose()).code, 1000);
    await h.checkHealthy();
  });
});

void test('§15 close(1000.5) → TypeError like any invalid code; the connection can still be closed', T, async () => {
  await withServer({}, async (h) => {
    const { peer, ws } = await pair(h);
    let thrown: unknown;
    try {
      ws.close(1000.5);
    } catch (e) {
      thrown = e;
    }
    assert.equal(ws.readyState, WebSocket.OPEN, 'a rejected close() must not change the state');
    ws.close(1000);
    assert.equal((await peer.readClose()).code, 1000, 'close(1000) after the rejected call sends a close frame');
    assert.ok(thrown instanceof TypeError, `close(1000.5) threw ${String(thrown)}`);
  });
});

void test('§15 send({}), send(null), send([1, 2]), send(Symbol()) → TypeError; nothing on the wire; next send is a plain text frame', T, async () => {
  await withServer({}, async (h) => {
    const { peer, ws } = await pair(h);
    for (const bad of [{}, null, [1, 2], ['a'], Symbol('s'), () => 1]) {
      assert.throws(() => ws.send(bad as never), TypeError, `send(${String(typeof bad)})`);
    }
    await silence(peer, 150, 'rejected send()');
    ws.send(42); // a number is sent as its decimal text, as ws does
    ws.send('after');
    const a = await peer.readFrame();
    const b = await peer.readFrame();
    assert.deepEqual([a.opcode, a.fin, a.payload.toString()], [OP.TEXT, true, '42']);
    assert.deepEqual([b.opcode, b.fin, b.payload.toString()], [OP.TEXT, true, 'after']);
    await h.checkHealthy();
  });
});

void test('§15 a send that throws leaves no fragment state behind (the next frame is valid on the wire)', T, async () => {
  await withServer({}, async (h) => {
    const { peer, ws } = await pair(h);
    assert.throws(() => ws.send({} as never, { fin: false }), TypeError);
    ws.send('next');
    const f = await peer.readFrame();
    assert.deepEqual([f.opcode, f.fin, f.payload.toString()], [OP.TEXT, true, 'next']);
    ws.send('part1', { fin: false });
    assert.throws(() => ws.send({} as never), TypeError);
    ws.send('part2');
    const p1 = await peer.readFrame();
    const p2 = await peer.readFrame();
    assert.deepEqual([p1.opcode, p1.fin], [OP.TEXT, false]);
    assert.deepEqual([p2.opcode, p2.fin], [OP.CONT, true], 'the fragment after a failed send must continue the message');
  });
});

void test('§15 ping/pong with 126 bytes → RangeError, nothing on the wire', T, async () => {
  await withServer({}, async (h) => {
    const { peer, ws } = await pair(h);
    assert.throws(() => ws.ping(Buffer.alloc(126)), RangeError);
    assert.throws(() => ws.pong(Buffer.alloc(126)), RangeError);
    assert.throws(() => ws.ping('x'.repeat(126)), RangeError);
    assert.throws(() => ws.ping({} as never), TypeError);
    await silence(peer, 150, 'rejected ping()');
    ws.ping(Buffer.alloc(125, 0x70));
    const f = await peer.readFrame();
    assert.deepEqual([f.opcode, f.payload.length], [OP.PING, 125]);
    const client = await h.client();
    assert.throws(() => client.ping(Buffer.alloc(126)), RangeError);
    await h.checkHealthy();
  });
});

void test("§21 the application's 'message' handler throws → 1011 to that peer only", T, async () => {
  await withServer({}, async (h) => {
    const peer = await h.peer();
    await peer.handshake();
    await peer.write(clientFrame({ opcode: OP.TEXT, payload: 'throw' }));
    await expectClose(peer, 1011, 'sync throw');
    assert.ok(h.errors.some((e) => e.message === 'application bug (sync)'), 'the error reaches the "error" event');
    const other = await h.peer();
    await other.handshake();
    await other.write(clientFrame({ opcode: OP.TEXT, payload: 'reject' }));
    await expectClose(other, 1011, 'async rejection');
    await h.checkHealthy();
  }, {
    onConnection: (ws) => {
      ws.on('message', (data) => {
        if (textOf(data) === 'throw') throw new Error('application bug (sync)');
      });
      // eslint-disable-next-line @typescript-eslint/no-misused-promises -- an async handler that rejects is the point of the test
      ws.on('message', async (data) => {
        await Promise.resolve();
        if (textOf(data) === 'reject') throw new Error('application bug (async)');
      });
    },
  });
});
