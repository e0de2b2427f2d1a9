/**
 * Fakes for the pub/sub unit tests: subscribers that record the frames they are given and whose
 * queued bytes the test sets, so every policy is exercised without a socket.
 */
import type { PreparedFrame } from '../../src/protocol/prepared-frame.js';
import { decodeFrame } from '../../src/wire/envelope.js';
import type { Subscriber } from '../../src/pubsub/subscriber.js';

let next = 0;
const utf8 = new TextDecoder();

/** A subscriber that records frames; `bufferedAmount` is whatever the test says. */
export class FakeSubscriber implements Subscriber {
  readonly id: string;
  readonly envelopes: boolean;
  bufferedAmount = 0;
  readonly frames: PreparedFrame[] = [];
  closedWith: { code: number; reason: string } | undefined;

  constructor(envelopes = true, id = `fake-${++next}`) {
    this.envelopes = envelopes;
    this.id = id;
  }

  send(frame: PreparedFrame): void {
    this.frames.push(frame);
  }

  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
  }

  /** Every frame decoded as an envelope. */
  envelopesReceived(): Array<Record<string, unknown> & { t: string }> {
    return this.frames.map((f) => decodeFrame(f.binary ? f.payload : utf8.decode(f.payload), { maxBytes: 1 << 30 }));
  }

  /** The `msg` envelopes, in order. */
  messages(): Array<{ topic: string; epoch: string; offset: number; data: unknown; key?: string; conflated?: boolean }> {
    return this.envelopesReceived().filter((e) => e.t === 'msg') as unknown as Array<{ topic: string; epoch: string; offset: number; data: unknown; key?: string; conflated?: boolean }>;
  }

  /** Raw frames as text. */
  texts(): string[] {
    return this.frames.map((f) => utf8.decode(f.payload));
  }
}
