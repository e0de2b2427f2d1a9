/**
 * WebSocket: states, sending every data type `ws` accepts, argument checks, the close handshake
 * and its timeout, terminate, pause/resume, binaryType, the WHATWG event API, and the rule that
 * an application handler that throws closes only its own connection with 1011.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClosedError, CloseCode, InvalidStateError, WebSocket, WsCloseEvent, WsMessageEvent, type RawData, type WsEvent } from '../../src/index.js';
import {
  OP,
  acceptByHand,
  buildFrame,
  closeCodeOf,
  collect,
  defer,
  openClient,
  quietFor,
  rawClient,
  rawServer,
  startServer,
  until,
  waitFor,
  type RawFrame,
} from './helpers.js';

/** A server whose connections echo with type, and one open client. */
async function echoPair(t: Parameters<typeof startServer>[0], options: Parameters<typeof startServer>[1] = {}): Promise<{ client: WebSocket; server: WebSocket; url: string }> {
  const { wss, url } = await startServer(t, options);
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const [[server], client] = await Promise.all([waitFor<[WebSocket]>(wss, 'connection'), openClient(t, url)]);
  return { client, server, url };
}

/** A server and one open client, with the server side's received messages collected. */
async function recordingPair(t: Parameters<typeof startServer>[0]): Promise<{ client: WebSocket; server: WebSocket; got: Array<[unknown, boolean]> }> {
  const { wss, url } = await startServer(t);
  const [[server], client] = await Promise.all([waitFor<[WebSocket]>(wss, 'connection'), openClient(t, url)]);
  return { client, server, got: collect(server) };
}

function isInvalidState(e: unknown): boolean {
  return e instanceof InvalidStateError && e.code === 'ERR_WS_INVALID_STATE';
}

