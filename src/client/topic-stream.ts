/**
 * Per-topic ordering: the position of the last message seen, and the verdict on each new one.
 * This is where "never a silent gap, never an unrecognised duplicate" is decided.
 * @packageDocumentation
 */
import type { EnvelopeId, StreamPosition } from '../wire/envelope.js';

/** What to do with an incoming message. */
export type Verdict =
  /** Next in order: deliver it. */
  | 'deliver'
  /** Already seen (offset ≤ last for this epoch): drop it. */
  | 'duplicate'
  /** Something is missing before it (offset > last + 1 not marked conflated, or a new epoch): resynchronise. */
  | 'gap'
  /** The subscription is not live on this connection yet: drop it. */
  | 'ignore';

/** One subscribed topic's recovery state, shared by every {@link Subscription} handle on it. */
export class TopicStream {
  /** The topic. */
  readonly topic: string;
  /** This connection's presence info, sent with every `sub`. */
  readonly presence: unknown;
  /** Epoch and offset of the last message delivered (or of the snapshot / subscription point). */
  position: StreamPosition | undefined;
  /** Whether a `subok` arrived on the current connection. */
  live = false;
  /** Id of the `sub` waiting for its `subok`, if any. */
  pendingSub: EnvelopeId | undefined;
  /** Whether that `sub` carried `since`. */
  pendingSince = false;

  /** @param topic - the topic @param presence - member info, or undefined for none */
  constructor(topic: string, presence: unknown) {
    this.topic = topic;
    this.presence = presence;
  }

  /**
   * Judges a `msg` and, when it is to be delivered, advances the position.
   * @param conflated - the server marked it `conflated`: the offsets it skips were replaced by
   * newer messages with the same key (the `conflate` slow-consumer policy), not lost
   */
  accept(epoch: string, offset: number, conflated = false): Verdict {
    if (!this.live) return 'ignore';
    const pos = this.position;
    if (pos === undefined) {
      this.position = { epoch, offset };
      return 'deliver';
    }
    if (epoch !== pos.epoch) return 'gap';
    if (offset <= pos.offset) return 'duplicate';
    if (offset !== pos.offset + 1 && !conflated) return 'gap';
    pos.offset = offset;
    return 'deliver';
  }

  /**
   * Applies a `subok`.
   * @returns `'recovered'` when the missed messages follow (position kept), `'reset'` when the
   * history could not cover the gap (position moved to the server's), `'fresh'` for a first
   * subscription
   */
  subscribed(epoch: string, offset: number, recovered: boolean | undefined): 'fresh' | 'recovered' | 'reset' {
    const hadSince = this.pendingSince;
    this.live = true;
    this.pendingSub = undefined;
    this.pendingSince = false;
    if (hadSince && recovered === true) return 'recovered';
    this.position = { epoch, offset };
    return hadSince ? 'reset' : 'fresh';
  }

  /** The connection is gone: the subscription must be made again on the next one. */
  disconnected(): void {
    this.live = false;
    this.pendingSub = undefined;
    this.pendingSince = false;
  }
}
