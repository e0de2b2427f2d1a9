/**
 * Helpers for the end-to-end real-time tests: a server on 127.0.0.1:0 closed after each test, a
 * `parley.v1` client written by hand on Parley's own WebSocket client (JSON envelopes in, JSON
 * envelopes out, nothing from the server's code), and a raw TCP client that can stop reading.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestContext } from 'node:test';
import { WebSocket, WebSocketServer, type ServerOptions } from '../../src/index.js';
import { decodeFrame } from '../../src/wire/envelope.js';
import { decodeFrames, encodeFrame, type DecodedFrame } from '../support/frames.js';

/** Any envelope the server sent, decoded. */
export type Envelope = Record<string, unknown> & { t: string };
/** A `msg` envelope. */
export type Msg = Envelope & { topic: string; epoch: string; offset: number; data: unknown; key?: string; conflated?: boolean };

/** Waits until `predicate()` holds, polling every 5 ms; rejects after `ms`. */
export async function until(predicate: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = performance.now() + ms;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** A started server. */
export interface Started {
  wss: WebSocketServer;
  port: number;
  url: string;
}

/** Starts a real-time server on 127.0.0.1:0; every connection is terminated and the server closed when the test ends. */
export async function startRealtime(t: TestContext, options: Omit<ServerOptions, 'port' | 'server' | 'noServer'> = {}): Promise<Started> {
  const wss = new WebSocketServer({ ...options, port: 0, host: '127.0.0.1' });
  t.after(async () => {
    for (const ws of wss.clients ?? []) ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const address = wss.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { wss, port: address.port, url: `ws://127.0.0.1:${address.port}` };
}

type Waiter = { predicate: (e: Envelope) => boolean; resolve: (e: Envelope) => void };

/** A `parley.v1` client speaking the protocol by hand over Parley's WebSocket client. */
export class V1Client {
  readonly ws: WebSocket;
  /** Every envelope received, in order. */
  readonly received: Envelope[] = [];
  /** Resolves with the close code and reason. */
  readonly closed: Promise<[number, string]>;
  #waiters: Waiter[] = [];
  #nextId = 1;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    this.closed = new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve([code, reason.toString()])));
    ws.on('error', () => {});
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const envelope = decodeFrame(isBinary ? new Uint8Array(data) : data.toString('utf8'), { maxBytes: 1 << 30, maxDepth: 1000 });
      this.received.push(envelope);
      for (const w of [...this.#waiters]) {
        if (w.predicate(envelope)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(envelope);
        }
      }
    });
  }

  /** Connects with the `parley.v1` subprotocol and waits for `hello`. */
  static async open(t: TestContext, url: string, protocols: string[] = ['parley.v1']): Promise<V1Client> {
    const ws = new WebSocket(url, protocols);
    t.after(() => ws.terminate());
    const client = new V1Client(ws);
    const hello = client.waitFor((e) => e.t === 'hello');
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    await hello;
    return client;
  }

  /** The `hello` envelope. */
  get hello(): Envelope {
    return this.received.find((e) => e.t === 'hello')!;
  }

  /** A fresh request id. */
  id(): number {
    return this.#nextId++;
  }

  /** Sends an envelope as JSON text. */
  send(envelope: object): void {
    this.ws.send(JSON.stringify(envelope));
  }

  /** Resolves with the first envelope (received from index `from` on, or to come) that matches. */
  waitFor(predicate: (e: Envelope) => boolean, ms = 5000, from = 0): Promise<Envelope> {
    const found = this.received.slice(from).find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { predicate, resolve: (e) => { clearTimeout(timer); resolve(e); } };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`timed out after ${ms} ms waiting for an envelope; got ${JSON.stringify(this.received.slice(-5))}`));
      }, ms);
      this.#waiters.push(waiter);
    });
  }

  /** The reply (ok, res, err, subok) to request `id`. */
  reply(id: unknown, ms = 5000, from = 0): Promise<Envelope> {
    return this.waitFor((e) => e.id === id && (e.t === 'ok' || e.t === 'res' || e.t === 'err' || e.t === 'subok'), ms, from);
  }

  /** Sends an envelope with a fresh id (unless it has one) and waits for its reply. */
  async call(envelope: Record<string, unknown>): Promise<Envelope> {
    const withId = 'id' in envelope ? envelope : { ...envelope, id: this.id() };
    const from = this.received.length;
    this.send(withId);
    return this.reply(withId.id, 5000, from);
  }

  /** Subscribes and waits for `subok` (or `err`). */
  subscribe(topic: string, extra: Record<string, unknown> = {}): Promise<Envelope> {
    return this.call({ t: 'sub', topic, ...extra });
  }

  /** The `msg` envelopes of `topic`, in arrival order. */
  msgs(topic?: string): Msg[] {
    return this.received.filter((e): e is Msg => e.t === 'msg' && (topic === undefined || e.topic === topic));
  }

  /** Envelopes of type `t`. */
  ofType(t: string): Envelope[] {
    return this.received.filter((e) => e.t === t);
  }
}

