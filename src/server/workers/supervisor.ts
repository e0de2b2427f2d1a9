/**
 * The primary process of `parley serve --workers N`: it forks N workers (node:cluster), holds the
 * sequencer that is their bus when no Redis is configured, replaces a worker that dies (with a
 * back-off), and on SIGHUP replaces them one at a time (a zero-downtime reload: each new worker
 * listens before the old one drains its clients with 1012). It serves no connection itself.
 *
 * The port is shared with SO_REUSEPORT where Node and the OS have it (Linux or FreeBSD, Node
 * ≥ 22.12 or ≥ 23.1): every worker binds it and the kernel spreads connections, so a connection
 * never passes through the primary. Elsewhere node:cluster's round robin: the primary accepts
 * and hands each new connection to a worker (once, at accept; its traffic then goes straight to
 * the worker). See docs/operations.md, "Workers".
 * @packageDocumentation
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { isIpcMessage, type ControlMessage, type WorkerRequest } from './ipc-messages.js';
import { Sequencer } from './sequencer.js';
import { WORKER_ENV } from './worker.js';

/** How the workers share the port. */
export type Sharing = 'reuse-port' | 'round-robin';

/**
 * Whether `server.listen({ reusePort })` works here: Node ≥ 22.12 (22.x) or ≥ 23.1, on an OS where
 * Node supports SO_REUSEPORT with load balancing (Linux, FreeBSD).
 */
export function reusePortSupported(nodeVersion: string = process.versions.node, platform: NodeJS.Platform = process.platform): boolean {
  const [major = 0, minor = 0] = nodeVersion.split('.').map(Number);
  const node = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
  return node && (platform === 'linux' || platform === 'freebsd');
}

/** The sharing to use: `PARLEY_WORKER_SHARING` when set (to try the other one), else the best supported. */
export function chooseSharing(env: NodeJS.ProcessEnv = process.env): Sharing {
  const forced = env[WORKER_ENV.sharing];
  if (forced === 'round-robin') return 'round-robin';
  if (forced === 'reuse-port' && !reusePortSupported()) throw new Error(`${WORKER_ENV.sharing}=reuse-port, but this Node (${process.versions.node}) or OS (${process.platform}) has no SO_REUSEPORT listen option`);
  return reusePortSupported() ? 'reuse-port' : 'round-robin';
}

/** Back-off before replacing a worker that died: 100 ms, doubling per death in a row, at most 10 s. */
export function restartDelay(deathsInARow: number): number {
  return deathsInARow <= 1 ? 100 : Math.min(10_000, 100 * 2 ** (deathsInARow - 1));
}

/** A worker that lived this long resets its slot's count of deaths in a row. */
const STABLE_MS = 30_000;

interface Slot {
  readonly n: number;
  worker: Worker | undefined;
  startedAt: number;
  deaths: number;
  timer: NodeJS.Timeout | undefined;
}

/** Where a worker listens. */
export interface WorkerAddress {
  port: number;
  url: string;
  wsUrl: string;
}

/** What a worker's start or stop looks like to the supervisor. */
interface Tracked {
  readonly listening: Promise<WorkerAddress>;
  readonly exited: Promise<void>;
  /** Exits that the supervisor asked for (reload, shutdown) are not replaced. */
  expected: boolean;
}

/** A running supervisor. */
export interface Supervisor {
  /** Where the workers listen (the port they share). */
  readonly address: WorkerAddress;
  readonly sharing: Sharing;
  /** The workers now, by slot. */
  workers(): Worker[];
  /** Replaces the workers one at a time (SIGHUP). Resolves when every slot has a new worker. */
  reload(): Promise<void>;
  /** Drains every worker with `code` and stops. */
  close(code?: number): Promise<void>;
  readonly logger: Logger;
}

/**
 * Starts `count` workers and resolves once they all listen.
 * @throws Error when a worker fails to start (its own error is on stderr)
 */
