/**
 * The shape every generator scenario has, and the bookkeeping they share: the set of open sockets
 * and telling a server's unexpected close apart from the generator's own teardown.
 */
import type { Socket } from 'node:net';
import type { Counters } from './counters.js';
import { errorMessage } from '../error-message.js';
import type { WorkerResult } from './messages.js';

/** One kind of load, run inside a worker through the phases the orchestrator commands. */
export interface Scenario {
  /** Opens the connections (verifying each handshake); resolves when traffic can start. */
  open(): Promise<void>;
  /** Begins or resumes sending. */
  start(): void;
  /** Broadcast only: every client of this worker sends its next message. */
  nextRound(): void;
  /** Stops sending; replies still arriving are checked (counted only inside a window). */
  pause(): void;
  /** Replies still awaited (for broadcast: 1 while a round is incomplete). */
  outstanding(): number;
  /** What was measured. */
  result(): WorkerResult;
  /** Destroys every socket. */
  close(): void;
}

/**
 * The sockets of a scenario. A socket closing before {@link SocketSet.closeAll} is a failure:
 * no workload asks the server to close a connection.
 */
export class SocketSet {
  readonly #sockets = new Set<Socket>();
  readonly #counters: Counters;
  #closing = false;

  /**
   * @param counters - where unexpected closes are recorded
   */
  constructor(counters: Counters) {
    this.#counters = counters;
  }

  /** Live sockets. */
  get size(): number {
    return this.#sockets.size;
  }

  /** Whether {@link SocketSet.closeAll} has been called. */
  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Tracks a socket.
   * @param socket - an open connection's socket
   * @param expectClose - true when the server closing it is part of the workload
   */
  add(socket: Socket, expectClose = false): void {
    this.#sockets.add(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      if (!this.#closing && !expectClose) this.#counters.fail('the server closed a connection');
    });
  }

  /**
   * Records a failure and drops the connection; its close is then not counted again.
   * @param socket - the connection that failed
   * @param reason - why
   */
  failAndDrop(socket: Socket, reason: string): void {
    this.#counters.fail(reason);
    this.#sockets.delete(socket);
    socket.destroy();
  }

  /** Destroys every socket, without counting failures. */
  closeAll(): void {
    this.#closing = true;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }
}

/**
 * Runs `count` tasks with at most `concurrency` in flight.
 * @param count - how many tasks
 * @param concurrency - the bound
 * @param task - the task for index i
 * @returns resolves when all have settled; rejects with the first error after all settled
 */
export async function runBounded(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let firstError: unknown;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      try {
        await task(index);
      } catch (error) {
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  if (firstError !== undefined) throw firstError instanceof Error ? firstError : new Error(errorMessage(firstError));
}

/** How long one handshake may take before it counts as failed. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
