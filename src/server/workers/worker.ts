/**
 * One worker of `parley serve --workers`: the whole server (startServer), in a process the
 * supervisor forked with node:cluster. Without Redis its cluster adapter is the primary's
 * sequencer over IPC ({@link IpcAdapter}); with Redis it uses Redis like any other node. It tells
 * the primary once it listens, drains (close code 1012 or the configured one) when the primary
 * says so or when the primary goes away, and then exits.
 * @packageDocumentation
 */
import cluster from 'node:cluster';
import type { ServerConfig } from '../config.js';
import { startServer, type ServerHandle, type StartOptions } from '../serve.js';
import { IpcAdapter } from './ipc-adapter.js';
import { isIpcMessage, type ControlMessage, type SequencerMessage } from './ipc-messages.js';

/** Environment the supervisor gives a worker (names only; not settings an operator sets). */
export const WORKER_ENV = {
  /** Set to `1` in a worker process. */
  role: 'PARLEY_WORKER',
  /** `reuse-port` or `round-robin`: how the workers share the port. */
  sharing: 'PARLEY_WORKER_SHARING',
  /** The port to bind with SO_REUSEPORT once the first worker picked it (`--port 0`). */
  port: 'PARLEY_WORKER_PORT',
} as const;

/** Whether this process is a worker of `parley serve --workers`. */
export function isWorkerProcess(env: NodeJS.ProcessEnv = process.env): boolean {
  return cluster.isWorker && env[WORKER_ENV.role] === '1';
}

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  /** App factories for the configured `apps` (the command line hands over the bundled ones). */
  apps?: StartOptions['apps'];
  /** Where the supervisor's variables are read. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs this process as a worker: starts the server on the shared port and answers the primary.
 * @throws what startServer throws (the primary reports that the worker failed to start)
 */
export async function runWorker(config: ServerConfig, options: WorkerOptions = {}): Promise<ServerHandle> {
  const env = options.env ?? process.env;
  const reusePort = env[WORKER_ENV.sharing] === 'reuse-port';
  const fixedPort = env[WORKER_ENV.port];
  const port = reusePort && fixedPort !== undefined && fixedPort !== '' ? Number(fixedPort) : config.port;
  const send = (message: unknown): void => {
    if (process.connected) process.send!(message);
  };
  const adapter = config.cluster.adapter === 'memory' ? new IpcAdapter({ send, connected: () => process.connected }) : undefined;
  let handle: ServerHandle | undefined;
  let stopping = false;
  const stop = (code: number | undefined): void => {
    if (stopping) return;
    stopping = true;
    const guard = setTimeout(() => process.exit(1), config.shutdown.timeoutMs + 5000);
    guard.unref();
    const closed = handle === undefined ? Promise.resolve() : handle.close(code === undefined ? {} : { code });
    void closed.then(() => {
      adapter?.close();
      process.exit(0);
    }, () => process.exit(1));
  };
  process.on('message', (message: unknown) => {
    if (!isIpcMessage(message)) return;
    if (message.t === 'shutdown') stop((message).code);
    else adapter?.receive(message as SequencerMessage);
  });
  // The primary is gone: nothing sequences publishes any more; drain so that clients move on.
  process.on('disconnect', () => {
    adapter?.disconnected();
    stop(undefined);
  });
  // A signal sent to the process group (Ctrl-C) reaches the workers too: they drain as the primary asks.
  process.on('SIGINT', () => stop(undefined));
  process.on('SIGTERM', () => stop(undefined));
  const id = cluster.worker?.id ?? 0;
  try {
    handle = await startServer({ ...config, port }, { ...(adapter !== undefined ? { adapter } : {}), ...(options.apps !== undefined ? { apps: options.apps } : {}), worker: { id, reusePort } });
  } catch (error) {
    // The caller reports the error on stderr; the IPC channel would keep this process alive after it.
    setTimeout(() => process.exit(1), 100);
    throw error;
  }
  handle.logger.info({ worker: id, sharing: reusePort ? 'reuse-port' : 'round-robin' }, 'worker listening');
  send({ parley: 1, t: 'listening', port: handle.address.port, url: handle.address.url, wsUrl: handle.address.wsUrl } satisfies ControlMessage);
  return handle;
}
