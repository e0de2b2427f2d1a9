/**
 * Fuzzing the inflate path (src/node/deflate-codec.ts, `PerMessageDeflate.decompress`): random,
 * corrupt, truncated and valid deflate data, bombs, and message sequences with and without
 * context takeover. Oracle: Node's one-shot `zlib.inflateRawSync` with the same window and the
 * payload limit, and an independent zlib compressor for sequences. Every call must answer exactly
 * once, with the inflated bytes or a ProtocolError whose code is documented (1007
 * `ERR_WS_INFLATE_FAILED`, 1009 `WS_ERR_UNSUPPORTED_MESSAGE_LENGTH`); no exception may escape; the bytes
 * zlib produces for one message never pass `maxPayload` by more than one output chunk (a spy on
 * `zlib.createInflateRaw` counts them), so a bomb is never inflated whole.
 */
import fc from 'fast-check';
import { Buffer } from 'node:buffer';
import * as zlib from 'node:zlib';
import { PerMessageDeflate } from '../../../src/node/deflate-codec.js';
import { resolvePerMessageDeflate } from '../../../src/node/deflate-options.js';
import { drainDeflatePool } from '../../../src/node/zlib-pool.js';
import { ProtocolError, type DeflateParameters } from '../../../src/protocol/index.js';
import { E, PROTOCOL_ERROR_CLOSE, pattern, show } from './documented.js';
import { defineProperty, type FuzzProperty } from '../property.js';

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const SYNC = zlib.constants.Z_SYNC_FLUSH;
/** Output zlib may produce past the limit before the codec stops it: one chunk (16 KiB by default), with room. */
const OVERSHOOT = 64 * 1024;

// ---- the spy: bytes produced by every raw inflater ------------------------------------------

/** Bytes emitted by raw inflate streams since the last reset. */
export const inflated = { bytes: 0 };
let spyInstalled = false;

/**
 * Counts what every raw inflate stream produces: `InflateRaw.prototype.push` (the Readable side
 * that zlib output goes through) gets a counting wrapper. The streams the codec creates through
 * `zlib.createInflateRaw` are instances of this class.
 */
export function installInflateSpy(): void {
  if (spyInstalled) return;
  spyInstalled = true;
  const proto = zlib.InflateRaw.prototype as unknown as { push: (this: unknown, chunk: unknown, encoding?: BufferEncoding) => boolean };
  const original = proto.push;
  Object.defineProperty(proto, 'push', {
    configurable: true,
    writable: true,
    value: function push(this: unknown, chunk: unknown, encoding?: BufferEncoding): boolean {
      if (chunk instanceof Uint8Array) inflated.bytes += chunk.length;
      return original.call(this, chunk, encoding);
    },
  });
}

// ---- helpers -------------------------------------------------------------------------------

type Outcome = { ok: Buffer } | { error: string; closeCode: number };

/** One decompress call: must answer exactly once, asynchronously, within 20 s. */
function decompress(codec: PerMessageDeflate, data: Buffer): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let calls = 0;
    let sync = true;
    const timer = setTimeout(() => reject(new Error(`decompress never answered (${show(data)})`)), 20_000);
    codec.decompress(data, (error, message) => {
      calls++;
      if (calls > 1) {
        reject(new Error('decompress answered twice'));
        return;
      }
      if (sync) {
        reject(new Error('decompress answered synchronously'));
        return;
      }
      clearTimeout(timer);
      if (error !== null) {
        if (!(error instanceof ProtocolError)) {
          reject(new Error(`decompress failed with a ${String((error as object)?.constructor?.name)}: ${String(error)}`));
          return;
        }
        // A second call would show up before the next macrotask.
        setImmediate(() => (calls > 1 ? reject(new Error('decompress answered twice')) : resolve({ error: error.code, closeCode: error.closeCode })));
        return;
      }
      setImmediate(() => (calls > 1 ? reject(new Error('decompress answered twice')) : resolve({ ok: message })));
    });
    sync = false;
  });
}

