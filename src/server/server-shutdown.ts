/**
 * The graceful shutdown of a whole `parley serve`, in order: refuse new connections (the state
 * says shutting down, so the pipeline answers 503), drain every WebSocket with the shutdown code
 * (drainConnections, shutdown.ts) while the apps close theirs, stop the server's own parts, stop
 * listening, close the adapter the server owns. It runs once; later calls get the same result.
 * @packageDocumentation
 */
import type * as http from 'node:http';
import type { Logger } from 'pino';
import type { WebSocket } from '../index.js';
import type { ServerConfig } from './config.js';
import type { ServerState } from './server-state.js';
import { drainConnections, type DrainResult } from './shutdown.js';

/** Options of a server's `close()`. */
export interface CloseOptions {
  /** Close code; default `shutdown.closeCode`. */
  code?: number;
  /** Drain deadline in ms; default `shutdown.timeoutMs`. */
  timeoutMs?: number;
}

/** What the shutdown stops, in the order it stops them. */
export interface ShutdownParts {
  config: Pick<ServerConfig, 'shutdown'>;
  state: ServerState;
  log: Logger;
  /** Every open connection the pipeline accepted (drained). */
  connections: ReadonlySet<WebSocket>;
  /** Closes what has connections of its own besides the pipeline's list (the admin feed's timer, the apps), with `code`. */
  closeClients: (code: number) => Promise<void>;
  /** Stops what needs no drain once the connections are gone (the `/ws` server, the control channel). */
  stopParts: () => void;
  server: http.Server;
  /** Closes the cluster adapter if the server owns it. */
  closeAdapter: () => Promise<void>;
}

/** Ms after which keep-alive HTTP connections still busy are cut once the server stops listening. */
const HTTP_CUT_MS = 1000;

/** Makes the server's `close()`. */
export function serverShutdown(parts: ShutdownParts): (options?: CloseOptions) => Promise<DrainResult> {
  const { config, state, log, server } = parts;
  let closing: Promise<DrainResult> | undefined;
  const run = async (options: CloseOptions): Promise<DrainResult> => {
    state.shuttingDown = true;
    const code = options.code ?? config.shutdown.closeCode;
    const timeoutMs = options.timeoutMs ?? config.shutdown.timeoutMs;
    log.info({ connections: parts.connections.size, code, timeoutMs }, 'shutting down: draining connections');
    // The admin feed and the apps first: they stop their timers and close their connections with
    // the same code as the drain, which waits for those too (they are in the pipeline's list).
    const clients = parts.closeClients(code);
    const [result] = await Promise.all([
      drainConnections(parts.connections, { code, reason: 'server shutting down', timeoutMs, spreadMs: config.shutdown.spreadMs }),
      clients,
    ]);
    parts.stopParts();
    // Stop listening, then end idle keep-alive sockets; busy ones finish their request.
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const cut = setTimeout(() => server.closeAllConnections(), HTTP_CUT_MS);
    cut.unref();
    await stopped;
    clearTimeout(cut);
    await parts.closeAdapter();
    log.info({ closed: result.closed, terminated: result.terminated }, 'shutdown complete');
    log.flush();
    return result;
  };
  return (options = {}) => {
    closing ??= run(options);
    return closing;
  };
}
