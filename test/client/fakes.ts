/**
 * Test doubles for the client unit tests: a WebSocket class the test drives by hand and a clock
 * whose time only moves when the test says so. No network, no real timers.
 */
import { decodeFrame, encodeEnvelope, type ServerEnvelope } from '../../src/wire/envelope.js';
import type { Clock, SocketEvent, WebSocketConstructor, WebSocketLike } from '../../src/client/index.js';

type Listener = (event: SocketEvent) => void;
type Decoded = Record<string, unknown> & { t: string };

/** One fake connection. The test plays the server through `accept`, `hello`, `deliver`, `drop`. */
export class FakeSocket implements WebSocketLike {
  readonly url: string;
  readonly protocols: string | string[];
  protocol = '';
  binaryType = 'blob';
  readyState = 0;
  /** Frames the client sent, raw. */
  readonly sent: Array<string | Uint8Array> = [];
  closedWith: { code: number | undefined; reason: string | undefined } | undefined;
  readonly #listeners = new Map<string, Listener[]>();

  constructor(url: string, protocols: string | string[]) {
    this.url = url;
    this.protocols = protocols;
  }

  addEventListener(type: string, listener: Listener): void {
    const list = this.#listeners.get(type) ?? [];
    list.push(listener);
    this.#listeners.set(type, list);
  }

  send(data: string | Uint8Array): void {
    if (this.readyState !== 1) throw new Error(`send in readyState ${this.readyState}`);
    this.sent.push(typeof data === 'string' ? data : data.slice());
  }

  close(code?: number, reason?: string): void {
    if (this.readyState >= 2) return;
    this.closedWith = { code, reason };
    this.readyState = 3;
    this.#fire('close', { type: 'close', code: code ?? 1005, reason: reason ?? '' });
  }

  // ---- the test's side ----

  /** The handshake succeeds with `protocol` selected. */
  accept(protocol = 'parley.v1'): this {
    this.protocol = protocol;
    this.readyState = 1;
    this.#fire('open', { type: 'open' });
    return this;
  }

  /** Sends `hello`. */
  hello(time = 1_000_000, conn = 'c1', user?: string): this {
    const env: ServerEnvelope = { t: 'hello', v: 1, time, conn };
    if (user !== undefined) env.user = user;
    return this.deliver(env);
  }

  /** accept + hello. */
  open(time?: number): this {
    return this.accept().hello(time);
  }

  /** Delivers an envelope (encoded as the server would: binary frames as ArrayBuffer) or a raw frame. */
  deliver(env: ServerEnvelope | string | Uint8Array): this {
    const frame = typeof env === 'string' || env instanceof Uint8Array ? env : encodeEnvelope(env);
    const data = typeof frame === 'string' ? frame : frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength);
    this.#fire('message', { type: 'message', data });
    return this;
  }

  /** The connection is lost (no close frame). */
  drop(code = 1006, reason = ''): void {
    this.readyState = 3;
    this.#fire('close', { type: 'close', code, reason });
  }

  /** The connection fails before opening. */
  fail(): void {
    this.readyState = 3;
    this.#fire('error', { type: 'error' });
    this.#fire('close', { type: 'close', code: 1006, reason: '' });
  }

  /** Decoded envelopes the client sent. */
  envelopes(): Decoded[] {
    return this.sent.map((frame) => decodeFrame(frame));
  }

  /** Decoded envelopes of type `t`. */
  sentOf(t: string): Decoded[] {
    return this.envelopes().filter((e) => e.t === t);
  }

  /** The last envelope of type `t` (throws when none). */
  last(t: string): Decoded {
    const list = this.sentOf(t);
    const env = list[list.length - 1];
    if (env === undefined) throw new Error(`no "${t}" sent`);
    return env;
  }

  #fire(type: string, event: SocketEvent): void {
    for (const listener of [...(this.#listeners.get(type) ?? [])]) listener(event);
  }
}

/** A fresh fake WebSocket class and the list of sockets made with it. */
export function fakeWebSocket(): { WebSocket: WebSocketConstructor; sockets: FakeSocket[]; latest: () => FakeSocket } {
  const sockets: FakeSocket[] = [];
  class Fake extends FakeSocket {
    constructor(url: string, protocols: string | string[]) {
      super(url, protocols);
      sockets.push(this);
    }
  }
  return {
    WebSocket: Fake,
    sockets,
    latest: () => {
      const s = sockets[sockets.length - 1];
      if (s === undefined) throw new Error('no socket yet');
      return s;
    },
  };
}

/** A clock that moves only through `advance`. */
export class FakeClock implements Clock {
  time = 0;
  #next = 1;
  readonly #timers = new Map<number, { at: number; callback: () => void }>();

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.time + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Delays (from now) of the pending timers, soonest first. */
  pending(): number[] {
    return [...this.#timers.values()].map((t) => t.at - this.time).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, running due timers in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let due: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.#timers) if (entry[1].at <= end && (due === undefined || entry[1].at < due[1].at)) due = entry;
      if (due === undefined) break;
      this.#timers.delete(due[0]);
      this.time = due[1].at;
      due[1].callback();
    }
    this.time = end;
  }
}

/** A `random()` that returns the given values in turn, then repeats the last. */
export function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
}

/** Lets pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
