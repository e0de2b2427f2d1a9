/**
 * Checks echoes byte for byte against what was sent, as the bytes arrive: the payload is compared
 * in place, slice by slice, so even 16 MiB replies are never assembled.
 */
import { Opcode } from './frame-builder.js';
import type { FrameSink } from './frame-parser.js';

/** Callbacks of an {@link EchoVerifier}. */
export interface EchoVerifierEvents {
  /** One echo matched the expected payload exactly. */
  verified(): void;
  /** A reply did not match; the verifier ignores everything after the first failure. */
  failed(reason: string): void;
  /** A control frame arrived. */
  control(opcode: number, payload: Buffer): void;
}

/** A frame sink expecting every message to be a binary copy of one payload. */
export class EchoVerifier implements FrameSink {
  readonly #expected: Buffer;
  readonly #events: EchoVerifierEvents;
  #offset = 0;
  #dead = false;

  /**
   * @param expected - the payload every reply must equal
   * @param events - where verified replies and failures go
   */
  constructor(expected: Buffer, events: EchoVerifierEvents) {
    this.#expected = expected;
    this.#events = events;
  }

  /** @inheritDoc */
  onMessageStart(opcode: number): void {
    if (opcode !== Opcode.binary) this.#fail(`expected a binary echo, got opcode ${opcode}`);
    this.#offset = 0;
  }

  /** @inheritDoc */
  onPayload(chunk: Buffer): void {
    if (this.#dead) return;
    const at = this.#offset;
    const end = at + chunk.length;
    if (end > this.#expected.length) {
      this.#fail(`echo longer than the ${this.#expected.length} bytes sent`);
      return;
    }
    if (this.#expected.compare(chunk, 0, chunk.length, at, end) !== 0) {
      this.#fail(`echo differs from what was sent within bytes ${at}..${end}`);
      return;
    }
    this.#offset = end;
  }

  /** @inheritDoc */
  onMessageEnd(): void {
    if (this.#dead) return;
    if (this.#offset !== this.#expected.length) {
      this.#fail(`echo of ${this.#offset} bytes, ${this.#expected.length} were sent`);
      return;
    }
    this.#offset = 0;
    this.#events.verified();
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
