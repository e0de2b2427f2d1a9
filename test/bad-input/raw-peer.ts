/**
 * The hostile peer of the bad-input tests (guide §1–§15): a raw TCP socket that sends whatever
 * bytes a test builds, with the tests' own frame encoder and decoder (test/support/frames.ts,
 * independent of src/protocol, so lying lengths, RSV bits and reserved opcodes can be produced), an
 * HTTP head reader, and read-until helpers with timeouts. {@link RawServer} plays a hostile WebSocket
 * server to a Parley client.
 */
import * as net from 'node:net';
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import { decodeFrame as parseFrame, encodeFrame as frame, OP, toBytes as bytes, type DecodedFrame as Frame, type FrameSpec } from '../support/frames.js';

export { bytes, frame, OP, parseFrame, type Frame, type FrameSpec };

/** The sample key of RFC 6455 §1.3, used for every raw handshake. */
export const FIXED_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** `Sec-WebSocket-Accept` for `key`, computed here rather than by the library. */
export function acceptFor(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/** A masked (client → server) frame: the common case of the server-side tests. */
export function clientFrame(spec: Omit<FrameSpec, 'mask'>): Buffer {
  return frame({ ...spec, mask: true });
}

/** Payload of a close frame: a 2-byte code and a reason. */
export function closePayload(code: number, reason: string | Uint8Array | readonly number[] = ''): Buffer {
  const c = Buffer.alloc(2);
  c.writeUInt16BE(code);
  return Buffer.concat([c, bytes(reason)]);
}

/** An HTTP request or response head. */
export interface HttpHead {
  startLine: string;
  /** Status of a response; NaN for a request. */
  status: number;
  /** Lower-case names; repeated headers joined with ', '. */
  headers: Map<string, string>;
}

/** A header line: name and value, sent as given (names may be anything). */
export type HeaderLine = readonly [name: string, value: string];

/** Options of {@link upgradeRequest}. */
export interface RequestOptions {
  method?: string;
  path?: string;
  key?: string;
  /** Standard lines to leave out, by lower-case name (e.g. 'upgrade'). */
  omit?: readonly string[];
  /** Lines replacing the standard line of the same name, or added after them. */
  headers?: readonly HeaderLine[];
}

/** A WebSocket upgrade request (RFC 6455 §4.1), valid unless the options break it. */
export function upgradeRequest(options: RequestOptions = {}): Buffer {
  const lines: HeaderLine[] = [
    ['Host', '127.0.0.1'],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', options.key ?? FIXED_KEY],
    ['Sec-WebSocket-Version', '13'],
  ];
  const extra = options.headers ?? [];
  const replaced = new Set(extra.map(([n]) => n.toLowerCase()));
  const omit = new Set(options.omit ?? []);
  const kept = lines.filter(([n]) => !omit.has(n.toLowerCase()) && !replaced.has(n.toLowerCase()));
  const head = [`${options.method ?? 'GET'} ${options.path ?? '/'} HTTP/1.1`, ...[...kept, ...extra].map(([n, v]) => `${n}: ${v}`)];
  return Buffer.from(head.join('\r\n') + '\r\n\r\n', 'latin1');
}

/** A close frame as read: its code (undefined when empty), reason and the data frames before it. */
export interface CloseRead {
  frame: Frame;
  code: number | undefined;
  reason: Buffer;
  before: Frame[];
}

/** Parses an HTTP head (without its blank line): start line and headers. */
function parseHead(text: string): HttpHead {
  const [startLine = '', ...rest] = text.split('\r\n');
  const headers = new Map<string, string>();
  for (const line of rest) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers.get(name);
    headers.set(name, prev === undefined ? value : `${prev}, ${value}`);
  }
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(startLine);
  return { startLine, status: m?.[1] === undefined ? NaN : Number(m[1]), headers };
}

