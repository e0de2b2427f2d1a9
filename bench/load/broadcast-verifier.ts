/**
 * Checks broadcast deliveries: each is a byte-exact copy of some client's message, and within a
 * round every client receives every client's message exactly once (its own included).
 *
 * A client's round ends when it has all N messages, and the verifier moves to the next round by
 * itself at that moment. That is safe because no message of the next round can arrive earlier:
 * the orchestrator starts a round only when every client of every worker finished the last one.
 * (Moving on when the worker is told instead would race with faster workers' next messages.)
 */
import { Opcode, patternedPayload } from './frame-builder.js';
import type { FrameSink } from './frame-parser.js';

/**
 * The message client `id` sends: its id (big-endian u32) then a pattern seeded by the id, so a
 * delivery names its sender and any corruption shows.
 * @param id - client id
 * @param size - payload size, at least 4
 * @returns the payload
 */
export function broadcastPayload(id: number, size: number): Buffer {
  const payload = patternedPayload(size, id + 1);
  payload.writeUInt32BE(id, 0);
  return payload;
}

/** Callbacks of a {@link BroadcastVerifier}. */
export interface BroadcastVerifierEvents {
  /** One delivery matched its sender's message. */
  verified(): void;
  /** This client received every client's message of the current round. */
  roundComplete(): void;
  /** A delivery was wrong; the verifier ignores everything after the first failure. */
  failed(reason: string): void;
  /** A control frame arrived. */
  control(opcode: number, payload: Buffer): void;
}

/** A frame sink for one broadcast client. */
export class BroadcastVerifier implements FrameSink {
  readonly #expected: readonly Buffer[];
  readonly #events: BroadcastVerifierEvents;
  readonly #scratch: Buffer;
  /** The round in which each sender's message was last seen. */
  readonly #seenInRound: Uint32Array;
  #round = 1;
  #received = 0;
  #length = 0;
  #overflow = false;
  #dead = false;

  /**
   * @param expected - every client's message, indexed by client id
   * @param events - where deliveries, completed rounds and failures go
   */
  constructor(expected: readonly Buffer[], events: BroadcastVerifierEvents) {
    this.#expected = expected;
    this.#events = events;
    this.#scratch = Buffer.allocUnsafe(expected[0]?.length ?? 0);
    this.#seenInRound = new Uint32Array(expected.length);
  }

  /** @inheritDoc */
  onMessageStart(opcode: number): void {
    if (opcode !== Opcode.binary) this.#fail(`expected a binary delivery, got opcode ${opcode}`);
    this.#length = 0;
    this.#overflow = false;
  }

  /** @inheritDoc */
  onPayload(chunk: Buffer): void {
    if (this.#dead || this.#overflow) return;
    if (this.#length + chunk.length > this.#scratch.length) {
      this.#overflow = true;
      return;
    }
    chunk.copy(this.#scratch, this.#length);
    this.#length += chunk.length;
  }

  /** @inheritDoc */
  onMessageEnd(): void {
    if (this.#dead) return;
    if (this.#overflow || this.#length !== this.#scratch.length) {
      this.#fail(`delivery size differs from the ${this.#scratch.length} bytes sent`);
      return;
    }
    const sender = this.#scratch.readUInt32BE(0);
    const expected = this.#expected[sender];
    if (expected === undefined || !expected.equals(this.#scratch)) {
      this.#fail('delivery matches no client\'s message');
      return;
    }
    if (this.#seenInRound[sender] === this.#round) {
      this.#fail(`client ${sender}'s message delivered twice in one round`);
      return;
    }
    this.#seenInRound[sender] = this.#round;
    this.#received++;
    this.#events.verified();
    if (this.#received === this.#expected.length) {
      this.#round++;
      this.#received = 0;
      this.#events.roundComplete();
    }
  }

  /** @inheritDoc */
  onControl(opcode: number, payload: Buffer): void {
    if (!this.#dead) this.#events.control(opcode, payload);
  }

  /** @inheritDoc */
  onProtocolError(reason: string): void {
    this.#fail(`framing: ${reason}`);
  }

  #fail(reason: string): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#events.failed(reason);
  }
}
