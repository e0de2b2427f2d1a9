/**
 * Broadcast rounds: each round every client sends its one message; the server relays every message
 * to every client. A worker reports 'round-done' once each of its clients received all messages of
 * the round; the orchestrator starts the next round when every worker has, so rounds never overlap
 * and a delivery can be checked for duplicates and losses per round.
 */
import type { Socket } from 'node:net';
import { BroadcastVerifier, broadcastPayload } from '../broadcast-verifier.js';
import { openConnection, makeTarget } from '../connection.js';
import { handleControlFrame } from '../control-frames.js';
import type { Counters } from '../counters.js';
import { Opcode, buildMaskedFrame } from '../frame-builder.js';
import type { BroadcastJob, WorkerResult } from '../messages.js';
import { HANDSHAKE_TIMEOUT_MS, SocketSet, runBounded, type Scenario } from '../scenario.js';

/** One client: its socket and its pre-built frame. */
interface Client {
  readonly socket: Socket;
  readonly frame: Buffer;
}

/** The broadcast scenario. */
export class BroadcastScenario implements Scenario {
  readonly #job: BroadcastJob;
  readonly #counters: Counters;
  readonly #sockets: SocketSet;
  readonly #roundDone: () => void;
  readonly #expected: Buffer[];
  readonly #clients: Client[] = [];
  #completeInRound = 0;
  #roundOpen = false;
  #running = false;

  /**
   * @param job - which clients this worker owns and how many there are in all
   * @param counters - this worker's counters
   * @param roundDone - tells the orchestrator this worker's clients finished the round
   */
  constructor(job: BroadcastJob, counters: Counters, roundDone: () => void) {
    this.#job = job;
    this.#counters = counters;
    this.#sockets = new SocketSet(counters);
    this.#roundDone = roundDone;
    this.#expected = Array.from({ length: job.totalClients }, (_, id) => broadcastPayload(id, job.payloadSize));
  }

  /** @inheritDoc */
  async open(): Promise<void> {
    const target = makeTarget(this.#job.host, this.#job.port);
    await runBounded(this.#job.clients, 50, async (index) => {
      const id = this.#job.firstClient + index;
      const own = this.#expected[id];
      if (own === undefined) throw new Error(`client id ${id} out of range`);
      const { socket } = await openConnection(target, (socket) => this.#verifierFor(socket), HANDSHAKE_TIMEOUT_MS);
      this.#sockets.add(socket);
      this.#clients.push({ socket, frame: buildMaskedFrame(Opcode.binary, own) });
    });
  }

  #verifierFor(socket: Socket): BroadcastVerifier {
    return new BroadcastVerifier(this.#expected, {
      verified: () => this.#counters.verified(this.#job.payloadSize),
      roundComplete: () => {
        this.#completeInRound++;
        if (this.#completeInRound === this.#clients.length) {
          this.#roundOpen = false;
          this.#roundDone();
        }
      },
      failed: (reason) => this.#sockets.failAndDrop(socket, reason),
      control: (opcode, payload) => {
        const reason = handleControlFrame(opcode, payload, socket);
        if (reason !== undefined) this.#sockets.failAndDrop(socket, reason);
      },
    });
  }

  #sendRound(): void {
    this.#completeInRound = 0;
    this.#roundOpen = true;
    for (const client of this.#clients) {
      client.socket.write(client.frame);
      this.#counters.sent();
    }
  }

  /**
   * Starts a round. The orchestrator sends 'start' only when no round is open (it resumes an open
   * round by sending 'next-round' once that round completes), so rounds never overlap.
   */
  start(): void {
    this.#running = true;
    if (!this.#roundOpen) this.#sendRound();
  }

  /** The orchestrator's barrier says every worker finished the round: send the next. */
  nextRound(): void {
    if (!this.#roundOpen) this.#sendRound();
  }

  /** @inheritDoc */
  pause(): void {
    this.#running = false;
  }

  /** @inheritDoc */
  outstanding(): number {
    return this.#roundOpen ? 1 : 0;
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
