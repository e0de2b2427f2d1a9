/**
 * Bad-input guide §20: ping floods are answered without growing memory, and an idle or silent
 * peer is found by the heartbeat and closed. (§19, the reader that stops reading, is covered end
 * to end in test/realtime/e2e-slow-consumer.test.ts; §21 in misuse.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import type { WebSocket } from '../../src/index.js';
import { clientFrame, OP, parseFrame } from './raw-peer.js';
import { sleep, withServer } from './server-harness.js';

const T = { timeout: 30_000 };

/** `n` masked pings with 125-byte payloads (the largest a control frame may carry, RFC 6455 §5.5). */
function pings(n: number, tag: string): Buffer {
  const frames: Buffer[] = [];
  for (let i = 0; i < n; i++) frames.push(clientFrame({ opcode: OP.PING, payload: Buffer.from(`${tag}${i}`.padEnd(125, '.')) }));
  return Buffer.concat(frames);
}

/** Largest `bufferedAmount` of `ws` seen while it answers pings. */
function watchQueue(ws: WebSocket): { max: number } {
  const seen = { max: 0 };
  ws.on('ping', () => { seen.max = Math.max(seen.max, ws.bufferedAmount); });
  return seen;
}

void test('§20 a flood of 20,000 pings from a peer that reads: every one answered with its payload, in order; the queue stays small', T, async () => {
  await withServer({}, async (h) => {
    const connection = h.nextConnection();
    const peer = await h.peer();
    await peer.handshake();
    const ws = await connection;
    const queue = watchQueue(ws);
    const N = 20_000;
    for (let sent = 0; sent < N; sent += 1000) await peer.write(pings(1000, `p${sent / 1000}-`));
    // Every pong carries its ping's payload (RFC 6455 §5.5.3), so order and completeness show.
    const pongs = await peer.until(() => {
      const data = peer.unread();
      const found: string[] = [];
      for (let at = 0, f = parseFrame(data, at); f !== undefined; at += f.size, f = parseFrame(data, at)) {
        found.push(f.frame.payload.toString('latin1'));
      }
      return found.length >= N ? found : undefined;
    }, 20_000, `${N} pongs`);
    const expected = Array.from({ length: N }, (_, i) => `p${Math.floor(i / 1000)}-${i % 1000}`.padEnd(125, '.'));
    assert.deepEqual(pongs, expected);
    assert.ok(queue.max < 4 * 1024 * 1024, `at most ${queue.max} bytes waited for a reading peer`);
    await h.checkHealthy();
  });
});

void test('§20 a ping flood from a peer that never reads: pongs queue up to maxBufferedAmount, then 1008; the process carries on', T, async () => {
  const cap = 256 * 1024;
  // closeTimeout: a peer that reads nothing never answers the close frame either.
  await withServer({ maxBufferedAmount: cap, closeTimeout: 1000 }, async (h) => {
    const connection = h.nextConnection();
    const peer = await h.peer();
    await peer.handshake();
    const ws = await connection;
    const queue = watchQueue(ws);
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    peer.socket.pause(); // reads nothing more: every pong stays queued on the server
    // 100,000 pings: 13 MB of pongs if nothing capped them.
    for (let sent = 0; sent < 100_000 && ws.readyState === ws.OPEN; sent += 2000) {
      await peer.write(pings(2000, 'x'));
      await sleep(1);
    }
    const code = await Promise.race([closed, sleep(10_000).then(() => -1)]);
    assert.notEqual(code, -1, `the flooding connection was not closed (queue peaked at ${queue.max} bytes, ${h.errors.length} errors)`);
    assert.equal(code, 1006, 'closed after closeTimeout: the peer never read the 1008 close frame');
    assert.ok(h.errors.some((e) => (e as { code?: string }).code === 'ERR_WS_BUFFER_OVERFLOW'), 'reported as a buffer overflow');
    // The cap is checked per pong, so the queue ends at most one frame past it, plus what the socket
    // had already taken in the same write.
    assert.ok(queue.max < cap + 64 * 1024, `queue peaked at ${queue.max} bytes for a cap of ${cap}`);
    peer.socket.resume();
    await h.checkHealthy();
  });
});

void test('§20 a peer that goes silent (never answers a ping) is closed by the heartbeat; a live one stays', T, async () => {
  await withServer({ heartbeat: { interval: 150, timeout: 150 } }, async (h) => {
    const connection = h.nextConnection();
    const peer = await h.peer();
    await peer.handshake();
    const ws = await connection;
    const started = performance.now();
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    peer.socket.pause(); // silent: reads and answers nothing
    const code = await Promise.race([closed, sleep(5000).then(() => -1)]);
    const ms = performance.now() - started;
    assert.notEqual(code, -1, 'the silent peer is still connected after 5 s');
    assert.equal(code, 1006, 'terminated without a close handshake (the peer is not listening)');
    assert.ok(ms >= 150, `closed after ${ms.toFixed(0)} ms, before the peer could have answered`);
    // The bystander (a Parley client, which answers pings) went through the same heartbeats.
    await h.checkHealthy();
  });
});
