/**
 * The listener of `parley serve` with TLS: one port speaking HTTP/2 and HTTP/1.1 (ALPN), with
 * WebSockets over either (RFC 8441 extended CONNECT on HTTP/2, the upgrade on HTTP/1.1).
 *
 * Everything above the listener sees one shape: extended-CONNECT streams are re-emitted as the
 * server's 'upgrade' events (request, the stream as the socket, an empty head), so the apps, the
 * `/ws` pipeline and the admin page route them as they route upgrades. HTTP/2 requests reach the
 * 'request' listeners through Node's compatibility API.
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as http from 'node:http';
import type * as Http2 from 'node:http2';
import { onExtendedConnect } from '../node/index.js';
import { httpModule } from '../node/node-http.js';

const load = createRequire(import.meta.url);

/** Where the PEM files are (the `tls` settings). */
export interface TlsFiles {
  /** Certificate chain, PEM. */
  cert: string;
  /** Private key, PEM. */
  key: string;
}

function readPem(path: string, setting: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`${setting}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
}

/**
 * Creates (does not start) the HTTP/2 + HTTP/1.1 TLS server. It carries the methods
 * `parley serve`'s shutdown calls on an `http.Server` (`closeIdleConnections`,
 * `closeAllConnections`), extended to HTTP/2 sessions: idle ones get GOAWAY, then all are cut.
 * @throws Error naming the setting when a PEM file cannot be read or is not a usable key pair
 */
export function createTlsServer(files: TlsFiles, timeouts: { headersTimeout: number; requestTimeout: number } = { headersTimeout: 10_000, requestTimeout: 30_000 }): http.Server {
  const http2 = load('node:http2') as typeof Http2;
  const cert = readPem(files.cert, 'tls.cert');
  const key = readPem(files.key, 'tls.key');
  let server: Http2.Http2SecureServer;
  try {
    server = http2.createSecureServer({ cert, key, allowHTTP1: true });
  } catch (error) {
    throw new Error(`tls.cert/tls.key: not a usable certificate and key: ${(error as Error).message}`, { cause: error });
  }
  // The same deadlines as the plain listener: a client that trickles its head is cut.
  const h1 = server as unknown as { headersTimeout: number; requestTimeout: number };
  h1.headersTimeout = timeouts.headersTimeout;
  h1.requestTimeout = timeouts.requestTimeout;

  const sessions = new Set<Http2.ServerHttp2Session>();
  server.on('session', (session: Http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    // A session's own errors (a peer breaking HTTP/2) end that session, never the process.
    session.on('error', () => session.destroy());
  });
  // Extended CONNECT becomes 'upgrade': one routing path for both transports.
  onExtendedConnect(server, (req, stream, head) => server.emit('upgrade', req, stream, head));

  const httpProto = httpModule.Server.prototype;
  // Node's own closeIdleConnections of an HTTP/2 server ends only the HTTP/1.1 connections.
  const closeIdle = (server as unknown as { closeIdleConnections(): void }).closeIdleConnections.bind(server);
  Object.assign(server, {
    closeIdleConnections(): void {
      // GOAWAY (RFC 9113 §6.8): no new streams; the session closes when its streams have.
      for (const session of sessions) session.close();
      closeIdle();
    },
    closeAllConnections(): void {
      for (const session of sessions) session.destroy();
      httpProto.closeAllConnections.call(server as unknown as http.Server);
    },
  });
  return server as unknown as http.Server;
}
