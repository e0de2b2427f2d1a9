/**
 * The floor below Node's public API, loaded with `--parley-module floor-raw`: the framing of
 * `floor.ts` on libuv TCP handles driven directly through `process.binding('tcp_wrap')` and
 * `process.binding('stream_wrap')` — no `net.Socket`, no stream machinery, no `http.Server`; the
 * upgrade request is answered from a scan for its key.
 *
 * Those bindings are Node internals (`process.binding` is deprecated, DEP0111; their shape is not
 * a public contract and changes between releases). This file exists to measure what leaving the
 * public API would buy, so that the decision not to do it in Parley rests on figures
 * (docs/benchmarks.md, "What Node's socket layer allows"). It is not a pattern for the library.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { FloorConnection, GUID } from './floor-connection.js';
import type { WsLikeServerOptions } from './ws-api.js';

/** The slice of libuv's TCP handle (Node's `TCPWrap`) used here. */
interface TcpHandle {
  onread: (arrayBuffer: ArrayBuffer) => void;
  onconnection: (status: number, client: TcpHandle | undefined) => void;
  bind(host: string, port: number): number;
  listen(backlog: number): number;
  getsockname(out: Record<string, unknown>): number;
  setNoDelay(on: boolean): number;
  readStart(): number;
  readStop(): number;
  writeBuffer(request: object, bytes: Buffer): number;
  writev(request: object, chunks: Buffer[], allBuffers: boolean): number;
  shutdown(request: object): number;
  close(): void;
}

interface Request {
  handle: TcpHandle;
  oncomplete: () => void;
  buffer?: unknown;
}

interface Bindings {
  readonly TCP: new (type: number) => TcpHandle;
  readonly serverType: number;
  readonly WriteWrap: new () => Request;
  readonly ShutdownWrap: new () => Request;
  readonly state: Int32Array;
  readonly readBytes: number;
  readonly bufferOffset: number;
  readonly lastWriteAsync: number;
}

function loadBindings(): Bindings {
  const withBinding = process as unknown as { binding(name: string): Record<string, unknown> };
  const binding = (name: string): Record<string, unknown> => withBinding.binding(name);
  const tcp = binding('tcp_wrap') as { TCP: Bindings['TCP']; constants: { SERVER: number } };
  const stream = binding('stream_wrap') as {
    WriteWrap: Bindings['WriteWrap'];
    ShutdownWrap: Bindings['ShutdownWrap'];
    streamBaseState: Int32Array;
    kReadBytesOrError: number;
    kArrayBufferOffset: number;
    kLastWriteWasAsync: number;
  };
  return {
    TCP: tcp.TCP,
    serverType: tcp.constants.SERVER,
    WriteWrap: stream.WriteWrap,
    ShutdownWrap: stream.ShutdownWrap,
    state: stream.streamBaseState,
    readBytes: stream.kReadBytesOrError,
    bufferOffset: stream.kArrayBufferOffset,
    lastWriteAsync: stream.kLastWriteWasAsync,
  };
}

const native = loadBindings();

function ignore(): void {}

/** Writes through libuv; a write that did not finish at once keeps its bytes alive until done. */
function write(handle: TcpHandle, bytes: Buffer | Buffer[]): void {
  const request = new native.WriteWrap();
  request.handle = handle;
  request.oncomplete = ignore;
  if (Array.isArray(bytes)) handle.writev(request, bytes, true);
  else handle.writeBuffer(request, bytes);
  if (native.state[native.lastWriteAsync] !== 0) request.buffer = bytes;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const KEY = /^sec-websocket-key:[ \t]*(\S+)/im;

/** One accepted TCP connection: the upgrade request, then a floor connection. */
class RawPeer {
  readonly #handle: TcpHandle;
  readonly #server: WebSocketServer;
  #head: Buffer | undefined;
  #connection: FloorConnection | undefined;
  #closed = false;

  constructor(handle: TcpHandle, server: WebSocketServer) {
    this.#handle = handle;
    this.#server = server;
    handle.setNoDelay(true);
    handle.onread = (arrayBuffer) => {
      const length = native.state[native.readBytes]!;
      if (length < 0) this.#close();
      else this.#receive(Buffer.from(arrayBuffer, native.state[native.bufferOffset], length));
    };
    handle.readStart();
  }

  #receive(chunk: Buffer): void {
    if (this.#connection !== undefined) {
      this.#connection.receive(chunk);
      return;
    }
    const bytes = this.#head === undefined ? chunk : Buffer.concat([this.#head, chunk]);
    const end = bytes.indexOf(HEAD_END);
    if (end < 0) {
      this.#head = bytes;
      return;
    }
    this.#head = undefined;
    const key = KEY.exec(bytes.toString('latin1', 0, end))?.[1] ?? '';
    const accept = createHash('sha1').update(key + GUID).digest('base64');
    write(this.#handle, Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`, 'latin1'));
    const handle = this.#handle;
    const connection = new FloorConnection({
      write: (frame) => write(handle, frame),
      writePair: (header, payload) => write(handle, [header, payload]),
      end: () => {
        const request = new native.ShutdownWrap();
        request.handle = handle;
        request.oncomplete = () => this.#close();
        handle.shutdown(request);
      },
    });
    this.#connection = connection;
    this.#server.clients.add(connection);
    connection.on('close', () => this.#server.clients.delete(connection));
    this.#server.emit('connection', connection);
    if (bytes.length > end + 4) connection.receive(bytes.subarray(end + 4));
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handle.readStop();
    this.#handle.close();
    this.#connection?.closed();
  }
}

/** The `ws` 8 server subset the benchmark server uses, on a raw listening handle. */
export class WebSocketServer extends EventEmitter {
  /** Open connections. */
  readonly clients = new Set<FloorConnection>();
  readonly #listener: TcpHandle;
  readonly #address: { address: string; family: string; port: number };

  /**
   * Listens at once.
   * @param options - host and port; the other options are the benchmark's and ignored
   */
  constructor(options: WsLikeServerOptions) {
    super();
    this.#listener = new native.TCP(native.serverType);
    const status = this.#listener.bind(options.host, options.port) || this.#listener.listen(511);
    if (status !== 0) throw new Error(`floor-raw cannot listen on ${options.host}:${options.port} (libuv status ${status})`);
    this.#listener.onconnection = (error, client) => {
      if (error === 0 && client !== undefined) new RawPeer(client, this);
    };
    const out: Record<string, unknown> = {};
    this.#listener.getsockname(out);
    this.#address = { address: String(out['address']), family: String(out['family']), port: Number(out['port']) };
    setImmediate(() => this.emit('listening'));
  }

  /** The listening address. */
  address(): { address: string; family: string; port: number } {
    return this.#address;
  }
}