void describe('WebSocket states', () => {
  void test('readyState constants on the class and on instances', async (t) => {
    assert.deepEqual([WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED], [0, 1, 2, 3]);
    const { client } = await echoPair(t);
    assert.deepEqual([client.CONNECTING, client.OPEN, client.CLOSING, client.CLOSED], [0, 1, 2, 3]);
  });

  void test('CONNECTING → OPEN → CLOSING → CLOSED, with url and protocol', async (t) => {
    const { url } = await startServer(t);
    const ws = new WebSocket(`${url}/path?x=1`);
    defer(t, () => ws.terminate());
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    assert.equal(ws.url, `${url}/path?x=1`);
    await waitFor(ws, 'open');
    assert.equal(ws.readyState, WebSocket.OPEN);
    assert.equal(ws.protocol, '');
    assert.equal(ws.extensions, '');
    const closed = waitFor<[number]>(ws, 'close');
    ws.close(1000);
    assert.equal(ws.readyState, WebSocket.CLOSING);
    const [code] = await closed;
    assert.equal(code, 1000);
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  void test('close() while CONNECTING reports an error and exactly one close event', async (t) => {
    const { url } = await startServer(t);
    const ws = new WebSocket(url);
    const errors: Error[] = [];
    let closes = 0;
    ws.on('error', (e) => errors.push(e));
    ws.on('close', () => { closes++; });
    ws.close();
    await waitFor(ws, 'close');
    await sleep(100);
    assert.equal(closes, 1);
    assert.equal(errors.length, 1);
    assert.match(errors[0]?.message ?? '', /closed before the connection was established/);
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });
});

void describe('WebSocket send', () => {
  void test('send, ping and pong before open throw InvalidStateError (ERR_WS_INVALID_STATE)', async (t) => {
    const { url } = await startServer(t);
    const ws = new WebSocket(url);
    defer(t, () => ws.terminate());
    assert.throws(() => ws.send('too early'), isInvalidState);
    assert.throws(() => ws.ping(), isInvalidState);
    assert.throws(() => ws.pong(), isInvalidState);
    await waitFor(ws, 'open');
    assert.equal(ws.send('now fine'), true);
  });

  void test('send after close: the callback gets an error, send returns false, bufferedAmount grows as in ws', async (t) => {
    const { client } = await echoPair(t);
    const closed = waitFor(client, 'close');
    client.close();
    const whileClosing = await new Promise<Error | null | undefined>((resolve) => {
      assert.equal(client.send('x', resolve), false);
    });
    // Cut off by the close, not misuse: a ClosedError (ws's plain Error message; code ERR_WS_CLOSED).
    assert.ok(whileClosing instanceof ClosedError && whileClosing.code === 'ERR_WS_CLOSED' && whileClosing.name === 'Error');
    assert.match(whileClosing.message, /CLOSING/);
    await closed;
    const base = client.bufferedAmount;
    const afterClose = await new Promise<Error | null | undefined>((resolve) => {
      assert.equal(client.send('héllo', resolve), false);
    });
    assert.ok(afterClose instanceof ClosedError);
    assert.match(afterClose.message, /CLOSED/);
    // The close code and reason of the close handshake that ended the connection.
    assert.equal(afterClose.closeCode, CloseCode.NoStatus);
    assert.equal(afterClose.reason, '');
    assert.equal(client.bufferedAmount, base + 6);
    client.send(Buffer.alloc(10));
    assert.equal(client.bufferedAmount, base + 16);
  });

  void test('numbers go as text; ArrayBuffer, typed-array views with offsets, DataView and Buffer arrays as binary', async (t) => {
    const { client, got } = await recordingPair(t);
    const backing = new ArrayBuffer(16);
    new Uint8Array(backing).forEach((_, i, a) => { a[i] = i; });
    client.send(42);
    client.send(Uint8Array.of(1, 2, 3).buffer);
    client.send(new Uint16Array(backing, 4, 3));
    client.send(new DataView(backing, 10, 2));
    client.send([Buffer.from('ab'), Buffer.from('cd'), Buffer.from('ef')]);
    client.send(Buffer.from('text from a buffer'), { binary: false });
    client.send(new Float32Array([1.5]));
    await until(() => got.length === 7);
    const shown = got.map(([d, b]) => [(d as Buffer).toString('hex'), b]);
    assert.deepEqual(shown, [
      [Buffer.from('42').toString('hex'), false],
      ['010203', true],
      ['040506070809', true],
      ['0a0b', true],
      [Buffer.from('abcdef').toString('hex'), true],
      [Buffer.from('text from a buffer').toString('hex'), false],
      [Buffer.from(new Float32Array([1.5]).buffer).toString('hex'), true],
    ]);
  });

  void test('a Blob is sent as binary and later sends wait behind it, keeping order', async (t) => {
    const { client, got } = await recordingPair(t);
    const callbacks: string[] = [];
    client.send(new Blob(['blob one']), (e) => callbacks.push(`blob1 ${String(e ?? 'ok')}`));
    client.send('text one');
    client.send(new Blob([Uint8Array.of(9, 8, 7)]));
    client.send('text two', (e) => callbacks.push(`text2 ${String(e ?? 'ok')}`));
    client.send(Buffer.from('buffer three'));
    await until(() => got.length === 5);
    assert.deepEqual(got.map(([d, b]) => [(d as Buffer).toString('latin1'), b]), [
      ['blob one', true],
      ['text one', false],
      ['\x09\x08\x07', true],
      ['text two', false],
      ['buffer three', true],
    ]);
    await until(() => callbacks.length === 2);
    assert.deepEqual(callbacks, ['blob1 ok', 'text2 ok']);
  });

  void test('messages sent before close(), including a pending Blob, reach the peer before the close frame', async (t) => {
    const { client, server, got } = await recordingPair(t);
    const serverClosed = waitFor<[number]>(server, 'close');
    let blobError: Error | null | undefined;
    client.send(new Blob(['last words']), (e) => { blobError = e; });
    client.send('and a postscript');
    client.close(1000);
    const [code] = await serverClosed;
    assert.equal(code, 1000);
    assert.equal(blobError ?? undefined, undefined);
    assert.deepEqual(got.map(([d]) => (d as Buffer).toString()), ['last words', 'and a postscript']);
  });

  void test('server-side sends: large strings and buffers (16-bit and 64-bit lengths) arrive intact', async (t) => {
    const { client, server } = await echoPair(t);
    const got = collect(client);
    const bigText = 'é'.repeat(20_000); // 40,000 bytes, past the copy limit
    const bigBinary = Buffer.alloc(70_000);
    for (let i = 0; i < bigBinary.length; i++) bigBinary[i] = i % 251;
    server.send(bigText);
    server.send(bigBinary);
    server.send(new Uint16Array(bigBinary.buffer, bigBinary.byteOffset + 2, 4));
    await until(() => got.length === 3);
    assert.equal((got[0]?.[0] as Buffer).toString(), bigText);
    assert.equal(got[0]?.[1], false);
    assert.ok((got[1]?.[0] as Buffer).equals(bigBinary));
    assert.ok((got[2]?.[0] as Buffer).equals(bigBinary.subarray(2, 10)));
  });

  void test('fin: false sends fragments that arrive as one message', async (t) => {
    const { client, got } = await recordingPair(t);
    client.send('frag', { fin: false });
    client.send('ment', { fin: false });
    client.send('ed', { fin: true });
    client.send(Buffer.from([1]), { fin: false });
    client.send(Buffer.from([2]));
    await until(() => got.length === 2);
    assert.equal((got[0]?.[0] as Buffer).toString(), 'fragmented');
    assert.equal(got[0]?.[1], false);
    assert.ok((got[1]?.[0] as Buffer).equals(Buffer.from([1, 2])));
    assert.equal(got[1]?.[1], true);
  });

  void test('data of another type (a plain object, null) → TypeError, and the connection still works', async (t) => {
    const { client, got } = await recordingPair(t);
    assert.throws(() => client.send({ hello: 'world' } as unknown as string), TypeError);
    assert.throws(() => client.send(null as unknown as string), TypeError);
    assert.throws(() => client.send([1, 2] as unknown as Buffer[]), TypeError);
    client.send('after the bad ones');
    await until(() => got.length === 1);
    assert.equal((got[0]?.[0] as Buffer).toString(), 'after the bad ones');
  });

  void test('a refused send with fin: false leaves no fragmented message open', async (t) => {
    const { client, got } = await recordingPair(t);
    assert.throws(() => client.send({} as unknown as string, { fin: false }), TypeError);
    const closed = waitFor<[number]>(client, 'close', 1000).then(([code]) => code, () => 'still open');
    client.send('whole message');
    await until(() => got.length === 1, 1000, 'the message').catch(() => {});
    assert.equal((got[0]?.[0] as Buffer | undefined)?.toString(), 'whole message');
    assert.equal(client.readyState, WebSocket.OPEN);
    client.close();
    assert.equal(await closed, 1005);
  });

  void test('invalid data behind a pending Blob → TypeError from send, not an unhandled rejection', async (t) => {
    const { client } = await recordingPair(t);
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => { rejections.push(reason); };
    process.on('unhandledRejection', onRejection);
    defer(t, () => process.removeListener('unhandledRejection', onRejection));
    client.send(new Blob(['pending']));
    let thrown: unknown;
    try {
      client.send({ not: 'data' } as unknown as string);
    } catch (error) {
      thrown = error;
    }
    await sleep(100);
    assert.deepEqual(rejections, []);
    assert.ok(thrown instanceof TypeError);
  });

  void test('ping/pong: up to 125 bytes, auto-pong answers, >125 bytes → RangeError', async (t) => {
    const { client, server } = await echoPair(t);
    const serverPing = waitFor<[Buffer]>(server, 'ping');
    const clientPong = waitFor<[Buffer]>(client, 'pong');
    const payload = Buffer.alloc(125, 0x61);
    client.ping(payload);
    const [[pinged], [ponged]] = await Promise.all([serverPing, clientPong]);
    assert.ok(pinged.equals(payload));
    assert.ok(ponged.equals(payload));
    assert.throws(() => client.ping(Buffer.alloc(126)), RangeError);
    assert.throws(() => client.pong('x'.repeat(126)), RangeError);
    const unsolicited = waitFor<[Buffer]>(server, 'pong');
    client.pong('beat');
    const [data] = await unsolicited;
    assert.equal(data.toString(), 'beat');
  });
});

void describe('WebSocket close', () => {
  void test('invalid code → TypeError, reason over 123 bytes → SyntaxError; the connection stays open', async (t) => {
    const { client, server } = await echoPair(t);
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 2999, 5000, Number.NaN]) {
      assert.throws(() => client.close(code), TypeError, `code ${code}`);
    }
    assert.throws(() => client.close('1000' as unknown as number), TypeError);
    assert.throws(() => client.close(1000, 'é'.repeat(62)), SyntaxError); // 124 bytes
    assert.throws(() => client.close(1000, 'a'.repeat(124)), SyntaxError);
    assert.equal(client.readyState, WebSocket.OPEN);
    const reply = waitFor<[Buffer]>(client, 'message');
    client.send('still open');
    assert.equal((await reply)[0].toString(), 'still open');
    const closed = waitFor<[number, Buffer]>(server, 'close');
    client.close(1000, 'a'.repeat(123));
    const [code, reason] = await closed;
    assert.equal(code, 1000);
    assert.equal(reason.length, 123);
  });

  void test('close(1000.5) is an invalid code: TypeError, and the connection stays open', async (t) => {
    const { client } = await echoPair(t);
    assert.throws(() => client.close(1000.5), TypeError);
    assert.equal(client.readyState, WebSocket.OPEN);
  });

  void test('close(undefined, reason) does not leave the connection stuck in CLOSING', async (t) => {
    const { client } = await echoPair(t);
    const closed = waitFor<[number]>(client, 'close', 1000).then(([code]) => code, () => 'no close event');
    let thrown: unknown;
    try {
      client.close(undefined, 'bye');
    } catch (error) {
      thrown = error;
    }
    if (thrown !== undefined) client.close();
    assert.equal(await closed, 1005);
    assert.equal(thrown, undefined);
  });

  void test('a clean close handshake: code and reason on both sides, wasClean on the WHATWG event', async (t) => {
    const { client, server } = await echoPair(t);
    const serverClosed = waitFor<[number, Buffer]>(server, 'close');
    const events: WsCloseEvent[] = [];
    client.onclose = (event: WsEvent) => { events.push(event as WsCloseEvent); };
    const clientClosed = waitFor<[number, Buffer]>(client, 'close');
    client.close(4001, 'see you');
    const [[sCode, sReason], [cCode, cReason]] = await Promise.all([serverClosed, clientClosed]);
    // The server's answering close frame echoes the code and the reason, as ws does.
    assert.deepEqual([sCode, sReason.toString(), cCode, cReason.toString()], [4001, 'see you', 4001, 'see you']);
    assert.equal(events.length, 1);
    assert.ok(events[0] instanceof WsCloseEvent);
    assert.equal(events[0].code, 4001);
    assert.equal(events[0].reason, 'see you');
    assert.equal(events[0].wasClean, true);
  });

  void test('a close frame without a code is reported as 1005', async (t) => {
    const { client, server } = await echoPair(t);
    const closed = waitFor<[number, Buffer]>(client, 'close');
    server.close();
    const [code, reason] = await closed;
    assert.equal(code, 1005);
    assert.equal(reason.length, 0);
  });

  void test('closeTimeout (server): a raw peer that never answers the close frame is cut off with 1006', async (t) => {
    const { port, conns } = await startServer(t, { closeTimeout: 200 });
    const peer = await rawClient(t, port);
    await until(() => conns.size === 1);
    const [server] = [...conns];
    assert.ok(server !== undefined);
    const closed = waitFor<[number]>(server, 'close', 3000);
    const started = performance.now();
    server.close(1000, 'bye');
    const [code] = await closed;
    const elapsed = performance.now() - started;
    assert.equal(code, 1006);
    assert.ok(elapsed >= 150 && elapsed < 2000, `cut off after ${elapsed} ms`);
    const frame = peer.frames.find((f) => f.opcode === OP.CLOSE);
    assert.ok(frame !== undefined, 'the peer got the close frame');
    assert.equal(frame.masked, false);
    assert.equal(closeCodeOf(frame), 1000);
    assert.equal(frame.payload.subarray(2).toString(), 'bye');
    await peer.closed;
  });

  void test('closeTimeout (client): a raw server that never answers the close frame is cut off with 1006', async (t) => {
    let received: RawFrame[] = [];
    const { port } = await rawServer(t, (socket) => acceptByHand(socket, (frames) => { received = frames; }));
    const ws = await openClient(t, `ws://127.0.0.1:${port}`, undefined, { closeTimeout: 200 });
    const closed = waitFor<[number]>(ws, 'close', 3000);
    const started = performance.now();
    ws.close(1000);
    const [code] = await closed;
    const elapsed = performance.now() - started;
    assert.equal(code, 1006);
    assert.ok(elapsed >= 150 && elapsed < 2000, `cut off after ${elapsed} ms`);
    const frame = received.find((f) => f.opcode === OP.CLOSE);
    assert.ok(frame !== undefined);
    assert.equal(frame.masked, true);
    assert.equal(closeCodeOf(frame), 1000);
  });

  void test('the close frame of a raw peer is echoed and the connection ends cleanly', async (t) => {
    const { port, conns } = await startServer(t);
    const peer = await rawClient(t, port);
    await until(() => conns.size === 1);
    const [server] = [...conns];
    const closed = waitFor<[number, Buffer]>(server!, 'close');
    const payload = Buffer.from([0x0f, 0xa1, 0x68, 0x69]); // 4001 'hi'
    peer.socket.write(buildFrame(OP.CLOSE, payload));
    const [code, reason] = await closed;
    assert.equal(code, 4001);
    assert.equal(reason.toString(), 'hi');
    await peer.closed;
    const echoed = peer.frames.find((f) => f.opcode === OP.CLOSE);
    assert.ok(echoed !== undefined);
    assert.equal(closeCodeOf(echoed), 4001);
  });

  void test('terminate(): CLOSING at once, then close 1006 on both sides', async (t) => {
    const { client, server } = await echoPair(t);
    const serverClosed = waitFor<[number]>(server, 'close');
    const clientClosed = waitFor<[number]>(client, 'close');
    client.terminate();
    assert.equal(client.readyState, WebSocket.CLOSING);
    const [[s], [c]] = await Promise.all([serverClosed, clientClosed]);
    assert.equal(s, 1006);
    assert.equal(c, 1006);
    assert.equal(client.readyState, WebSocket.CLOSED);
  });
});