function makeCodec(isServer: boolean, peerWindowBits: number, peerNoContext: boolean, maxPayload: number): PerMessageDeflate {
  const params: DeflateParameters = {
    serverNoContextTakeover: isServer ? false : peerNoContext,
    clientNoContextTakeover: isServer ? peerNoContext : false,
    serverMaxWindowBits: isServer ? 15 : peerWindowBits,
    clientMaxWindowBits: isServer ? peerWindowBits : 15,
  };
  return new PerMessageDeflate({ params, settings: resolvePerMessageDeflate(true)! }, isServer, maxPayload);
}

/** What Node's one-shot inflater says about a message (RFC 7692 §7.2.2: append the tail, inflate). */
function referenceInflate(data: Buffer, windowBits: number, maxPayload: number): { ok: Buffer } | { tooBig: true } | { corrupt: string } {
  try {
    const options: zlib.ZlibOptions = { windowBits, finishFlush: SYNC };
    if (maxPayload > 0) options.maxOutputLength = maxPayload + 1;
    const out = zlib.inflateRawSync(Buffer.concat([data, TAIL]), options);
    if (maxPayload > 0 && out.length > maxPayload) return { tooBig: true };
    return { ok: out };
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return { tooBig: true };
    return { corrupt: String((error as { code?: string }).code ?? error) };
  }
}

/**
 * Whether the data refers further back than the window allows. zlib only enforces the window for
 * distances that reach before its current output buffer, so a one-shot inflate into a large buffer
 * accepts some such data that a streaming inflater (16 KiB output chunks, like the codec's) refuses.
 * Inflating into 64-byte output chunks is at least as strict as the codec: if that fails too, the
 * data is corrupt (RFC 7692 §7.1.2: the sender must stay within the agreed window) and 1007 is right.
 */
function reachesPastWindow(data: Buffer, windowBits: number): boolean {
  try {
    zlib.inflateRawSync(Buffer.concat([data, TAIL]), { windowBits, finishFlush: SYNC, chunkSize: 64 });
    return false;
  } catch (error) {
    return (error as { code?: string }).code === 'Z_DATA_ERROR';
  }
}

function checkError(o: Outcome, allowed: string[], what: string): void {
  if ('ok' in o) throw new Error(`${what}: inflated ${show(o.ok)}, expected ${allowed.join(' or ')}`);
  if (!allowed.includes(o.error)) throw new Error(`${what}: ${o.error}, expected ${allowed.join(' or ')}`);
  if (PROTOCOL_ERROR_CLOSE.get(o.error) !== o.closeCode) throw new Error(`${what}: ${o.error} with close code ${o.closeCode}`);
}

function checkBounded(maxPayload: number, what: string): void {
  if (maxPayload > 0 && inflated.bytes > maxPayload + OVERSHOOT) {
    throw new Error(`${what}: zlib produced ${inflated.bytes} bytes for a limit of ${maxPayload} (inflated whole instead of stopping)`);
  }
}

// ---- generators ------------------------------------------------------------------------------

const plainData = fc.oneof(
  { arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), weight: 4 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s)), weight: 2 },
  { arbitrary: fc.record({ n: fc.integer({ min: 1000, max: 200_000 }), seed: fc.integer() }).map(({ n, seed }) => Buffer.from(pattern(n, seed))), weight: 1 },
  { arbitrary: fc.record({ unit: fc.string({ minLength: 1, maxLength: 12 }), n: fc.integer({ min: 100, max: 300_000 }) }).map(({ unit, n }) => Buffer.from(unit.repeat(Math.ceil(n / unit.length)))), weight: 2 },
);
const zlibOptionsArb = fc.record({ level: fc.integer({ min: 0, max: 9 }), memLevel: fc.integer({ min: 1, max: 9 }), strategy: fc.constantFrom(0, 1, 2, 3, 4) });
const limitArb = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2048 }), fc.integer({ min: 50_000, max: 400_000 }), fc.constant(100 * 1024 * 1024));

/** How the compressed bytes of one message are made or damaged. */
const shapeArb = fc.oneof(
  { arbitrary: fc.constant({ kind: 'sync' as const }), weight: 4 },
  { arbitrary: fc.constant({ kind: 'sync-with-tail' as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'final' as const }), weight: 1 },
  { arbitrary: fc.array(fc.tuple(fc.nat(), fc.nat(7)), { minLength: 1, maxLength: 4 }).map((flips) => ({ kind: 'flip' as const, flips })), weight: 2 },
  { arbitrary: fc.nat().map((at) => ({ kind: 'truncate' as const, at })), weight: 1 },
  { arbitrary: fc.uint8Array({ minLength: 1, maxLength: 40 }).map((junk) => ({ kind: 'append' as const, junk })), weight: 1 },
  { arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ kind: 'random' as const, bytes })), weight: 2 },
);

