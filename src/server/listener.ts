/**
 * The server's listening socket: plain HTTP/1.1, or with TLS HTTP/2 and HTTP/1.1 on one port
 * (tls-server.ts, docs/http2.md); the head deadline and the socket cap from `limits`; a bad or
 * slow request head answered as HTTP names it; and the address once it listens.
 * @packageDocumentation
 */
import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpModule } from '../node/node-http.js';
import { refuseUpgrade } from '../node/refuse-upgrade.js';
import type { ServerConfig } from './config.js';
import { createTlsServer } from './tls-server.js';

/** Where a server listens. */
export interface ListenAddress {
  host: string;
  port: number;
  /** `http(s)://host:port` */
  url: string;
  /** `ws(s)://host:port/ws` */
  wsUrl: string;
}

/**
 * Creates the HTTP (or TLS) server, not yet listening. With TLS the PEM files are read here:
 * unreadable ones fail the start before anything else is opened.
 * @throws Error naming an unreadable certificate or key file
 */
export function createListener(config: Pick<ServerConfig, 'tls' | 'limits'>): http.Server {
  const { limits } = config;
  const headersTimeout = limits.headersTimeoutMs;
  const timeouts = { headersTimeout, requestTimeout: Math.max(30_000, headersTimeout) };
  const server = config.tls.cert !== ''
    ? createTlsServer(config.tls, timeouts)
    : httpModule.createServer({
      ...timeouts,
      keepAliveTimeout: 5_000,
      // Node checks the deadlines every 30 s by default, which let slow headers run ~25 s past
      // the deadline; checking often keeps the cut within a second of it.
      connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(headersTimeout / 4))),
    });
  server.maxConnections = limits.maxSockets > 0 ? limits.maxSockets : limits.maxConnections + 1024;
  server.on('clientError', (error: Error & { code?: string }, socket) => {
    // The answer names the problem as HTTP does: a head too slow (408) or too large (431).
    const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    refuseUpgrade(socket, status);
  });
  return server;
}

/** Listens on `port` at `host` and resolves with the address. @throws Error such as EADDRINUSE */
export async function listen(server: http.Server, port: number, host: string, tls: boolean): Promise<ListenAddress> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const hostText = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  const s = tls ? 's' : '';
  return { host: bound.address, port: bound.port, url: `http${s}://${hostText}:${bound.port}`, wsUrl: `ws${s}://${hostText}:${bound.port}/ws` };
}