void describe('WebSocket reading', () => {
  void test('pause() stops message delivery and resume() restarts it, in order', async (t) => {
    const { wss, url } = await startServer(t);
    const got: string[] = [];
    const connected = new Promise<WebSocket>((resolve) => wss.once('connection', (ws) => {
      ws.pause();
      ws.on('message', (data) => got.push((data as Buffer).toString()));
      resolve(ws);
    }));
    const client = await openClient(t, url);
    const server = await connected;
    assert.equal(server.isPaused, true);
    client.send('one');
    client.send('two');
    client.send('three');
    assert.equal(await quietFor(server, 'message', 150), true);
    assert.deepEqual(got, []);
    server.resume();
    assert.equal(server.isPaused, false);
    await until(() => got.length === 3);
    assert.deepEqual(got, ['one', 'two', 'three']);
  });

  void test('binaryType: nodebuffer (default), arraybuffer, fragments, blob; other values are ignored', async (t) => {
    const { client } = await echoPair(t);
    const bytes = Uint8Array.of(1, 2, 250);
    const next = async (): Promise<[RawData | Blob, boolean]> => {
      const reply = waitFor<[RawData | Blob, boolean]>(client, 'message');
      client.send(bytes);
      return reply;
    };
    assert.equal(client.binaryType, 'nodebuffer');
    const [asBuffer, isBinary] = await next();
    assert.equal(isBinary, true);
    assert.ok(Buffer.isBuffer(asBuffer));
    assert.deepEqual([...asBuffer], [1, 2, 250]);

    client.binaryType = 'arraybuffer';
    const [asArrayBuffer] = await next();
    assert.ok(asArrayBuffer instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(asArrayBuffer)], [1, 2, 250]);

    client.binaryType = 'fragments';
    const [asFragments] = await next();
    assert.ok(Array.isArray(asFragments));
    assert.deepEqual([...Buffer.concat(asFragments)], [1, 2, 250]);

    client.binaryType = 'blob';
    const [asBlob] = await next();
    assert.ok(asBlob instanceof Blob);
    assert.deepEqual([...new Uint8Array(await asBlob.arrayBuffer())], [1, 2, 250]);

    client.binaryType = 'bogus' as 'blob';
    assert.equal(client.binaryType, 'blob');
    const reply = waitFor<[RawData, boolean]>(client, 'message');
    client.send('text is not affected');
    const [text, textIsBinary] = await reply;
    assert.equal(textIsBinary, false);
    assert.ok(Buffer.isBuffer(text));
  });
});

