/**
 * What the adapter reports for logs and metrics: a health flag with its changes, and counters.
 * @packageDocumentation
 */

/** A log line: the adapter never writes to the console itself. */
export type RedisLogger = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

/** Counters since the adapter was created (monotonic, for metrics). */
export interface RedisAdapterCounters {
  /** Messages published through Redis. */
  published: number;
  /** Messages published while Redis was unreachable: delivered on this node only, in a local epoch. */
  publishedLocally: number;
  /**
   * Publishes Redis recognised as repeats of an idempotency key (a client re-sending a `pub`
   * whose reply was lost, possibly to another node): not published again.
   */
  repeatedPublishes: number;
  /** Publishes refused while Redis was unreachable (`whenUnreachable: 'refuse'`). */
  refused: number;
  /** Topics this node gave a new epoch in Redis after publishing to them locally (a gap announced to every node). */
  gapsAnnounced: number;
  /** Messages received from Redis and delivered to this node's engine. */
  delivered: number;
  /** Messages received twice (after a fill from history) and not delivered again. */
  duplicates: number;
  /** Messages this node missed live and took from history instead. */
  filled: number;
  /** Times this node told its subscribers of a topic that messages may be lost (`gap`). */
  gaps: number;
  /** History reads made for subscribes and resumes (one serves every request that arrived meanwhile). */
  historyReads: number;
  /** Subscribes and resumes answered by a read made for another one (coalesced). */
  historyReadsShared: number;
  /** Transitions from healthy to unhealthy. */
  outages: number;
  /** Reconnect attempts of either connection. */
  reconnectAttempts: number;
  /** Commands or scripts that failed or timed out. */
  commandErrors: number;
  /** Entries on our channels that could not be decoded. */
  badEntries: number;
  /** Presence connections of dead nodes removed by this node. */
  presenceSwept: number;
  /** Channels this node is subscribed to now (a gauge). */
  channels: number;
}

/** Fresh counters. */
export function newCounters(): RedisAdapterCounters {
  return { published: 0, publishedLocally: 0, repeatedPublishes: 0, refused: 0, gapsAnnounced: 0, historyReads: 0, historyReadsShared: 0, delivered: 0, duplicates: 0, filled: 0, gaps: 0, outages: 0, reconnectAttempts: 0, commandErrors: 0, badEntries: 0, presenceSwept: 0, channels: 0 };
}

/** A health change: `healthy` false with the reason, or true once Redis answers again. */
export type HealthListener = (healthy: boolean, reason: string) => void;
