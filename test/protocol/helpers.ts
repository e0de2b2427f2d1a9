/**
 * Test helpers for the protocol core. Frames are built by the tests' own encoder
 * (test/support/frames.ts), independently of src/protocol/frame.ts and src/protocol/mask.ts, so the
 * receiver is checked against a second implementation of RFC 6455 §5.2 rather than against itself.
 */
import type { Buffer } from 'node:buffer';
import { Receiver, type ReceiverHandler, type ReceiverOptions } from '../../src/protocol/receiver.js';
import type { ProtocolError } from '../../src/protocol/errors.js';
import { encodeFrame, encodeHeader, type FrameSpec as SharedFrameSpec } from '../support/frames.js';

/** Opcodes spelled out again here so the tests do not depend on constants.ts for their inputs. */
export const OP = {
  CONT: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** The masking key used when a test asks for `mask: true`. */
export const DEFAULT_KEY = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);

const utf8 = new TextEncoder();

/** Bytes from a string (UTF-8), a number list or a byte array (copied). */
export function bytes(data: string | readonly number[] | Uint8Array): Uint8Array {
  if (typeof data === 'string') return utf8.encode(data);
  return Uint8Array.from(data);
}

/** Concatenates byte arrays into one new array. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** XOR with a cycled 4-byte key, the plainest possible loop (RFC 6455 §5.3). Returns a new array. */
export function naiveMask(data: Uint8Array, key: Uint8Array, offset = 0): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! ^ key[(i + offset) % 4]!;
  return out;
}

/** How a test frame is written. */
export interface FrameSpec {
  opcode: number;
  payload?: string | readonly number[] | Uint8Array;
  /** Default true. */
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** true: mask with {@link DEFAULT_KEY}; a Uint8Array: mask with that key; default unmasked. */
  mask?: boolean | Uint8Array;
  /** Force a length form even when a shorter one would do. Default: the minimal form. */
  lengthForm?: 7 | 16 | 64;
  /** Write this length in the header instead of the payload's (64-bit form). */
  declaredLength?: bigint;
}

/** The same bytes as a plain Uint8Array: the core's tests compare with its output deeply. */
function plain(bytes: Buffer): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** The shared encoder's spec for a protocol-test spec (RSV flags as bits). */
function shared(spec: FrameSpec): SharedFrameSpec {
  const rsv = (spec.rsv1 === true ? 4 : 0) | (spec.rsv2 === true ? 2 : 0) | (spec.rsv3 === true ? 1 : 0);
  return { ...spec, rsv, mask: spec.mask === true ? DEFAULT_KEY : spec.mask };
}

/** Builds one frame header (RFC 6455 §5.2) for a payload of `length` bytes. */
export function buildHeader(spec: FrameSpec, length: number): Uint8Array {
  return plain(encodeHeader(shared(spec), length));
}

/** Builds a whole frame: header then payload, masked by a byte loop when asked. */
export function buildFrame(spec: FrameSpec): Uint8Array {
  return plain(encodeFrame(shared(spec)));
}

/** One thing a receiver reported, with data copied out so later mutation cannot change it. */
export type Event =
  | { kind: 'message'; data: Uint8Array; isBinary: boolean; compressed: boolean }
  | { kind: 'ping'; data: Uint8Array }
  | { kind: 'pong'; data: Uint8Array }
  | { kind: 'close'; code: number; reason: Uint8Array }
  | { kind: 'error'; code: string; closeCode: number };

/** Optional callbacks run after an event has been recorded (pause/resume tests). */
export interface Hooks {
  onMessage?: (rec: Recorder) => void;
  onPing?: (rec: Recorder) => void;
}

/** A ReceiverHandler that records every call in order. */
export class Recorder implements ReceiverHandler {
  readonly events: Event[] = [];
  readonly errors: ProtocolError[] = [];
  receiver: Receiver | undefined;
  readonly #hooks: Hooks;

  constructor(hooks: Hooks = {}) {
    this.#hooks = hooks;
  }

  onMessage(data: Uint8Array, isBinary: boolean, compressed: boolean): void {
    this.events.push({ kind: 'message', data: data.slice(), isBinary, compressed });
    this.#hooks.onMessage?.(this);
  }
  onPing(data: Uint8Array): void {
    this.events.push({ kind: 'ping', data: data.slice() });
    this.#hooks.onPing?.(this);
  }
  onPong(data: Uint8Array): void {
    this.events.push({ kind: 'pong', data: data.slice() });
  }
  onClose(code: number, reason: Uint8Array): void {
    this.events.push({ kind: 'close', code, reason: reason.slice() });
  }
  onError(error: ProtocolError): void {
    this.errors.push(error);
    this.events.push({ kind: 'error', code: error.code, closeCode: error.closeCode });
  }
}

/** A receiver wired to a fresh recorder. */
export function makeReceiver(options: ReceiverOptions, hooks?: Hooks): { rec: Recorder; rx: Receiver } {
  const rec = new Recorder(hooks);
  const rx = new Receiver(rec, options);
  rec.receiver = rx;
  return { rec, rx };
}