void describe('WebSocket as an EventEmitter', () => {
  void test('event names that are Object.prototype members or __proto__ are ordinary events', async (t) => {
    const { client } = await echoPair(t);
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
    for (const name of names) assert.equal(client.listenerCount(name), 0, name);
    assert.deepEqual(client.eventNames().filter((n) => names.includes(n as string)), []);
    const calls: string[] = [];
    const listeners = names.map((name) => (value: string): void => { calls.push(`${name}:${value}`); });
    names.forEach((name, i) => client.on(name, listeners[i]!));
    for (const name of names) assert.equal(client.emit(name, 'x'), true, name);
    assert.deepEqual(calls, names.map((name) => `${name}:x`));
    names.forEach((name, i) => client.off(name, listeners[i]!));
    for (const name of names) assert.equal(client.emit(name, 'y'), false, name);
    assert.equal(calls.length, names.length);
    // The connection's own events still flow after all that.
    const echoed = waitFor<[Buffer, boolean]>(client, 'message');
    client.send('still here');
    const [data] = await echoed;
    assert.equal(String(data), 'still here');
  });
});

void describe('WebSocket fields', () => {
  void test("a connection holds `data` and twelve symbol-keyed fields beyond EventEmitter's; none has a public name", () => {
    // Each field costs 8 bytes on every connection (docs/benchmarks.md): adding one is a decision.
    const emitter = new Set(Reflect.ownKeys(new EventEmitter({ captureRejections: true })));
    for (const ws of [new WebSocket(null), new WebSocket('ws://127.0.0.1:1/', { handshakeTimeout: 1 })]) {
      ws.on('error', () => {});
      const own = Reflect.ownKeys(ws).filter((key) => !emitter.has(key));
      assert.deepEqual(own.filter((key) => typeof key === 'string'), ['data']);
      assert.equal(own.filter((key) => typeof key === 'symbol').length, 12);
      ws.terminate();
    }
  });
});

