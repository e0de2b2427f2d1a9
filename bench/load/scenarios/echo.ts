/**
 * Closed-loop echo: each connection sends its pre-built frame, waits for the verified echo and
 * sends again. Throughput is then bounded by the round trip, as in the guide's reference figures.
 */
import type { Socket } from 'node:net';
import { openConnection, makeTarget } from '../connection.js';
import { handleControlFrame } from '../control-frames.js';
import type { Counters } from '../counters.js';
import { EchoVerifier } from '../echo-verifier.js';
import { Opcode, buildMaskedFrame, patternedPayload } from '../frame-builder.js';
import type { EchoJob, WorkerResult } from '../messages.js';
import { HANDSHAKE_TIMEOUT_MS, SocketSet, runBounded, type Scenario } from '../scenario.js';

/** How many handshakes run at once while the connections open. */
const OPEN_CONCURRENCY = 50;

/** The closed-loop echo scenario. */
export class EchoScenario implements Scenario {
  readonly #job: EchoJob;
  readonly #counters: Counters;
  readonly #sockets: SocketSet;
  readonly #payload: Buffer;
  readonly #frame: Buffer;
  readonly #open: Socket[] = [];
  /** Connections whose echo has not come back yet. */
  readonly #awaiting = new Set<Socket>();
  #running = false;

  /**
   * @param job - connections and payload size
   * @param counters - this worker's counters
   */
  constructor(job: EchoJob, counters: Counters) {
    this.#job = job;
    this.#counters = counters;
    this.#sockets = new SocketSet(counters);
    this.#payload = patternedPayload(job.payloadSize, job.payloadSize);
    this.#frame = buildMaskedFrame(Opcode.binary, this.#payload);
  }

  /** @inheritDoc */
  async open(): Promise<void> {
    const target = makeTarget(this.#job.host, this.#job.port);
    await runBounded(this.#job.connections, OPEN_CONCURRENCY, async () => {
      const { socket } = await openConnection(target, (socket) => this.#verifierFor(socket), HANDSHAKE_TIMEOUT_MS);
      this.#sockets.add(socket);
      this.#open.push(socket);
    });
  }

  #verifierFor(socket: Socket): EchoVerifier {
    return new EchoVerifier(this.#payload, {
      verified: () => {
        this.#awaiting.delete(socket);
        this.#counters.verified(this.#payload.length);
        if (this.#running) this.#send(socket);
      },
      failed: (reason) => this.#sockets.failAndDrop(socket, reason),
      control: (opcode, payload) => {
        const reason = handleControlFrame(opcode, payload, socket);
        if (reason !== undefined) this.#sockets.failAndDrop(socket, reason);
      },
    });
  }

  #send(socket: Socket): void {
    this.#awaiting.add(socket);
    socket.write(this.#frame);
    this.#counters.sent();
  }

  /** @inheritDoc */
  start(): void {
    this.#running = true;
    for (const socket of this.#open) {
      if (!this.#awaiting.has(socket) && !socket.destroyed) this.#send(socket);
    }
  }

  /** @inheritDoc */
  nextRound(): void {}

  /** @inheritDoc */
  pause(): void {
    this.#running = false;
  }

  /** @inheritDoc */
  outstanding(): number {
    let count = 0;
    for (const socket of this.#awaiting) if (!socket.destroyed) count++;
    return count;
  }

  /** @inheritDoc */
  result(): WorkerResult {
    return this.#counters.result();
  }

  /** @inheritDoc */
  close(): void {
    this.#sockets.closeAll();
  }
}
