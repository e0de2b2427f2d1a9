/**
 * The same protocol cases over both transports a WebSocketServer accepts: a TCP connection
 * upgraded with HTTP/1.1, and an HTTP/2 stream opened with extended CONNECT (RFC 8441 §5:
 * "the WebSocket protocol is then spoken on the stream" — framing, fragmentation, UTF-8 and the
 * close handshake must not change). Frames are built by hand (test/support/frames.ts).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import type { WebSocket } from '../../src/node/index.js';
import { OP, type DecodedFrame } from '../support/frames.js';
import { connectHeaders, h2Peer, h2Session, masked, startH2 } from '../support/h2-peer.js';
import { rawClient, startServer, waitFor, withTimeout } from './helpers.js';

const T = { timeout: 20_000 };

/** A raw client on one transport, and the server-side WebSocket it is connected to. */
interface Peer {
  ws: WebSocket;
  write(bytes: Buffer): void;
  frames: DecodedFrame[];
  /** The server ended its side (TCP FIN or END_STREAM). */
  ended: Promise<void>;
}

async function waitFrames(frames: DecodedFrame[], n: number): Promise<DecodedFrame[]> {
  const deadline = Date.now() + 5000;
  while (frames.length < n) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} frames (got ${frames.length})`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return frames;
}

const transports: Record<string, (t: TestContext) => Promise<Peer>> = {
  async 'HTTP/1.1 over TCP'(t) {
    const s = await startServer(t, { maxPayload: 1 << 20 });
    const seen = waitFor<[WebSocket]>(s.wss, 'connection');
    const raw = await rawClient(t, s.port);
    const [ws] = await seen;
    const ended = new Promise<void>((resolve) => raw.socket.once('end', () => resolve()));
    return { ws, write: (b) => { raw.socket.write(b); }, frames: raw.frames, ended };
  },
  async 'HTTP/2 stream (RFC 8441)'(t) {
    const s = await startH2(t, { maxPayload: 1 << 20 });
    const seen = waitFor<[WebSocket]>(s.wss, 'connection');
    const session = await h2Session(t, s.port);
    const peer = await h2Peer(session, connectHeaders(s.port));
    const [ws] = await seen;
    return { ws, write: (b) => peer.write(b), frames: peer.frames, ended: peer.ended };
  },
};

for (const [name, open] of Object.entries(transports)) {
  void test(`${name}: fragments with a ping between them and a code point split across them make one message`, T, async (t) => {
    const p = await open(t);
    const got = waitFor<[Buffer, boolean]>(p.ws, 'message');
    const o = Buffer.from('ö'); // c3 b6, split between two fragments
    p.write(Buffer.concat([
      masked(OP.TEXT, Buffer.concat([Buffer.from('hello w'), o.subarray(0, 1)]), false),
      masked(OP.PING, 'mid'),
      masked(OP.CONT, Buffer.concat([o.subarray(1), Buffer.from('rld')]), false),
      masked(OP.CONT, ' ✓', true),
    ]));
    const [data, isBinary] = await got;
    assert.equal(isBinary, false);
    assert.equal(String(data), 'hello wörld ✓');
    const [pong] = await waitFrames(p.frames, 1);
    assert.equal(pong!.opcode, OP.PONG);
    assert.equal(Buffer.from(pong!.payload).toString(), 'mid');
  });

  void test(`${name}: a 300 KB binary message in three fragments arrives whole and echoes back unmasked`, T, async (t) => {
    const p = await open(t);
    p.ws.on('message', (data, isBinary) => p.ws.send(data, { binary: isBinary }));
    const body = Buffer.alloc(300_000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
    p.write(Buffer.concat([masked(OP.BINARY, body.subarray(0, 100_000), false), masked(OP.CONT, body.subarray(100_000, 200_000), false), masked(OP.CONT, body.subarray(200_000), true)]));
    const [echo] = await waitFrames(p.frames, 1);
    assert.equal(echo!.opcode, OP.BINARY);
    assert.equal(echo!.masked, false);
    assert.ok(Buffer.from(echo!.payload).equals(body));
  });

  void test(`${name}: invalid UTF-8 fails the connection with 1007 and ends the transport`, T, async (t) => {
    const p = await open(t);
    const closed = waitFor<[number]>(p.ws, 'close', 5000);
    p.write(masked(OP.TEXT, Buffer.from([0x68, 0xc3, 0x28])));
    const [close] = await waitFrames(p.frames, 1);
    assert.equal(close!.opcode, OP.CLOSE);
    assert.equal(Buffer.from(close!.payload).readUInt16BE(0), 1007);
    await withTimeout(p.ended, 5000, 'the end of the transport');
    assert.equal((await closed)[0], 1006, 'the peer never sent its close frame');
  });

  void test(`${name}: an unmasked client frame fails the connection with 1002`, T, async (t) => {
    const p = await open(t);
    p.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
    const [close] = await waitFrames(p.frames, 1);
    assert.equal(close!.opcode, OP.CLOSE);
    assert.equal(Buffer.from(close!.payload).readUInt16BE(0), 1002);
  });

  void test(`${name}: the peer's close frame is echoed, then the server ends the transport`, T, async (t) => {
    const p = await open(t);
    const closed = waitFor<[number, Buffer]>(p.ws, 'close', 5000);
    p.write(masked(OP.CLOSE, Buffer.concat([Buffer.from([0x03, 0xe9]), Buffer.from('going')])));
    const [echo] = await waitFrames(p.frames, 1);
    assert.equal(echo!.opcode, OP.CLOSE);
    assert.equal(Buffer.from(echo!.payload).readUInt16BE(0), 1001);
    await withTimeout(p.ended, 5000, 'the end of the transport');
    const [code, reason] = await closed;
    assert.equal(code, 1001);
    assert.equal(String(reason), 'going');
  });
}
