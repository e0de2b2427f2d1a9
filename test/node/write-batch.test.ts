/**
 * The end-of-turn write batching of src/node/write-batch.ts as a connection uses it: whatever API
 * sends frames to a connection during one turn of the event loop (send of any data type, ping,
 * pong, a prepared message, close), they leave in one socket write, in order, with their
 * callbacks; large payloads are not held; ending, terminating and backpressure still see every
 * frame. Connections run on in-memory sockets that count their writes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { prepareMessage } from '../../src/index.js';
import { OP, encodeFrame, type DecodedFrame } from '../support/frames.js';
import { fakeConnection, framesOf, nextTurn } from './fake-socket.js';

const text = (f: DecodedFrame): string => Buffer.from(f.payload).toString('utf8');

void describe('one write per connection per turn', () => {
  void test('send (every data type), ping, pong and a prepared message in one turn leave in one write, in order', async () => {
    const { ws, writes } = fakeConnection();
    const order: string[] = [];
    ws.send('one', () => order.push('one'));
    ws.send(Buffer.from('two'), () => order.push('two'));
    ws.send(new Uint8Array([0x74, 0x68, 0x72, 0x65, 0x65]), { binary: false }, () => order.push('three'));
    ws.ping('p', false, () => order.push('ping'));
    ws.send(prepareMessage('four'), () => order.push('four'));
    ws.pong('q', false, () => order.push('pong'));
    ws.send(new TextEncoder().encode('five').buffer, { binary: false }, () => order.push('five'));
    assert.equal(writes.length, 0, 'nothing is written during the turn');
    assert.ok(ws.bufferedAmount > 0, 'queued bytes count in bufferedAmount');
    await nextTurn();
    assert.equal(writes.length, 1, `one socket write, got ${writes.length}`);
    const frames = framesOf(writes);
    assert.deepEqual(frames.map((f) => [f.opcode, text(f)]), [
      [OP.TEXT, 'one'], [OP.BINARY, 'two'], [OP.TEXT, 'three'], [OP.PING, 'p'], [OP.TEXT, 'four'], [OP.PONG, 'q'], [OP.TEXT, 'five'],
    ]);
    assert.deepEqual(order, ['one', 'two', 'three', 'ping', 'four', 'pong', 'five'], 'callbacks in order, after the write');
    assert.equal(ws.bufferedAmount, 0);
  });

  void test('replies sent while a chunk is handled leave when the chunk is done, in one write, not at the end of the turn', async () => {
    const { ws, socket, writes } = fakeConnection();
    ws.on('message', (data: Buffer) => {
      ws.send(data);
      ws.send(Buffer.concat([data, Buffer.from('!')]));
    });
    // Runs after the connection's own 'data' listener: the replies must already be written.
    let writtenAfterChunk = -1;
    socket.on('data', () => { writtenAfterChunk = writes.length; });
    socket.push(Buffer.concat([encodeFrame({ opcode: OP.TEXT, payload: 'a', mask: true }), encodeFrame({ opcode: OP.TEXT, payload: 'b', mask: true })]));
    await new Promise<void>((resolve) => { process.nextTick(resolve); });
    assert.equal(writtenAfterChunk, 1, 'one write when the chunk is done');
    await nextTurn();
    assert.equal(writes.length, 1);
    assert.deepEqual(framesOf(writes).map(text), ['a', 'a!', 'b', 'b!']);
  });

  void test('sends in two turns make two writes', async () => {
    const { ws, writes } = fakeConnection();
    ws.send('a');
    ws.send('b');
    await nextTurn();
    ws.send('c');
    await nextTurn();
    assert.equal(writes.length, 2);
    assert.deepEqual(framesOf(writes).map(text), ['a', 'b', 'c']);
  });

  void test('a large payload is not held to the end of the turn: it leaves at once, behind the frames queued before it', async () => {
    const { ws, writes } = fakeConnection({}, 1 << 20);
    const big = Buffer.alloc(64 * 1024, 0x61);
    ws.send('before');
    ws.send(big);
    // The application reuses its Buffer right away; the frame already carries the old bytes.
    big.fill(0x62);
    ws.send('after');
    await nextTurn();
    const frames = framesOf(writes);
    assert.deepEqual(frames.map((f) => f.payload.length), [6, 64 * 1024, 5]);
    assert.equal(text(frames[0]!), 'before');
    assert.ok(Buffer.from(frames[1]!.payload).every((b) => b === 0x61), 'the bytes at the time of send');
    assert.equal(text(frames[2]!), 'after');
    assert.equal(writes.length, 2, 'the queued frame and the large one in one writev, the later one at the end of the turn');
  });

  void test('fragments (fin: false) keep their order and opcodes through the batch', async () => {
    const { ws, writes } = fakeConnection();
    ws.send('ab', { fin: false });
    ws.send(prepareMessage('waits'));
    ws.send('cd', { fin: false });
    ws.send('ef', { fin: true });
    ws.send('next');
    await nextTurn();
    assert.equal(writes.length, 1);
    const frames = framesOf(writes);
    assert.deepEqual(frames.map((f) => [f.opcode, f.fin, text(f)]), [
      [OP.TEXT, false, 'ab'], [OP.CONT, false, 'cd'], [OP.CONT, true, 'ef'], [OP.TEXT, true, 'waits'], [OP.TEXT, true, 'next'],
    ]);
  });

  void test('close in the same turn follows the sends, in the same write', async () => {
    const { ws, writes } = fakeConnection();
    ws.send('last words');
    ws.close(1000, 'bye');
    ws.send('refused', (error) => assert.ok(error instanceof Error));
    await nextTurn();
    assert.equal(writes.length, 1);
    const frames = framesOf(writes);
    assert.deepEqual(frames.map((f) => f.opcode), [OP.TEXT, OP.CLOSE]);
    assert.equal(text(frames[0]!), 'last words');
  });

  void test("the peer's end of stream in the same turn: queued frames are written before our side ends", async () => {
    const { ws, socket, writes } = fakeConnection();
    let finished = false;
    socket.on('finish', () => { finished = true; });
    const results: Array<Error | null | undefined> = [];
    ws.send('queued', (error) => results.push(error));
    socket.push(null);
    await new Promise((resolve) => ws.once('close', resolve));
    assert.ok(finished);
    assert.deepEqual(framesOf(writes).map(text), ['queued']);
    assert.equal(results.length, 1);
    assert.equal(results[0] ?? undefined, undefined, 'written without error');
  });

  void test('terminate() after a send in the same turn hands the frame to the socket first (as ws writes at once)', async () => {
    const { ws, writes } = fakeConnection();
    const results: Array<Error | null | undefined> = [];
    ws.send('goodbye', (error) => results.push(error));
    ws.terminate();
    await new Promise((resolve) => ws.once('close', resolve));
    assert.deepEqual(framesOf(writes).map(text), ['goodbye']);
    assert.equal(results.length, 1, 'the callback is called once');
  });

  void test('frames queued when the socket is destroyed report an error to their callbacks, none is lost', async () => {
    const { ws, socket, writes } = fakeConnection();
    const results: Array<Error | null | undefined> = [];
    ws.send('a', (error) => results.push(error));
    ws.ping('b', false, (error) => results.push(error));
    socket.destroy();
    await new Promise((resolve) => ws.once('close', resolve));
    await nextTurn();
    assert.equal(writes.length, 0);
    assert.equal(results.length, 2);
    for (const error of results) assert.ok(error instanceof Error, 'each callback gets an error');
    assert.equal(ws.bufferedAmount, 0);
  });
});

void describe('backpressure through the batch', () => {
  void test('send returns false once the queued bytes reach the high-water mark, and drain follows the flush', async () => {
    const { ws, writes } = fakeConnection({}, 1024);
    const results: boolean[] = [];
    for (let i = 0; i < 10; i++) results.push(ws.send(Buffer.alloc(200, i)));
    assert.deepEqual(results, [true, true, true, true, true, false, false, false, false, false], '204-byte frames against a mark of 1,024');
    assert.equal(ws.bufferedAmount, 10 * 204, 'a 200-byte payload has a 4-byte header');
    const drained = new Promise((resolve) => ws.once('drain', resolve));
    await drained;
    assert.equal(writes.length, 1);
    assert.equal(framesOf(writes).length, 10);
  });

  void test('maxBufferedAmount counts frames waiting for the flush; refused sends get the error, the rest is sent', async () => {
    const { ws, writes } = fakeConnection({ maxBufferedAmount: 500, bufferOverflow: 'refuse' });
    const errors: Array<string | undefined> = [];
    const accepted: boolean[] = [];
    for (let i = 0; i < 5; i++) accepted.push(ws.send(Buffer.alloc(200, i), (error) => errors.push((error as { code?: string } | null | undefined)?.code)));
    assert.deepEqual(accepted, [true, true, true, false, false]);
    await new Promise((resolve) => ws.once('drain', resolve));
    assert.deepEqual(errors.sort(), ['ERR_WS_BUFFER_OVERFLOW', 'ERR_WS_BUFFER_OVERFLOW', undefined, undefined, undefined]);
    assert.equal(framesOf(writes).length, 3);
  });
});
