/**
 * Idle connections: open them all (each handshake verified), then send nothing. Any message from
 * the server is a failure; pings are answered. The result's count is the connections still open.
 */
import type { Socket } from 'node:net';
import { openConnection, makeTarget } from '../connection.js';
import { handleControlFrame } from '../control-frames.js';
import type { Counters } from '../counters.js';
import type { FrameSink } from '../frame-parser.js';
import type { IdleJob, WorkerResult } from '../messages.js';
import { HANDSHAKE_TIMEOUT_MS, SocketSet, runBounded, type Scenario } from '../scenario.js';

/** The idle connections scenario. */
export class IdleScenario implements Scenario {
  readonly #job: IdleJob;
  readonly #counters: Counters;
  readonly #sockets: SocketSet;

  /**
   * @param job - how many connections and how fast to open them
   * @param counters - this worker's counters
   */
  constructor(job: IdleJob, counters: Counters) {
    this.#job = job;
    this.#counters = counters;
    this.#sockets = new SocketSet(counters);
  }

  /** @inheritDoc */
  async open(): Promise<void> {
    const target = makeTarget(this.#job.host, this.#job.port);
    await runBounded(this.#job.connections, this.#job.concurrency, async () => {
      const { socket } = await openConnection(target, (socket) => this.#sinkFor(socket), HANDSHAKE_TIMEOUT_MS);
      this.#sockets.add(socket);
    });
  }

  #sinkFor(socket: Socket): FrameSink {
    const drop = (reason: string): void => this.#sockets.failAndDrop(socket, reason);
    return {
      onMessageStart: () => drop('message on an idle connection'),
      onPayload: () => {},
      onMessageEnd: () => {},
      onControl: (opcode, payload) => {
        const reason = handleControlFrame(opcode, payload, socket);
        if (reason !== undefined) drop(reason);
      },
      onProtocolError: (reason) => drop(`framing: ${reason}`),
    };
  }

  /** @inheritDoc */
  start(): void {}

  /** @inheritDoc */
  nextRound(): void {}

  /** @inheritDoc */
  pause(): void {}

  /** @inheritDoc */
  outstanding(): number {
    return 0;
  }

  /** @inheritDoc */
  result(): WorkerResult {
    return this.#counters.result(this.#sockets.size);
  }

  /** @inheritDoc */
  close(): void {
    this.#sockets.closeAll();
  }
}
