/**
 * Fuzzing the Node layer's receive path end to end (src/node/websocket.ts with the Receiver and
 * the deflate codec): a server-side `WebSocket` attached to an in-memory socket gets a random
 * valid client stream (text and binary messages, compressed or not with and without context
 * takeover, fragmented at random byte positions, pings in between, then a close frame) in random
 * chunks, some separated by event-loop turns so that they land while a message is inflating. It
 * must deliver every message once, in wire order, with the right type and bytes, answer every
 * ping with a pong carrying the same payload in order, echo the close, and report no error.
 */
import fc from 'fast-check';
import { Buffer } from 'node:buffer';
import { Duplex } from 'node:stream';
import * as zlib from 'node:zlib';
import { WebSocket } from '../../../src/node/websocket.js';
import { kAttach, kSetNegotiated } from '../../../src/node/internal.js';
import { resolveSettings } from '../../../src/node/settings.js';
import { resolvePerMessageDeflate } from '../../../src/node/deflate-options.js';
import { drainDeflatePool } from '../../../src/node/zlib-pool.js';
import { concatBytes, pattern, show } from './documented.js';
import { defineProperty, type FuzzProperty } from '../property.js';
import { decodeFrames, encodeFrame } from '../../support/frames.js';

const SYNC = zlib.constants.Z_SYNC_FLUSH;

/** A masked client frame, encoded by the tests' own encoder. */
function clientFrame(opcode: number, payload: Uint8Array, fin: boolean, rsv1: boolean, keySeed: number): Buffer {
  return encodeFrame({ opcode, payload, fin, rsv: rsv1 ? 4 : 0, mask: pattern(4, keySeed) });
}

/** Frames the server writes (unmasked): opcode and payload. */
function serverFrames(bytes: Buffer): Array<{ opcode: number; payload: Buffer }> {
  return decodeFrames(bytes).frames;
}

const enc = new TextEncoder();
const messageArb = fc.record({
  binary: fc.boolean(),
  body: fc.oneof(
    { arbitrary: fc.string({ unit: 'binary', maxLength: 60 }).map((s) => enc.encode(s)), weight: 5 },
    { arbitrary: fc.record({ s: fc.string({ minLength: 1, maxLength: 10 }), n: fc.integer({ min: 100, max: 100_000 }) }).map(({ s, n }) => enc.encode(s.repeat(Math.ceil(n / s.length)))), weight: 2 },
  ),
  compress: fc.boolean(),
  cuts: fc.array(fc.nat(), { maxLength: 4 }),
  pings: fc.array(fc.option(fc.uint8Array({ maxLength: 20 }), { freq: 3 }), { maxLength: 4 }),
});
const streamArb = fc.record({
  deflate: fc.option(fc.record({ noContext: fc.boolean(), windowBits: fc.integer({ min: 9, max: 15 }) }), { freq: 4 }),
  messages: fc.array(messageArb, { minLength: 1, maxLength: 8 }),
  chunks: fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 10 }),
  /** After which pushes to yield to the event loop (so chunks arrive mid-inflation). */
  yields: fc.array(fc.boolean(), { minLength: 1, maxLength: 10 }),
  keySeed: fc.integer(),
});