void describe('WHATWG event API', () => {
  void test('addEventListener: message events carry strings for text and follow binaryType for binary', async (t) => {
    const { client } = await echoPair(t);
    const events: WsMessageEvent[] = [];
    client.addEventListener('message', (e) => { events.push(e); });
    client.binaryType = 'arraybuffer';
    client.send('text');
    client.send(Uint8Array.of(7));
    await until(() => events.length === 2);
    assert.equal(events[0]?.data, 'text');
    assert.equal(events[0]?.type, 'message');
    assert.equal(events[0]?.target, client);
    assert.ok(events[1]?.data instanceof ArrayBuffer);
  });

  void test('once, duplicates and removeEventListener follow the DOM rules', async (t) => {
    const { client } = await echoPair(t);
    const calls: string[] = [];
    const onceListener = (e: WsEvent): void => { calls.push(`once ${String((e as WsMessageEvent).data)}`); };
    const always = (e: WsEvent): void => { calls.push(`always ${String((e as WsMessageEvent).data)}`); };
    const removed = (): void => { calls.push('removed'); };
    const onceRemoved = (): void => { calls.push('once-removed'); };
    const handler = { handleEvent: (e: WsEvent): void => { calls.push(`handler ${String((e as WsMessageEvent).data)}`); } };
    client.addEventListener('message', onceListener, { once: true });
    client.addEventListener('message', always);
    client.addEventListener('message', always); // duplicate: ignored
    client.addEventListener('message', handler);
    client.addEventListener('message', removed);
    client.removeEventListener('message', removed);
    client.addEventListener('message', onceRemoved, { once: true });
    client.removeEventListener('message', onceRemoved);
    client.addEventListener('no-such-event', always);
    client.send('a');
    await until(() => calls.length >= 3);
    client.send('b');
    await until(() => calls.length >= 5);
    await sleep(20);
    assert.deepEqual(calls, ['once a', 'always a', 'handler a', 'always b', 'handler b']);
  });

  void test('a listener added with once and again without it is a duplicate and runs once', async (t) => {
    const { client } = await echoPair(t);
    let n = 0;
    const f = (): void => { n++; };
    client.addEventListener('message', f, { once: true });
    client.addEventListener('message', f);
    const done = waitFor(client, 'message');
    client.send('x');
    await done;
    client.send('y');
    await waitFor(client, 'message');
    assert.equal(n, 1);
  });

  void test('onmessage: setting replaces the previous handler, the getter returns it, null removes it', async (t) => {
    const { client } = await echoPair(t);
    const calls: string[] = [];
    const first = (e: WsEvent): void => { calls.push(`first ${String((e as WsMessageEvent).data)}`); };
    const second = (e: WsEvent): void => { calls.push(`second ${String((e as WsMessageEvent).data)}`); };
    const listener = (e: WsEvent): void => { calls.push(`listener ${String((e as WsMessageEvent).data)}`); };
    assert.equal(client.onmessage, null);
    client.onmessage = first;
    client.addEventListener('message', listener);
    client.onmessage = second;
    assert.equal(client.onmessage, second);
    client.removeEventListener('message', second); // attribute handlers are not removed this way
    client.send('1');
    await until(() => calls.length === 2);
    client.onmessage = null;
    assert.equal(client.onmessage, null);
    client.send('2');
    await until(() => calls.length === 3);
    await sleep(20);
    // Replacing the attribute moves it behind other listeners, as in ws 8 (the DOM keeps its place).
    assert.deepEqual(calls, ['listener 1', 'second 1', 'listener 2']);
  });

  void test('onopen and onerror attributes fire with event objects', async (t) => {
    const { url } = await startServer(t, { verifyClient: () => false });
    const failing = new WebSocket(url);
    defer(t, () => failing.terminate());
    const seen: string[] = [];
    failing.onopen = () => { seen.push('open'); };
    failing.onerror = (e: WsEvent) => { seen.push(`${e.type}: ${(e as { message?: string }).message ?? ''}`); };
    await waitFor(failing, 'close');
    assert.equal(seen.length, 1);
    assert.match(seen[0] ?? '', /^error: .*401/);
  });
});

