/**
 * What the adapter needs of its way to Redis: one Redis (connection.ts) or a Redis Cluster
 * (cluster-link.ts). Both report health the same way, so the adapter's outage handling (local
 * delivery, gaps, recovery) is one code path for both.
 * @packageDocumentation
 */
import type { Buffer } from 'node:buffer';
import type { HealthListener } from './health.js';
import type { Script } from './scripts.js';

/** A channel listener in buffer mode. */
export type ChannelListener = (message: Buffer, channel: Buffer) => void;

/** Commands, scripts, a channel subscription, and health. */
export interface Link {
  /** Whether Redis is reachable now (every connection up, the last PING answered). */
  readonly healthy: boolean;
  /** Whether commands reach Redis (some of its masters, on a cluster), even if not all is healthy. */
  readonly commandsUp: boolean;
  /** Why Redis is considered unreachable (or 'ok'). */
  readonly reason: string;
  /** Listens to health changes. @returns a function that stops listening */
  onHealth(listener: HealthListener): () => void;
  /** Connects. @throws when Redis cannot be reached at all */
  connect(): Promise<void>;
  /**
   * Runs a script (EVALSHA, then EVAL if Redis no longer has it); on a cluster, on the master of
   * `keys[0]`'s slot.
   * @param buffers - bulk strings as Buffers (entries carry binary data) instead of strings
   */
  run(script: Script, keys: readonly string[], args: ReadonlyArray<string | Buffer>, buffers?: boolean): Promise<unknown>;
  /** Sends one command with the command timeout; on a cluster, to the master of `args[1]`'s slot. */
  command(args: ReadonlyArray<string | Buffer>, buffers?: boolean): Promise<unknown>;
  /** Subscribes to a channel (a shard channel on a cluster), in buffer mode. */
  subscribe(channel: string, listener: ChannelListener): Promise<void>;
  /** Unsubscribes from a channel. */
  unsubscribe(channel: string, listener: ChannelListener): Promise<void>;
  /** Stops probing and closes the connections the link opened. */
  close(): void;
}