export async function startSupervisor(config: ServerConfig, count: number): Promise<Supervisor> {
  const log = createLogger(config.log.level).child({ component: 'supervisor' });
  const sharing = chooseSharing();
  const sequencer = config.cluster.adapter === 'memory' ? new Sequencer() : undefined;
  cluster.schedulingPolicy = cluster.SCHED_RR;
  // 'advanced': structured clone, so message bytes cross as bytes (not JSON arrays of numbers).
  cluster.setupPrimary({ serialization: 'advanced' });
  const tracked = new Map<Worker, Tracked>();
  const slots: Slot[] = Array.from({ length: count }, (_, n) => ({ n, worker: undefined, startedAt: 0, deaths: 0, timer: undefined }));
  let port = 0;
  let closing = false;

  const fork = (slot: Slot): Worker => {
    const env: Record<string, string> = { [WORKER_ENV.role]: '1', [WORKER_ENV.sharing]: sharing };
    // With SO_REUSEPORT each worker binds for itself: once the first picked a port (--port 0), the rest take it.
    if (sharing === 'reuse-port' && port !== 0) env[WORKER_ENV.port] = String(port);
    const worker = cluster.fork(env);
    const id = worker.id;
    sequencer?.add(id, (message) => {
      if (worker.isConnected()) worker.send(message);
    });
    let onListening!: (address: WorkerAddress) => void;
    let onFailed!: (error: Error) => void;
    const listening = new Promise<WorkerAddress>((resolve, reject) => { onListening = resolve; onFailed = reject; });
    listening.catch(() => {});
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const t: Tracked = { listening, exited, expected: false };
    tracked.set(worker, t);
    worker.on('message', (message: unknown) => {
      if (!isIpcMessage(message)) return;
      if (message.t === 'listening') {
        const { port: p, url, wsUrl } = message;
        onListening({ port: p, url, wsUrl });
      }
      else sequencer?.handle(id, message as WorkerRequest);
    });
    worker.once('exit', (code, signal) => {
      sequencer?.remove(id);
      tracked.delete(worker);
      onFailed(new Error(`worker ${id} exited before it listened (code ${String(code)}, signal ${String(signal)})`));
      if (slot.worker === worker) slot.worker = undefined;
      if (t.expected || closing) {
        log.info({ worker: id, pid: worker.process.pid, code, signal }, 'worker stopped');
        return;
      }
      slot.deaths = Date.now() - slot.startedAt > STABLE_MS ? 1 : slot.deaths + 1;
      const delay = restartDelay(slot.deaths);
      log.error({ worker: id, pid: worker.process.pid, code, signal, restartInMs: delay }, 'worker died: replacing it');
      slot.timer = setTimeout(() => {
        slot.timer = undefined;
        if (closing || slot.worker !== undefined) return;
        const fresh = start(slot);
        fresh.listening.then(
          () => log.info({ worker: fresh.worker.id, pid: fresh.worker.process.pid }, 'replacement worker listening'),
          (error: unknown) => log.error({ err: error }, 'replacement worker failed to start'),
        );
      }, delay);
    });
    return worker;
  };

  const start = (slot: Slot): { worker: Worker; listening: Promise<WorkerAddress> } => {
    const worker = fork(slot);
    slot.worker = worker;
    slot.startedAt = Date.now();
    return { worker, listening: tracked.get(worker)!.listening };
  };

  const stopWorker = async (worker: Worker, code: number): Promise<void> => {
    const t = tracked.get(worker);
    if (t === undefined) return;
    t.expected = true;
    if (worker.isConnected()) worker.send({ parley: 1, t: 'shutdown', code } satisfies ControlMessage);
    else worker.process.kill('SIGTERM');
    // The worker drains within shutdown.timeoutMs; past that (and a margin) it is killed.
    const kill = setTimeout(() => worker.process.kill('SIGKILL'), config.shutdown.timeoutMs + 5000);
    kill.unref();
    await t.exited;
    clearTimeout(kill);
  };

  let address: WorkerAddress;
  try {
    // The first alone: with --port 0 and SO_REUSEPORT it picks the port the others bind.
    address = await start(slots[0]!).listening;
    port = address.port;
    await Promise.all(slots.slice(1).map((slot) => start(slot).listening));
  } catch (error) {
    closing = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
    sequencer?.close();
    throw error;
  }
  log.info({ workers: count, sharing, port, bus: sequencer !== undefined ? 'primary' : 'redis' }, 'workers listening');

  let reloading: Promise<void> | undefined;
  let again = false;
  const reloadOnce = async (): Promise<void> => {
    log.info({ workers: count }, 'reload: replacing workers one at a time');
    for (const slot of slots) {
      if (closing) return;
      const old = slot.worker;
      clearTimeout(slot.timer);
      const fresh = start(slot);
      try {
        await fresh.listening;
      } catch (error) {
        log.error({ err: error, worker: fresh.worker.id }, 'reload stopped: a new worker failed to start; the old ones keep serving');
        slot.worker = old;
        return;
      }
      if (old !== undefined) await stopWorker(old, 1012);
      log.info({ slot: slot.n, worker: fresh.worker.id, replaced: old?.id }, 'reload: worker replaced');
    }
    log.info('reload complete');
  };
  const reload = (): Promise<void> => {
    if (reloading !== undefined) {
      // One more pass after this one: the signal may mean "a newer build is on disk now".
      again = true;
      return reloading;
    }
    reloading = (async () => {
      do {
        again = false;
        await reloadOnce();
      } while (again && !closing);
      reloading = undefined;
    })();
    return reloading;
  };

  let closed: Promise<void> | undefined;
  const close = (code: number = config.shutdown.closeCode): Promise<void> => {
    closed ??= (async () => {
      closing = true;
      for (const slot of slots) clearTimeout(slot.timer);
      log.info({ code }, 'shutting down: draining every worker');
      await Promise.all([...tracked.keys()].map((w) => stopWorker(w, code)));
      sequencer?.close();
      log.info('shutdown complete');
      log.flush();
    })();
    return closed;
  };

  return {
    address,
    sharing,
    logger: log,
    workers: () => slots.flatMap((s) => (s.worker !== undefined ? [s.worker] : [])),
    reload,
    close,
  };
}