/** One raw TCP connection, either role, that records everything it receives. */
export class RawPeer {
  readonly socket: net.Socket;
  /** The peer sent FIN, or the connection is gone. */
  ended = false;
  closed = false;
  error: Error | undefined;
  #data = Buffer.alloc(0);
  #offset = 0;
  #wakers = new Set<() => void>();

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#data = Buffer.concat([this.#data, chunk]);
      this.#wake();
    });
    socket.on('end', () => { this.ended = true; this.#wake(); });
    socket.on('close', () => { this.closed = true; this.#wake(); });
    socket.on('error', (e) => { this.error = e; this.#wake(); });
  }

  /** Connects to `port`. Half-open is allowed, so the peer can decide never to close TCP. */
  static async connect(port: number, host = '127.0.0.1'): Promise<RawPeer> {
    const socket = net.connect({ port, host, allowHalfOpen: true });
    const peer = new RawPeer(socket);
    await once(socket, 'connect');
    return peer;
  }

  /** The server side has closed (FIN or reset) or the socket is gone. */
  get isClosed(): boolean {
    return this.ended || this.closed;
  }

  /** Every byte received so far, read or not. */
  get receivedBytes(): Buffer {
    return this.#data;
  }

  /** Bytes received and not yet consumed by a read. */
  unread(): Buffer {
    return this.#data.subarray(this.#offset);
  }

  #wake(): void {
    for (const w of [...this.#wakers]) w();
  }

  /** Writes bytes; resolves false instead of failing when the connection is already gone. */
  write(data: Uint8Array): Promise<boolean> {
    if (this.socket.destroyed || !this.socket.writable) return Promise.resolve(false);
    return new Promise((resolve) => this.socket.write(data, (e) => resolve(e == null)));
  }

  /** Writes `data` one byte per write, waiting `delayMs` between writes; stops if the connection closes. */
  async writeBytewise(data: Uint8Array, delayMs: number): Promise<number> {
    let sent = 0;
    for (const b of data) {
      if (this.isClosed || !(await this.write(Uint8Array.of(b)))) break;
      sent++;
      await new Promise((r) => setTimeout(r, delayMs));
    }
    return sent;
  }

  /**
   * Waits until `probe` returns a value, re-checking on every event. Rejects after `timeoutMs`,
   * or as soon as the connection closes without the value (unless `waitPastClose`).
   */
  until<T>(probe: () => T | undefined, timeoutMs: number, what: string, waitPastClose = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        let value: T | undefined;
        try {
          value = probe();
        } catch (e) {
          done();
          reject(e instanceof Error ? e : new Error(String(e)));
          return;
        }
        if (value !== undefined) {
          done();
          resolve(value);
        } else if (this.isClosed && !waitPastClose) {
          done();
          reject(new Error(`connection closed while waiting for ${what}; unread: ${preview(this.unread())}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; unread: ${preview(this.unread())}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(check);
      };
      this.#wakers.add(check);
      check();
    });
  }

  /** Reads an HTTP head (up to the blank line); bytes after it stay unread. */
  async readHead(timeoutMs = 2000): Promise<HttpHead> {
    const end = await this.until(() => {
      const i = this.#data.indexOf('\r\n\r\n', this.#offset, 'latin1');
      return i < 0 ? undefined : i;
    }, timeoutMs, 'an HTTP head');
    const head = parseHead(this.#data.subarray(this.#offset, end).toString('latin1'));
    this.#offset = end + 4;
    return head;
  }

  /** Reads the next frame. */
  async readFrame(timeoutMs = 2000): Promise<Frame> {
    const got = await this.until(() => parseFrame(this.#data, this.#offset), timeoutMs, 'a frame');
    this.#offset += got.size;
    return got.frame;
  }

  /** Reads frames until a close frame; returns it with the frames that came before it. */
  async readClose(timeoutMs = 2000): Promise<CloseRead> {
    const before: Frame[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = await this.readFrame(Math.max(1, deadline - Date.now()));
      if (f.opcode !== OP.CLOSE) {
        before.push(f);
        continue;
      }
      const code = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : undefined;
      return { frame: f, code, reason: f.payload.subarray(2), before };
    }
  }

  /** Waits for the other side to close (FIN or reset); returns the ms waited. */
  async waitClosed(timeoutMs = 2000): Promise<number> {
    const t0 = performance.now();
    await this.until(() => (this.isClosed ? true : undefined), timeoutMs, 'the connection to close', true);
    return performance.now() - t0;
  }

  /** Client role: sends a valid upgrade request (plus `extra` bytes in the same write) and checks the 101. */
  async handshake(options: RequestOptions = {}, extra: Uint8Array = Buffer.alloc(0)): Promise<HttpHead> {
    await this.write(Buffer.concat([upgradeRequest(options), extra]));
    const head = await this.readHead();
    assert.equal(head.status, 101, `expected 101, got: ${head.startLine}`);
    assert.equal(head.headers.get('sec-websocket-accept'), acceptFor(options.key ?? FIXED_KEY));
    return head;
  }

  /** Server role: reads the client's upgrade request and answers a correct 101. */
  async acceptHandshake(): Promise<HttpHead> {
    const req = await this.readHead();
    const key = req.headers.get('sec-websocket-key') ?? '';
    await this.write(Buffer.from(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
      'latin1',
    ));
    return req;
  }

  /** Closes our side at once. */
  destroy(): void {
    this.socket.destroy();
  }
}

/** A raw TCP server whose connections are {@link RawPeer}s: a hostile WebSocket server. */
export class RawServer {
  readonly server: net.Server;
  readonly peers: RawPeer[] = [];
  #untaken: RawPeer[] = [];
  #waiting: Array<(p: RawPeer) => void> = [];

  private constructor(server: net.Server) {
    this.server = server;
    server.on('connection', (socket) => {
      const peer = new RawPeer(socket);
      this.peers.push(peer);
      const w = this.#waiting.shift();
      if (w !== undefined) w(peer);
      else this.#untaken.push(peer);
    });
  }

  /** Listens on 127.0.0.1, an ephemeral port. */
  static async listen(): Promise<RawServer> {
    const s = new RawServer(net.createServer({ allowHalfOpen: true }));
    s.server.listen(0, '127.0.0.1');
    await once(s.server, 'listening');
    return s;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** The next connection not yet taken. */
  nextPeer(timeoutMs = 2000): Promise<RawPeer> {
    const ready = this.#untaken.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const got = (p: RawPeer): void => { clearTimeout(timer); resolve(p); };
      const timer = setTimeout(() => {
        this.#waiting = this.#waiting.filter((w) => w !== got);
        reject(new Error('no connection to the raw server'));
      }, timeoutMs);
      this.#waiting.push(got);
    });
  }

  async close(): Promise<void> {
    for (const p of this.peers) p.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** A short hex/text preview of bytes, for failure messages. */
export function preview(b: Buffer): string {
  const head = b.subarray(0, 48);
  return `${b.length} bytes [${head.toString('hex')}${b.length > 48 ? '…' : ''}] ${JSON.stringify(head.toString('latin1'))}`;
}