void describe('application errors', () => {
  void test("a throwing 'message' handler closes only that connection with 1011; others keep working", async (t) => {
    const { wss, url } = await startServer(t);
    const serverErrors: unknown[] = [];
    wss.on('connection', (ws) => {
      ws.on('error', (e) => serverErrors.push(e));
      ws.on('message', (data, isBinary) => {
        if ((data as Buffer).toString() === 'boom') throw new Error('handler bug');
        ws.send(data, { binary: isBinary });
      });
    });
    const victim = await openClient(t, url);
    const bystander = await openClient(t, url);
    const victimClosed = waitFor<[number]>(victim, 'close');
    victim.send('boom');
    const [code] = await victimClosed;
    assert.equal(code, 1011);
    assert.equal((serverErrors[0] as Error | undefined)?.message, 'handler bug');
    const reply = waitFor<[Buffer]>(bystander, 'message');
    bystander.send('are you there?');
    assert.equal((await reply)[0].toString(), 'are you there?');
    assert.equal(bystander.readyState, WebSocket.OPEN);
  });

  void test("an async 'message' handler that rejects does the same", async (t) => {
    const { wss, url } = await startServer(t);
    wss.on('connection', (ws) => {
      // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the rejected promise is what is tested
      ws.on('message', async (data, isBinary) => {
        await sleep(1);
        if ((data as Buffer).toString() === 'boom') throw new Error('async handler bug');
        ws.send(data, { binary: isBinary });
      });
    });
    const victim = await openClient(t, url);
    const bystander = await openClient(t, url);
    const victimClosed = waitFor<[number]>(victim, 'close');
    victim.send('boom');
    const [code] = await victimClosed;
    assert.equal(code, 1011);
    const reply = waitFor<[Buffer]>(bystander, 'message');
    bystander.send('still fine');
    assert.equal((await reply)[0].toString(), 'still fine');
  });

  void test("a throwing client-side 'message' handler closes the client with 1011 (seen by the server)", async (t) => {
    const { client, server } = await echoPair(t);
    client.on('message', () => { throw new Error('client handler bug'); });
    const serverClosed = waitFor<[number]>(server, 'close');
    server.send('trigger');
    const [code] = await serverClosed;
    assert.equal(code, 1011);
  });
});

