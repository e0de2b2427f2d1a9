/**
 * The floor: the least a WebSocket server on Node's public socket API (`node:http` upgrade,
 * `net.Socket` reads and writes) can do for the benchmark's workloads, loaded into the `parley`
 * slot with `--parley-module floor`.
 *
 * It is not a WebSocket implementation. It answers the upgrade without checking it, parses only
 * what the load generator sends (whole masked frames, no fragmentation, no extensions), validates
 * nothing, enforces no limit and has no backpressure, heartbeat or close timeout. What it costs per
 * message, per handshake and per connection is therefore what Node itself costs — the socket
 * layer, the HTTP parser, the event loop — plus a few lines of framing. A library that keeps the
 * protocol's guarantees on the same API cannot go below it, so its ratios against `ws` bound what
 * any such library reaches on this machine (docs/benchmarks.md, "What Node's socket layer allows").
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { FloorConnection, GUID } from './floor-connection.js';
import type { WsLikeServerOptions } from './ws-api.js';

/** The `ws` 8 server subset the benchmark server uses (`bench/servers/ws-api.ts`). */
export class WebSocketServer extends EventEmitter {
  /** Open connections. */
  readonly clients = new Set<FloorConnection>();
  readonly #server: Server;

  /**
   * Listens at once, as `ws` does with a port.
   * @param options - host and port; the other options are the benchmark's and ignored
   */
  constructor(options: WsLikeServerOptions) {
    super();
    this.#server = createServer((_request, response) => {
      response.writeHead(426).end();
    });
    this.#server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade(request, socket as Socket, head));
    this.#server.on('error', (error: Error) => this.emit('error', error));
    this.#server.listen(options.port, options.host, () => this.emit('listening'));
  }

  /** The listening address. */
  address(): AddressInfo | string | null {
    return this.#server.address();
  }

  #upgrade(request: IncomingMessage, socket: Socket, head: Buffer): void {
    const key = request.headers['sec-websocket-key'] ?? '';
    const accept = createHash('sha1').update(key + GUID).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket.setNoDelay(true);
    const connection = new FloorConnection({
      write: (bytes) => socket.write(bytes),
      writePair: (header, payload) => {
        socket.cork();
        socket.write(header);
        socket.write(payload);
        socket.uncork();
      },
      end: () => socket.end(),
    });
    socket.on('data', (chunk: Buffer) => connection.receive(chunk));
    socket.on('error', (error: Error) => connection.emit('error', error));
    socket.on('close', () => connection.closed());
    this.clients.add(connection);
    connection.on('close', () => this.clients.delete(connection));
    this.emit('connection', connection);
    if (head.length > 0) connection.receive(head);
  }
}
