/**
 * A peer's protocol errors as `ws` reports them (the drop-in promise, docs/errors.md): the same
 * faulty bytes go to a `ws` server and to a Parley server, and each reports the same `code`,
 * `message`, `RangeError`-ness and close code; Parley's error is a `ProtocolError` and a
 * `ParleyError` too, and is emitted once. Server side (a raw client sends masked frames) and
 * client side (a raw server sends unmasked ones).
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import * as net from 'node:net';
import { Buffer } from 'node:buffer';
import { WebSocket as WsSocket } from 'ws';
import { ParleyError, ProtocolError, WebSocket, type WebSocketServer } from '../../src/index.js';
import { acceptFor, clientFrame, closePayload, frame, upgradeRequest, OP, FIXED_KEY, RawServer } from '../bad-input/raw-peer.js';
import { decodeFrames } from '../support/frames.js';
import { startParley, startWs, type Started } from './helpers.js';

/** Faulty frames from RFC 6455 §5, each with the rule it breaks. */
const FAULTS: ReadonlyArray<{ name: string; frames: Array<Parameters<typeof frame>[0]> }> = [
  { name: 'reserved opcode 5 (§5.2)', frames: [{ opcode: 5, payload: 'x' }] },
  { name: 'reserved control opcode 0xb (§5.2)', frames: [{ opcode: 0xb }] },
  { name: 'RSV2 set (§5.2)', frames: [{ opcode: OP.TEXT, payload: 'a', rsv: 2 }] },
  { name: 'RSV1 without permessage-deflate (§5.2)', frames: [{ opcode: OP.TEXT, payload: 'a', rsv: 4 }] },
  { name: 'continuation with nothing to continue (§5.4)', frames: [{ opcode: OP.CONT, payload: 'a' }] },
  { name: 'new message inside a fragmented one (§5.4)', frames: [{ opcode: OP.TEXT, payload: 'a', fin: false }, { opcode: OP.BINARY, payload: 'b' }] },
  { name: 'fragmented ping (§5.5)', frames: [{ opcode: OP.PING, fin: false }] },
  { name: 'ping over 125 bytes (§5.5)', frames: [{ opcode: OP.PING, payload: new Uint8Array(126) }] },
  { name: 'close with a 1-byte payload (§5.5.1)', frames: [{ opcode: OP.CLOSE, payload: [3] }] },
  { name: 'close code 999 (§7.4)', frames: [{ opcode: OP.CLOSE, payload: closePayload(999) }] },
  { name: 'text that is not UTF-8 (§8.1)', frames: [{ opcode: OP.TEXT, payload: [0xc0, 0x80] }] },
  { name: 'close reason that is not UTF-8 (§8.1)', frames: [{ opcode: OP.CLOSE, payload: closePayload(1000, [0xff]) }] },
];

interface Report {
  errors: Error[];
  /** The status code of the close frame the library sent in answer. */
  closeCode: number;
}

/** Reads from a raw socket until a close frame arrives; returns its status code and cuts the socket. */
async function closeFrameCode(socket: net.Socket): Promise<number> {
  let data = Buffer.alloc(0);
  for (;;) {
    const close = decodeFrames(data).frames.find((f) => f.opcode === OP.CLOSE);
    if (close !== undefined) {
      socket.destroy();
      return close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005;
    }
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    data = Buffer.concat([data, chunk]);
  }
}

/** Sends `bytes` after the handshake to a server-side connection of `s`; resolves with its 'error' events and close code. */
async function serverReport(t: TestContext, s: Started<WebSocketServer> | Started<import('ws').WebSocketServer>, bytes: Buffer[]): Promise<Report> {
  const errors: Error[] = [];
  const closed = new Promise<void>((resolve) => {
    (s.server as import('ws').WebSocketServer).once('connection', (ws: WsSocket) => {
      ws.on('error', (e: Error) => errors.push(e));
      ws.once('close', () => resolve());
    });
  });
  const socket = net.connect(s.port, '127.0.0.1');
  t.after(() => socket.destroy());
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write(upgradeRequest());
  await once(socket, 'data'); // the 101 response
  for (const b of bytes) socket.write(b);
  const closeCode = await closeFrameCode(socket);
  await closed;
  await new Promise((r) => setImmediate(r)); // a second 'error' would come now
  return { errors, closeCode };
}