/**
 * What programs written for ws rely on in the WebSocket class, found by running ws's own
 * public-API tests against Parley (docs/api.md, "Differences from ws").
 */
void describe('WebSocket as ws has it', () => {
  const STATES = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;

  void test('ready-state constants are enumerable read-only data properties of the class and the prototype (WebIDL)', async () => {
    const { WebSocket: NodeWebSocket } = await import('../../src/node/index.js');
    for (const cls of [WebSocket, NodeWebSocket]) {
      for (const [name, value] of Object.entries(STATES)) {
        const expected = { value, enumerable: true, writable: false, configurable: false };
        assert.deepEqual(Object.getOwnPropertyDescriptor(cls, name), expected, `${cls.name}.${name}`);
        assert.deepEqual(Object.getOwnPropertyDescriptor(cls.prototype, name), expected, `prototype.${name}`);
      }
    }
  });

  void test('attributes are enumerable, configurable accessors of the prototype; setters only where writable', () => {
    const writable = new Set(['binaryType', 'onclose', 'onerror', 'onmessage', 'onopen']);
    for (const name of ['binaryType', 'bufferedAmount', 'extensions', 'isPaused', 'protocol', 'readyState', 'url', 'onclose', 'onerror', 'onmessage', 'onopen']) {
      const d = Object.getOwnPropertyDescriptor(WebSocket.prototype, name);
      assert.ok(d !== undefined, name);
      assert.equal(d.enumerable, true, name);
      assert.equal(d.configurable, true, name);
      assert.equal(typeof d.get, 'function', name);
      assert.equal(d.set !== undefined, writable.has(name), name);
    }
  });

  void test("misuse while CONNECTING prints as ws's plain Error ('Error: …'), still an InvalidStateError", () => {
    const ws = new WebSocket('ws://127.0.0.1:1');
    ws.on('error', () => undefined);
    for (const call of [() => ws.send('x'), () => ws.ping(), () => ws.pong()]) {
      assert.throws(call, (e: unknown) => e instanceof InvalidStateError && String(e) === 'Error: WebSocket is not open: readyState 0 (CONNECTING)');
    }
    ws.terminate();
  });

  void test("_socket is the connection's socket; _closeTimer runs from close() with closeTimeout", async (t) => {
    const { wss, url } = await startServer(t);
    const connected = waitFor<[WebSocket]>(wss, 'connection');
    const ws = await openClient(t, url, undefined, { closeTimeout: 1234 });
    const [server] = await connected;
    assert.ok(ws._socket !== null && typeof (ws._socket as { remoteAddress?: unknown }).remoteAddress === 'string');
    assert.equal((server._socket as { remotePort?: unknown }).remotePort, (ws._socket as { localPort?: unknown }).localPort);
    assert.equal(Object.keys(ws).includes('_socket'), false, 'not enumerable');
    assert.equal(ws._closeTimer, null);
    ws.close();
    assert.equal((ws._closeTimer as unknown as { _idleTimeout: number })._idleTimeout, 1234);
    await waitFor(ws, 'close');
  });

  void test("a failed handshake emits 'error' while CLOSING, then 'close' 1006; terminate() from the listener is harmless", async (t) => {
    const { port } = await rawServer(t, (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    const states: number[] = [];
    ws.on('error', () => {
      states.push(ws.readyState);
      ws.terminate();
      ws.close();
    });
    const [code] = await waitFor<[number]>(ws, 'close');
    assert.deepEqual(states, [WebSocket.CLOSING]);
    assert.equal(code, 1006);
  });

  void test('close() hands its frame to the socket at once: bufferedAmount is 0 after it, and later pings fail in ws\'s words', async (t) => {
    const { wss, url } = await startServer(t);
    const connected = waitFor<[WebSocket]>(wss, 'connection');
    await openClient(t, url);
    const [server] = await connected;
    server.close();
    // Without the flush in close(), the close frame waited for the end of the turn and counted here.
    assert.equal(server.bufferedAmount, 0);
    const [error] = await new Promise<[Error | undefined]>((resolve) => server.ping('hi', (e) => resolve([e ?? undefined])));
    assert.equal(error?.message, 'WebSocket is not open: readyState 2 (CLOSING)');
    assert.equal(server.bufferedAmount, 2);
  });

  void test('ping and pong take a Blob; after close they (and sends) grow bufferedAmount by its size, as ws', async (t) => {
    const { wss, url } = await startServer(t);
    const connected = waitFor<[WebSocket]>(wss, 'connection');
    const ws = await openClient(t, url);
    const [server] = await connected;
    const pinged = waitFor<[Buffer]>(server, 'ping');
    ws.ping(new Blob(['hi']));
    assert.equal((await pinged)[0].toString(), 'hi');
    assert.throws(() => ws.ping(new Blob([Buffer.alloc(126)])), RangeError);
    ws.close();
    assert.equal(ws.readyState, WebSocket.CLOSING);
    const before = ws.bufferedAmount;
    ws.ping(new Blob(['abc']));
    ws.pong('de');
    assert.equal(ws.bufferedAmount, before + 5);
    await waitFor(ws, 'close');
    ws.send(new Blob(['fghi']));
    // The close frame itself has left (it was counted in \`before\` while it waited for the end of
    // the turn): what remains is what was sent after close().
    assert.equal(ws.bufferedAmount, 9);
  });

  void test('sends waiting on compression when the socket goes: their callbacks learn it while CLOSING', async (t) => {
    const { url } = await startServer(t, { perMessageDeflate: true });
    const ws = await openClient(t, url, undefined, { perMessageDeflate: { threshold: 0 } });
    const seen: Array<[string, number]> = [];
    ws.send('hi', (e) => seen.push([e?.message ?? 'no error', ws.readyState]));
    ws.send('there', (e) => seen.push([e?.message ?? 'no error', ws.readyState]));
    ws.terminate();
    await waitFor(ws, 'close');
    await until(() => seen.length === 2);
    assert.deepEqual(seen, [
      ['The socket was closed while data was being compressed', WebSocket.CLOSING],
      ['The socket was closed while data was being compressed', WebSocket.CLOSING],
    ]);
  });

  void test("a Blob that cannot be read fails the connection: its callback and 'error' get the read error", async (t) => {
    const fs = await import('node:fs');
    if (typeof fs.openAsBlob !== 'function') return t.skip('fs.openAsBlob needs Node 19.8+');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-blob-'));
    defer(t, () => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'b.txt');
    fs.writeFileSync(file, 'x'.repeat(64));
    const blob = await fs.openAsBlob(file);
    fs.writeFileSync(file, 'x'.repeat(32)); // the file changed under the Blob: reading it fails
    const { url } = await startServer(t);
    const ws = await openClient(t, url);
    const failed = waitFor<[Error]>(ws, 'error');
    const closed = waitFor<[number]>(ws, 'close');
    let callbackError: Error | null | undefined;
    ws.send(blob, (e) => { callbackError = e; });
    const [error] = await failed;
    assert.equal(error.name, 'NotReadableError');
    assert.equal(callbackError, error);
    assert.equal(ws.readyState, WebSocket.CLOSING);
    await closed;
  });
});
