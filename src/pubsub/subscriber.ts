/**
 * The narrow view of a connection the pub/sub engine depends on. The engine never sees a socket:
 * it is tested with fakes, and a cluster adapter never needs one either.
 * @packageDocumentation
 */
import type { PreparedFrame } from '../protocol/prepared-frame.js';

/**
 * One receiver of topic messages: in production a WebSocket connection. `F` is the type of the
 * frames its engine's encoder makes (the Node layer's `PreparedMessage`, with `Buffer`s, for the
 * real-time server's engine).
 */
export interface Subscriber<F extends PreparedFrame = PreparedFrame> {
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
   * Queues a frame that was encoded once for every subscriber, by the engine's
   * `encoder` (the real-time server's: `Buffer`s). Must not throw; a connection
   * that is no longer open ignores it.
   */
  send(frame: F): void;
  /** Closes the connection (the `close` slow-consumer policy uses 1008). */
  close(code: number, reason: string): void;
}
