/**
 * The narrow view of a connection the pub/sub engine depends on. The engine never sees a socket:
 * it is tested with fakes, and a cluster adapter never needs one either.
 * @packageDocumentation
 */
import type { PreparedMessage } from '../node/prepared-message.js';

/** One receiver of topic messages: in production a WebSocket connection. */
export interface Subscriber {
  /** Unique among this server's connections; also the `conn` of presence members. */
  readonly id: string;
  /**
   * Whether it speaks `parley.v1` and gets `msg` envelopes, or is a plain WebSocket and gets the
   * published data as it was given.
   */
  readonly envelopes: boolean;
  /** Bytes queued for it and not yet accepted by the operating system (the slow-consumer signal). */
  readonly bufferedAmount: number;
  /**
   * Queues a frame that was encoded once for every subscriber. Must not throw; a connection that
   * is no longer open ignores it.
   */
  send(frame: PreparedMessage): void;
  /** Closes the connection (the `close` slow-consumer policy uses 1008). */
  close(code: number, reason: string): void;
}