function compressOnce(data: Buffer, windowBits: number, z: zlib.ZlibOptions, final: boolean): Buffer {
  const out = zlib.deflateRawSync(data, { ...z, windowBits, ...(final ? {} : { finishFlush: SYNC }) });
  return final ? out : out.subarray(0, out.length - 4);
}

type Shape = typeof shapeArb extends fc.Arbitrary<infer T> ? T : never;

function shapeMessage(data: Buffer, windowBits: number, z: zlib.ZlibOptions, shape: Shape): Buffer {
  switch (shape.kind) {
    case 'sync': return compressOnce(data, windowBits, z, false);
    case 'sync-with-tail': return Buffer.concat([compressOnce(data, windowBits, z, false), TAIL]);
    case 'final': return compressOnce(data, windowBits, z, true);
    case 'flip': {
      const b = Buffer.from(compressOnce(data, windowBits, z, false));
      for (const [at, bit] of shape.flips) if (b.length > 0) b[at % b.length]! ^= 1 << bit;
      return b;
    }
    case 'truncate': {
      const b = compressOnce(data, windowBits, z, false);
      return b.subarray(0, b.length === 0 ? 0 : shape.at % b.length);
    }
    case 'append': return Buffer.concat([compressOnce(data, windowBits, z, false), shape.junk]);
    default: return Buffer.from(shape.bytes);
  }
}

// ---- properties ------------------------------------------------------------------------------

const singleArb = fc.record({
  data: plainData,
  shape: shapeArb,
  isServer: fc.boolean(),
  /** The window the codec inflates with, and the one the sender used (sometimes larger: a protocol violation). */
  windowBits: fc.integer({ min: 8, max: 15 }),
  senderExtraBits: fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, { arbitrary: fc.integer({ min: 1, max: 7 }), weight: 1 }),
  noContext: fc.boolean(),
  maxPayload: limitArb,
  z: zlibOptionsArb,
});

async function checkSingle(s: typeof singleArb extends fc.Arbitrary<infer T> ? T : never): Promise<void> {
  // Pooled streams are shared by every connection; this property isolates its runs (the pool
  // itself is fuzzed by inflate/pool-after-bfinal).
  drainDeflatePool();
  const senderBits = Math.min(15, s.windowBits + s.senderExtraBits);
  const message = shapeMessage(s.data, senderBits, s.z, s.shape);
  const expected = referenceInflate(message, s.windowBits, s.maxPayload);
  const codec = makeCodec(s.isServer, s.windowBits, s.noContext, s.maxPayload);
  try {
    inflated.bytes = 0;
    const got = await decompress(codec, message);
    const what = `${s.shape.kind} message ${show(message)} (window ${s.windowBits}, limit ${s.maxPayload})`;
    checkBounded(s.maxPayload, what);
    if ('ok' in got && s.maxPayload > 0 && got.ok.length > s.maxPayload) throw new Error(`${what}: delivered ${got.ok.length} bytes over the limit`);
    if ('ok' in expected) {
      if (!('ok' in got) && !(got.error === E.INFLATE && reachesPastWindow(message, s.windowBits))) {
        throw new Error(`${what}: ${got.error}, the reference inflates it to ${show(expected.ok)}`);
      }
      if (!('ok' in got)) return;
      if (!got.ok.equals(expected.ok)) throw new Error(`${what}: inflated ${show(got.ok)}, reference ${show(expected.ok)}`);
      if (s.shape.kind === 'sync' || s.shape.kind === 'sync-with-tail' || s.shape.kind === 'final') {
        if (senderBits === s.windowBits && !got.ok.equals(s.data)) throw new Error(`${what}: round trip lost data`);
      }
    } else if ('tooBig' in expected) {
      checkError(got, [E.TOO_BIG], what);
    } else {
      checkError(got, [E.INFLATE, E.TOO_BIG], `${what} (reference: ${expected.corrupt})`);
    }
  } finally {
    codec.close();
  }
}