/**
 * Feeds a copy of `stream` to a new receiver, cut at `cuts` (sorted offsets), and returns what
 * it reported. The copy matters: the receiver unmasks in place.
 */
export function feedCuts(stream: Uint8Array, options: ReceiverOptions, cuts: readonly number[] = []): Event[] {
  const { rec, rx } = makeReceiver(options);
  const copy = stream.slice();
  let at = 0;
  for (const c of [...cuts, copy.length]) {
    rx.push(copy.subarray(at, c));
    at = c;
  }
  return rec.events;
}

/** Feeds `stream` whole. */
export function feed(stream: Uint8Array, options: ReceiverOptions): Event[] {
  return feedCuts(stream, options);
}

/** Feeds `stream` one byte at a time, each byte its own new array. */
export function feedBytewise(stream: Uint8Array, options: ReceiverOptions): Event[] {
  const { rec, rx } = makeReceiver(options);
  for (const b of stream) rx.push(Uint8Array.of(b));
  return rec.events;
}

/** Event shorthands for assertions. */
export const ev = {
  text: (s: string): Event => ({ kind: 'message', data: bytes(s), isBinary: false, compressed: false }),
  binary: (d: readonly number[] | Uint8Array): Event => ({ kind: 'message', data: bytes(d), isBinary: true, compressed: false }),
  ping: (d: string | readonly number[] = []): Event => ({ kind: 'ping', data: bytes(d) }),
  pong: (d: string | readonly number[] = []): Event => ({ kind: 'pong', data: bytes(d) }),
  close: (code: number, reason = ''): Event => ({ kind: 'close', code, reason: bytes(reason) }),
  error: (code: string, closeCode: number): Event => ({ kind: 'error', code, closeCode }),
};

/** Deterministic PRNG (mulberry32), so random tests are reproducible. */
export function prng(seed: number): { next(): number; int(max: number): number; bytes(n: number): Uint8Array } {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number): number => Math.floor(next() * max);
  return {
    next,
    int,
    bytes(n: number): Uint8Array {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = int(256);
      return out;
    },
  };
}

/**
 * Messages that the receiver has to assemble from several pieces, each followed by a small
 * message (so state left behind would show), as one stream: one frame and fragmented, binary and
 * text with multi-byte characters split across frames, a ping in the middle of a message.
 * `masked` masks every frame with its own key, as a client does.
 */
export function assemblyStream(masked: boolean): { stream: Uint8Array; expected: Event[] } {
  const keys = [DEFAULT_KEY, Uint8Array.of(1, 2, 3, 4), Uint8Array.of(0xff, 0, 0x80, 0x7f), Uint8Array.of(9, 0x99, 0x42, 0x13)];
  let n = 0;
  const mask = (): Uint8Array | false => (masked ? keys[n++ % keys.length]! : false);
  const binary = new Uint8Array(700);
  for (let i = 0; i < binary.length; i++) binary[i] = (i * 31 + (i >>> 8)) & 0xff;
  const text = 'é€😀 ascii '.repeat(20);
  const textBytes = bytes(text);
  const stream = concat(
    buildFrame({ opcode: OP.BINARY, payload: binary, mask: mask() }),
    buildFrame({ opcode: OP.BINARY, payload: [1, 2, 3], mask: mask() }),
    buildFrame({ opcode: OP.TEXT, payload: text, mask: mask() }),
    buildFrame({ opcode: OP.TEXT, payload: 'x', mask: mask() }),
    buildFrame({ opcode: OP.BINARY, payload: binary.subarray(0, 200), fin: false, mask: mask() }),
    buildFrame({ opcode: OP.CONT, payload: binary.subarray(200, 201), fin: false, mask: mask() }),
    buildFrame({ opcode: OP.PING, payload: 'p', mask: mask() }),
    buildFrame({ opcode: OP.CONT, payload: binary.subarray(201), mask: mask() }),
    buildFrame({ opcode: OP.BINARY, payload: [4], mask: mask() }),
    // Split inside the 4-byte emoji.
    buildFrame({ opcode: OP.TEXT, payload: textBytes.subarray(0, 7), fin: false, mask: mask() }),
    buildFrame({ opcode: OP.CONT, payload: textBytes.subarray(7), mask: mask() }),
    buildFrame({ opcode: OP.BINARY, payload: [], mask: mask() }),
  );
  const expected = [
    ev.binary(binary),
    ev.binary([1, 2, 3]),
    ev.text(text),
    ev.text('x'),
    ev.ping('p'),
    ev.binary(binary),
    ev.binary([4]),
    ev.text(text),
    ev.binary([]),
  ];
  return { stream, expected };
}

/**
 * Chunkings of a stream of `length` bytes: a cut at every offset, then every pair of cuts on a
 * grid of `stride` bytes (a frame boundary, a header and a payload split at every place).
 */
export function* everyCut(length: number, stride: number): Generator<number[]> {
  for (let k = 1; k < length; k++) yield [k];
  for (let i = 1; i < length; i += stride) for (let j = i + 1; j < length; j += stride) yield [i, j];
}