/** A raw server sends `bytes` to a client of `make`; resolves with the client's 'error' events and close code. */
async function clientReport(t: TestContext, make: (url: string) => EventEmitter, bytes: Buffer[]): Promise<Report> {
  const raw = await RawServer.listen();
  t.after(() => raw.close());
  const client = make(`ws://127.0.0.1:${raw.port}`);
  const errors: Error[] = [];
  client.on('error', (e: Error) => errors.push(e));
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  const peer = await raw.nextPeer();
  const request = (await once(peer.socket, 'data'))[0] as Buffer;
  const key = /sec-websocket-key: *(\S+)/i.exec(request.toString('latin1'))?.[1] ?? FIXED_KEY;
  peer.socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`);
  await new Promise<void>((resolve) => client.once('open', () => resolve()));
  for (const b of bytes) peer.socket.write(b);
  const closeCode = await closeFrameCode(peer.socket);
  await closed;
  await new Promise((r) => setImmediate(r));
  return { errors, closeCode };
}

/** Parley reports what `ws` reports, and as a ProtocolError and a ParleyError. */
function assertSame(parley: Report, ws: Report, what: string): void {
  assert.equal(ws.errors.length, 1, `${what}: ws reports one error`);
  assert.equal(parley.errors.length, 1, `${what}: Parley reports one error, once`);
  const [p, w] = [parley.errors[0]!, ws.errors[0]! as Error & { code?: string }];
  assert.equal((p as { code?: string }).code, w.code, `${what}: code`);
  assert.equal(p.message, w.message, `${what}: message`);
  assert.equal(String(p), String(w), `${what}: String(error)`);
  if (w instanceof RangeError) assert.ok(p instanceof RangeError, `${what}: a RangeError, as in ws`);
  assert.ok(p instanceof ProtocolError && p instanceof ParleyError, `${what}: a ProtocolError and a ParleyError`);
  assert.equal(parley.closeCode, ws.closeCode, `${what}: the close frame's code`);
  assert.equal(p.closeCode, parley.closeCode, `${what}: closeCode is the code sent`);
}

void describe('protocol errors as ws reports them', () => {
  void test('reserved opcode 5: a RangeError with code WS_ERR_INVALID_OPCODE and ws\'s message (ws\'s own test "emits the \'error\' event only once")', async (t) => {
    const s = await startParley(t);
    const { errors } = await serverReport(t, s, [clientFrame({ opcode: 5, payload: 'x' })]);
    assert.equal(errors.length, 1);
    const error = errors[0]!;
    assert.ok(error instanceof RangeError);
    assert.ok(error instanceof ParleyError);
    assert.ok(error instanceof ProtocolError);
    assert.equal(error.code, 'WS_ERR_INVALID_OPCODE');
    assert.equal(error.closeCode, 1002);
    assert.equal(error.message, 'Invalid WebSocket frame: invalid opcode 5');
  });

  for (const fault of FAULTS) {
    void test(`server side, ${fault.name}: the same error as ws`, async (t) => {
      const bytes = fault.frames.map((f) => clientFrame(f));
      const parley = await serverReport(t, await startParley(t), bytes);
      const ws = await serverReport(t, await startWs(t), bytes);
      assertSame(parley, ws, fault.name);
    });

    void test(`client side, ${fault.name}: the same error as ws`, async (t) => {
      const bytes = fault.frames.map((f) => frame(f));
      const parley = await clientReport(t, (url) => new WebSocket(url), bytes);
      const ws = await clientReport(t, (url) => new WsSocket(url), bytes);
      assertSame(parley, ws, fault.name);
    });
  }

  void test('a masked frame at a client and an unmasked one at a server (§5.1): the same errors as ws', async (t) => {
    const unmasked = [frame({ opcode: OP.TEXT, payload: 'a' })];
    assertSame(await serverReport(t, await startParley(t), unmasked), await serverReport(t, await startWs(t), unmasked), 'unmasked at a server');
    const masked = [clientFrame({ opcode: OP.TEXT, payload: 'a' })];
    assertSame(
      await clientReport(t, (url) => new WebSocket(url), masked),
      await clientReport(t, (url) => new WsSocket(url), masked),
      'masked at a client',
    );
  });
});