/**
 * 64 MiB of one byte value, compressed once per value (about 64 KiB). Compressed with the
 * smallest window, 9 bits: a run of one byte only refers one byte back, so any window inflates it.
 */
const bombCache = new Map<number, Buffer>();
function bigBomb(byte: number): Buffer {
  let b = bombCache.get(byte);
  if (b === undefined) {
    b = compressOnce(Buffer.alloc(64 * 1024 * 1024, byte), 9, { level: 9 }, false);
    bombCache.set(byte, b);
  }
  return b;
}

const bombArb = fc.record({
  maxPayload: fc.oneof(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 4096, max: 1024 * 1024 })),
  size: fc.constantFrom('limit-1', 'limit', 'limit+1', 'double', 'huge'),
  byte: fc.constantFrom(0, 0x61, 0xff),
  windowBits: fc.integer({ min: 9, max: 15 }),
  noContext: fc.boolean(),
  isServer: fc.boolean(),
});

async function checkBomb(b: typeof bombArb extends fc.Arbitrary<infer T> ? T : never): Promise<void> {
  drainDeflatePool();
  const m = b.maxPayload;
  const n = b.size === 'limit-1' ? m - 1 : b.size === 'limit' ? m : b.size === 'limit+1' ? m + 1 : b.size === 'double' ? 2 * m : 64 * 1024 * 1024;
  const message = b.size === 'huge' ? bigBomb(b.byte) : compressOnce(Buffer.alloc(n, b.byte), b.windowBits, { level: 9 }, false);
  const codec = makeCodec(b.isServer, b.windowBits, b.noContext, m);
  try {
    inflated.bytes = 0;
    const got = await decompress(codec, message);
    const what = `bomb of ${n} bytes (${message.length} compressed) at a limit of ${m}`;
    checkBounded(m, what);
    if (n <= m) {
      if (!('ok' in got)) throw new Error(`${what}: ${got.error}; a message at or under the limit must be accepted`);
      if (got.ok.length !== n || got.ok.some((x) => x !== b.byte)) throw new Error(`${what}: wrong bytes ${show(got.ok)}`);
    } else {
      checkError(got, [E.TOO_BIG], what);
    }
  } finally {
    codec.close();
  }
}

/** A sender with its own zlib stream (context takeover unless reset per message). */
class Sender {
  readonly #stream: zlib.DeflateRaw;
  readonly #chunks: Buffer[] = [];
  readonly #noContext: boolean;
  constructor(windowBits: number, z: zlib.ZlibOptions, noContext: boolean) {
    this.#stream = zlib.createDeflateRaw({ ...z, windowBits });
    this.#stream.on('data', (c: Buffer) => this.#chunks.push(c));
    this.#noContext = noContext;
  }
  compress(data: Buffer): Promise<Buffer> {
    return new Promise((resolve) => {
      this.#stream.write(data);
      this.#stream.flush(SYNC, () => {
        const out = Buffer.concat(this.#chunks.splice(0));
        if (this.#noContext) this.#stream.reset();
        resolve(out.subarray(0, out.length - 4));
      });
    });
  }
  close(): void {
    this.#stream.destroy();
  }
}

const sequenceArb = fc.record({
  messages: fc.array(plainData, { minLength: 1, maxLength: 8 }),
  windowBits: fc.integer({ min: 9, max: 15 }),
  noContext: fc.boolean(),
  isServer: fc.boolean(),
  z: zlibOptionsArb,
  /** Damage one message: everything before it must still arrive intact. */
  damage: fc.option(fc.record({ index: fc.nat(), flips: fc.array(fc.tuple(fc.nat(), fc.nat(7)), { minLength: 1, maxLength: 3 }) }), { freq: 4 }),
});

