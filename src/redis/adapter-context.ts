/**
 * What the Redis adapter's parts share (redis-adapter.ts builds it once): the link to Redis, key
 * names, the scripts for the kind of Redis, counters, the log, and this node's engines. A file of
 * its own so that the parts (feeds.ts, history-reads.ts, local-epochs.ts) and the adapter name
 * one type without importing each other in a circle.
 * @packageDocumentation
 */
import type { AdapterNode } from '../pubsub/adapter.js';
import type { RedisAdapterCounters, RedisLogger } from './health.js';
import type { Keys } from './keys.js';
import type { Link } from './link.js';
import type { SCRIPTS } from './scripts.js';

/** The scripts the adapter runs; one Redis and a cluster have each their own under the same names. */
export type AdapterScripts = Pick<typeof SCRIPTS, 'publish' | 'since' | 'reset' | 'range'>;

/** The adapter's shared state and settings. */
export interface AdapterContext {
  /** This node's id. */
  readonly nodeId: string;
  readonly link: Link;
  readonly keys: Keys;
  readonly scripts: AdapterScripts;
  readonly counters: RedisAdapterCounters;
  readonly log: RedisLogger;
  /** The engines attached on this node (the adapter's own list: attach and detach change it). */
  readonly nodes: readonly AdapterNode[];
  /** How long an unused topic's epoch and offset are kept, in ms. */
  readonly topicTtl: number;
  /** How long Redis has to answer, in ms. */
  readonly commandTimeout: number;
}