async function check(s: typeof streamArb extends fc.Arbitrary<infer T> ? T : never): Promise<void> {
  drainDeflatePool();
  // The client's compressor: an independent zlib stream, reset per message without context takeover.
  const deflater = s.deflate === null ? undefined : zlib.createDeflateRaw({ windowBits: s.deflate.windowBits });
  const chunksOut: Buffer[] = [];
  deflater?.on('data', (c: Buffer) => chunksOut.push(c));
  const compress = (data: Uint8Array): Promise<Buffer> => new Promise((resolve) => {
    deflater!.write(data);
    deflater!.flush(SYNC, () => {
      const out = Buffer.concat(chunksOut.splice(0));
      if (s.deflate!.noContext) deflater!.reset();
      resolve(out.subarray(0, out.length - 4));
    });
  });

  // Build the client's byte stream and what the server must report.
  const frames: Buffer[] = [];
  const expectedPings: Buffer[] = [];
  let k = s.keySeed;
  for (const m of s.messages) {
    const compressed = s.deflate !== null && m.compress;
    const wire = compressed ? await compress(m.body) : m.body;
    const points = [...new Set(m.cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
    const bounds = [0, ...points, wire.length];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const last = i + 2 === bounds.length;
      frames.push(clientFrame(i === 0 ? (m.binary ? 2 : 1) : 0, wire.subarray(bounds[i], bounds[i + 1]), last, i === 0 && compressed, k++));
      const ping = m.pings[i];
      if (!last && ping !== undefined && ping !== null) {
        frames.push(clientFrame(9, ping, true, false, k++));
        expectedPings.push(Buffer.from(ping));
      }
    }
  }
  frames.push(clientFrame(8, Uint8Array.of(0x03, 0xe8), true, false, k++));
  deflater?.destroy();
  const stream = concatBytes(frames);

  // A server-side connection on an in-memory socket.
  const written: Buffer[] = [];
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, cb) {
      written.push(Buffer.from(chunk));
      cb();
    },
  });
  const ws = new WebSocket(null);
  const setup = s.deflate === null ? undefined : {
    params: { serverNoContextTakeover: false, clientNoContextTakeover: s.deflate.noContext, serverMaxWindowBits: 15, clientMaxWindowBits: s.deflate.windowBits },
    settings: resolvePerMessageDeflate(true)!,
  };
  ws[kSetNegotiated]('', setup === undefined ? '' : 'permessage-deflate', setup);
  const got: Array<{ data: string; binary: boolean }> = [];
  const errors: string[] = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => got.push({ data: show(data), binary: isBinary }));
  ws.on('error', (e: Error) => errors.push(e.message));
  const closed = new Promise<number>((resolve) => ws.on('close', (code: number) => resolve(code)));
  ws[kAttach](socket, Buffer.alloc(0), resolveSettings({ closeTimeout: 2000 }));

  let at = 0;
  let n = 0;
  while (at < stream.length) {
    const size = s.chunks[n % s.chunks.length]!;
    socket.push(Buffer.from(stream.subarray(at, at + size)));
    at += size;
    if (s.yields[n % s.yields.length]!) await new Promise((r) => setImmediate(r));
    n++;
  }
  socket.push(null);
  const code = await Promise.race([closed, new Promise<string>((r) => setTimeout(() => r('timeout'), 10_000))]);

  const expected = s.messages.map((m) => ({ data: show(m.body), binary: m.binary }));
  const what = `${s.messages.length} messages (deflate ${JSON.stringify(s.deflate)}), ${stream.length} bytes in chunks ${JSON.stringify(s.chunks)}`;
  if (errors.length > 0) throw new Error(`${what}: error ${errors.join('; ')}`);
  if (JSON.stringify(got) !== JSON.stringify(expected)) throw new Error(`${what}: delivered ${JSON.stringify(got)}, sent ${JSON.stringify(expected)}`);
  const out = serverFrames(Buffer.concat(written));
  const pongs = out.filter((f) => f.opcode === 10).map((f) => show(f.payload));
  if (JSON.stringify(pongs) !== JSON.stringify(expectedPings.map((p) => show(p)))) throw new Error(`${what}: pongs ${JSON.stringify(pongs)} for pings ${JSON.stringify(expectedPings.map((p) => show(p)))}`);
  const close = out.find((f) => f.opcode === 8);
  if (close === undefined || close.payload.readUInt16BE(0) !== 1000) throw new Error(`${what}: the close was not echoed with 1000`);
  if (code !== 1000) throw new Error(`${what}: 'close' reported ${code}`);
}

export const nodeReceiveProperties: FuzzProperty[] = [
  defineProperty(
    'node/receive-path',
    'a server WebSocket on an in-memory socket: random valid streams (compressed or not, fragmented, pings between, chunks landing mid-inflation) → every message once, in order, exact bytes; pongs in order; close echoed',
    150,
    () => fc.asyncProperty(streamArb, check),
  ),
];