async function checkSequence(s: typeof sequenceArb extends fc.Arbitrary<infer T> ? T : never): Promise<void> {
  drainDeflatePool();
  const sender = new Sender(s.windowBits, s.z, s.noContext);
  const codec = makeCodec(s.isServer, s.windowBits, s.noContext, 0);
  try {
    for (let i = 0; i < s.messages.length; i++) {
      const data = s.messages[i]!;
      let wire = await sender.compress(data);
      const damaged = s.damage !== null && s.damage.index % s.messages.length === i;
      if (damaged && wire.length > 0) {
        wire = Buffer.from(wire);
        for (const [at, bit] of s.damage!.flips) wire[at % wire.length]! ^= 1 << bit;
      }
      inflated.bytes = 0;
      const got = await decompress(codec, wire);
      if (damaged) {
        // Damaged data may still inflate (to something else); otherwise a documented 1007.
        if (!('ok' in got)) checkError(got, [E.INFLATE], `damaged message ${i}`);
        return; // the connection would be failed or out of sync from here on
      }
      if (!('ok' in got)) throw new Error(`message ${i} of ${s.messages.length} (${show(data)}, context takeover ${!s.noContext}): ${got.error}`);
      if (!got.ok.equals(data)) throw new Error(`message ${i}: inflated ${show(got.ok)}, sent ${show(data)}`);
    }
  } finally {
    sender.close();
    codec.close();
  }
}

/**
 * RFC 7692 §7.2.3.3 lets a sender flush with a DEFLATE block that has BFINAL set; the next message
 * then starts a new DEFLATE stream. A receiver must inflate every such message, and what one
 * connection sends must never break another connection's messages (inflaters are pooled).
 */
const bfinalArb = fc.record({
  messages: fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 40 }), fc.boolean(), fc.boolean()), { minLength: 2, maxLength: 6 }),
  noContext: fc.boolean(),
});

async function checkBfinal(s: typeof bfinalArb extends fc.Arbitrary<infer T> ? T : never): Promise<void> {
  drainDeflatePool();
  // Two connections; every message either ends its DEFLATE stream (BFINAL) or sync-flushes a fresh one.
  const a = makeCodec(true, 15, s.noContext, 0);
  const b = makeCodec(true, 15, s.noContext, 0);
  try {
    for (let i = 0; i < s.messages.length; i++) {
      const [text, final, onB] = s.messages[i]!;
      const data = Buffer.from(`${i}:${text}`);
      const codec = onB ? b : a;
      const got = await decompress(codec, compressOnce(data, 15, {}, final));
      const what = `message ${i} on connection ${onB ? 'B' : 'A'} (${final ? 'BFINAL' : 'sync flush'}, context takeover ${!s.noContext}); earlier: ${s.messages.slice(0, i).map(([, f, bb]) => `${bb ? 'B' : 'A'}:${f ? 'final' : 'sync'}`).join(',')}`;
      if (!('ok' in got)) throw new Error(`${what}: ${got.error}`);
      if (!got.ok.equals(data)) throw new Error(`${what}: inflated ${JSON.stringify(got.ok.toString())}, sent ${JSON.stringify(data.toString())}`);
    }
  } finally {
    a.close();
    b.close();
    drainDeflatePool();
  }
}

export const inflateProperties: FuzzProperty[] = [
  defineProperty(
    'inflate/single-message',
    'valid, corrupt, truncated, appended-to and random deflate data (windows 8-15, limits): = zlib one-shot reference; only 1007/1009; never past maxPayload',
    300,
    () => fc.asyncProperty(singleArb, checkSingle),
  ),
  defineProperty(
    'inflate/bombs',
    'bombs up to 64 MiB against limits up to 1 MiB: exactly-at-limit accepted, over → 1009; zlib output stops within 64 KiB of the limit',
    60,
    () => fc.asyncProperty(bombArb, checkBomb),
  ),
  defineProperty(
    'inflate/sequences',
    'message sequences from an independent zlib sender, with and without context takeover, one damaged: all before it intact, the damaged one 1007 or inflated',
    120,
    () => fc.asyncProperty(sequenceArb, checkSequence),
  ),
  // Found by this fuzzer: an inflater whose stream ended with BFINAL was reused (silent empty
  // messages) or pooled (1007 for the next borrower). Fixed in deflate-codec.ts.
  defineProperty(
    'inflate/bfinal-and-pool',
    'messages flushed with BFINAL (RFC 7692 §7.2.3.3) on two connections: every message inflates to what was sent, on both',
    200,
    () => fc.asyncProperty(bfinalArb, checkBfinal),
  ),
];

/** Properties that fail on a known bug, kept out of the verdict until fixed (none now). */
export const inflateKnownBugs: FuzzProperty[] = [];

installInflateSpy();
