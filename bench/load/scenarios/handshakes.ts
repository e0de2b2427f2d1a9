/**
 * Handshake churn: each lane opens a connection (verified 101 and accept value), sends a close
 * frame, checks the server's close frame and waits for the server to drop TCP, then starts again.
 * The server closes TCP first (RFC 6455 §7.1.1), so TIME_WAIT lands on the server side and the
 * generator's ephemeral ports stay free.
 */
import type { Socket } from 'node:net';
import { errorMessage } from '../../error-message.js';
import { openConnection, makeTarget, type Target } from '../connection.js';
import type { Counters } from '../counters.js';
import { Opcode, buildCloseFrame } from '../frame-builder.js';
import type { FrameSink } from '../frame-parser.js';
import type { HandshakeJob, WorkerResult } from '../messages.js';
import { HANDSHAKE_TIMEOUT_MS, type Scenario } from '../scenario.js';

/** The handshake churn scenario. */
export class HandshakeScenario implements Scenario {
  readonly #job: HandshakeJob;
  readonly #counters: Counters;
  readonly #target: Target;
  readonly #closeFrame = buildCloseFrame();
  readonly #inFlight = new Set<Socket>();
  #lanes = 0;
  #closing = false;
  #running = false;

  /**
   * @param job - target and concurrency
   * @param counters - this worker's counters
   */
  constructor(job: HandshakeJob, counters: Counters) {
    this.#job = job;
    this.#counters = counters;
    this.#target = makeTarget(job.host, job.port);
  }

  /** @inheritDoc */
  open(): Promise<void> {
    return Promise.resolve();
  }

  /** @inheritDoc */
  start(): void {
    this.#running = true;
    // Lanes from before a pause may still be finishing their last cycle; top up to the bound.
    while (this.#lanes < this.#job.concurrency) void this.#lane();
  }

  async #lane(): Promise<void> {
    this.#lanes++;
    try {
      while (this.#running) {
        try {
          await this.#once();
          this.#counters.verified(0);
        } catch (error) {
          // A handshake cut by the generator's own teardown is not a failure of the server.
          if (!this.#closing) this.#counters.fail(errorMessage(error));
        }
      }
    } finally {
      this.#lanes--;
    }
  }

  /** One open, close handshake and TCP close; rejects with the reason it was not clean. */
  #once(): Promise<void> {
    return new Promise((resolve, reject) => {
      let closeFrameOk = false;
      let problem: string | undefined;
      const sink: FrameSink = {
        onMessageStart: () => (problem ??= 'data message on a closing connection'),
        onPayload: () => {},
        onMessageEnd: () => {},
        onControl: (opcode, payload) => {
          if (opcode !== Opcode.close) return;
          const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
          // The server echoes the status it received, or sends none (RFC 6455 §5.5.1).
          if (code === 1000 || code === 1005) closeFrameOk = true;
          else problem ??= `server closed with code ${code}`;
        },
        onProtocolError: (reason) => (problem ??= `framing: ${reason}`),
      };
      openConnection(this.#target, () => sink, HANDSHAKE_TIMEOUT_MS).then(
        ({ socket }) => {
          this.#inFlight.add(socket);
          const timer = setTimeout(() => {
            problem ??= 'server did not finish the close handshake in time';
            socket.destroy();
          }, HANDSHAKE_TIMEOUT_MS);
          socket.once('close', () => {
            clearTimeout(timer);
            this.#inFlight.delete(socket);
            if (problem !== undefined) reject(new Error(problem));
            else if (!closeFrameOk) reject(new Error('TCP closed without a close frame from the server'));
            else resolve();
          });
          socket.write(this.#closeFrame);
        },
        (error: unknown) => reject(error instanceof Error ? error : new Error(errorMessage(error))),
      );
    });
  }

  /** @inheritDoc */
  nextRound(): void {}

  /** @inheritDoc */
  pause(): void {
    this.#running = false;
  }

  /** @inheritDoc */
  outstanding(): number {
    return this.#lanes;
  }

  /** @inheritDoc */
  result(): WorkerResult {
    return this.#counters.result();
  }

  /** @inheritDoc */
  close(): void {
    this.#running = false;
    this.#closing = true;
    for (const socket of this.#inFlight) socket.destroy();
    this.#inFlight.clear();
  }
}
