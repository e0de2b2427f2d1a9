/**
 * Open-loop echo at a fixed total rate: message j is due at start + j / rate and goes out on
 * connection j mod n, whether or not earlier echoes came back. Each round trip is timed from the
 * moment its frame was written to the moment its echo was verified.
 */
import type { Socket } from 'node:net';
import { openConnection, makeTarget } from '../connection.js';
import { handleControlFrame } from '../control-frames.js';
import type { Counters } from '../counters.js';
import { EchoVerifier } from '../echo-verifier.js';
import { Opcode, buildMaskedFrame, patternedPayload } from '../frame-builder.js';
import type { LatencyJob, WorkerResult } from '../messages.js';
import { HANDSHAKE_TIMEOUT_MS, SocketSet, runBounded, type Scenario } from '../scenario.js';

/** One connection and the write times of its echoes still outstanding, oldest first. */
interface Lane {
  readonly socket: Socket;
  readonly sentAt: number[];
}

/** The fixed-rate latency scenario. */
export class LatencyScenario implements Scenario {
  readonly #job: LatencyJob;
  readonly #counters: Counters;
  readonly #sockets: SocketSet;
  readonly #payload: Buffer;
  readonly #frame: Buffer;
  readonly #lanes: Lane[] = [];
  readonly #samples: number[] = [];
  #running = false;
  #startedAt = 0;
  #next = 0;
  #timer: NodeJS.Timeout | undefined;

  /**
   * @param job - connections, rate and payload size
   * @param counters - this worker's counters
   */
  constructor(job: LatencyJob, counters: Counters) {
    this.#job = job;
    this.#counters = counters;
    this.#sockets = new SocketSet(counters);
    this.#payload = patternedPayload(job.payloadSize, job.payloadSize + 7);
    this.#frame = buildMaskedFrame(Opcode.binary, this.#payload);
  }

  /** @inheritDoc */
  async open(): Promise<void> {
    const target = makeTarget(this.#job.host, this.#job.port);
    await runBounded(this.#job.connections, 50, async () => {
      const lanes: Lane[] = [];
      const { socket } = await openConnection(
        target,
        (socket) => {
          const lane: Lane = { socket, sentAt: [] };
          lanes.push(lane);
          return this.#verifierFor(lane);
        },
        HANDSHAKE_TIMEOUT_MS,
      );
      this.#sockets.add(socket);
      this.#lanes.push(...lanes);
    });
  }

  #verifierFor(lane: Lane): EchoVerifier {
    return new EchoVerifier(this.#payload, {
      verified: () => {
        const sentAt = lane.sentAt.shift();
        if (sentAt === undefined) {
          this.#sockets.failAndDrop(lane.socket, 'an echo arrived for a message never sent');
          return;
        }
        if (this.#counters.measuring) this.#samples.push(performance.now() - sentAt);
        this.#counters.verified(this.#payload.length);
      },
      failed: (reason) => this.#sockets.failAndDrop(lane.socket, reason),
      control: (opcode, payload) => {
        const reason = handleControlFrame(opcode, payload, lane.socket);
        if (reason !== undefined) this.#sockets.failAndDrop(lane.socket, reason);
      },
    });
  }

  /** @inheritDoc */
  start(): void {
    this.#running = true;
    this.#startedAt = performance.now();
    this.#next = 0;
    this.#tick();
  }

  /** Sends every message now due, then sleeps until the next one is. */
  #tick(): void {
    this.#timer = undefined;
    if (!this.#running || this.#lanes.length === 0) return;
    const intervalMs = 1000 / this.#job.ratePerSecond;
    let now = performance.now();
    while (this.#startedAt + this.#next * intervalMs <= now) {
      const lane = this.#lanes[this.#next % this.#lanes.length];
      this.#next++;
      if (lane === undefined || lane.socket.destroyed) continue;
      lane.sentAt.push(now);
      lane.socket.write(this.#frame);
      this.#counters.sent();
      now = performance.now();
    }
    const wait = this.#startedAt + this.#next * intervalMs - performance.now();
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, wait));
  }

  /** @inheritDoc */
  nextRound(): void {}

  /** @inheritDoc */
  pause(): void {
    this.#running = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** @inheritDoc */
  outstanding(): number {
    let count = 0;
    for (const lane of this.#lanes) if (!lane.socket.destroyed) count += lane.sentAt.length;
    return count;
  }

  /** @inheritDoc */
  result(): WorkerResult {
    return this.#counters.result(undefined, Float64Array.from(this.#samples));
  }

  /** @inheritDoc */
  close(): void {
    this.pause();
    this.#sockets.closeAll();
  }
}