/** Opens a plain (no subprotocol) Parley client that records text messages. */
export async function openPlain(t: TestContext, url: string): Promise<{ ws: WebSocket; messages: Array<{ data: Buffer; isBinary: boolean }> }> {
  const ws = new WebSocket(url);
  t.after(() => ws.terminate());
  const messages: Array<{ data: Buffer; isBinary: boolean }> = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => messages.push({ data, isBinary }));
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return { ws, messages };
}

/** A frame read by a raw client. */
export type RawFrame = DecodedFrame;

/** Frames a masked client frame (RFC 6455 §5.2, §5.3) with a fresh random key. */
export function maskedFrame(opcode: number, payload: Buffer): Buffer {
  return encodeFrame({ opcode, payload, mask: randomBytes(4) });
}

/**
 * A WebSocket client on a bare TCP socket, so the test decides when (and whether) it reads.
 * It starts paused: the server's frames pile up in the kernel and then in the server's queue.
 */
export class RawClient {
  readonly socket: net.Socket;
  readonly frames: RawFrame[] = [];
  #buffer: Buffer = Buffer.alloc(0);
  #reading = false;
  /** Resolves when the TCP connection is gone. */
  readonly ended: Promise<void>;

  private constructor(socket: net.Socket, rest: Buffer) {
    this.socket = socket;
    this.#buffer = rest;
    this.ended = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
  }

  /** Connects and completes the handshake, offering `protocol` if given; the socket is left paused. */
  static connect(t: TestContext, port: number, protocol?: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      t.after(() => socket.destroy());
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        socket.off('data', onData);
        socket.pause();
        const status = head.subarray(0, head.indexOf('\r\n')).toString();
        if (!status.includes(' 101 ')) {
          reject(new Error(`handshake failed: ${status}`));
          return;
        }
        resolve(new RawClient(socket, head.subarray(end + 4)));
      };
      socket.on('data', onData);
      socket.once('error', reject);
      socket.write(
        'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
        (protocol !== undefined ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : '') + '\r\n',
      );
    });
  }

  /** Sends a text frame. */
  sendText(text: string): void {
    this.socket.write(maskedFrame(0x1, Buffer.from(text)));
  }

  /** Starts reading: every complete frame lands in `frames`. */
  startReading(): void {
    if (this.#reading) return;
    this.#reading = true;
    this.socket.on('data', (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      this.#parse();
    });
    this.#parse();
    this.socket.resume();
  }

  #parse(): void {
    const { frames, rest } = decodeFrames(this.#buffer);
    this.frames.push(...frames);
    this.#buffer = rest.length === 0 ? Buffer.alloc(0) : rest;
  }

  /** Data frames as envelopes (for a `parley.v1` raw client), decoded once each. */
  envelopes(): Envelope[] {
    for (; this.#decoded < this.frames.length; this.#decoded++) {
      const f = this.frames[this.#decoded]!;
      if (f.opcode === 1 || f.opcode === 2) this.#envelopes.push(decodeFrame(f.opcode === 1 ? f.payload.toString('utf8') : f.payload, { maxBytes: 1 << 30 }));
    }
    return this.#envelopes;
  }

  #decoded = 0;
  readonly #envelopes: Envelope[] = [];
}
