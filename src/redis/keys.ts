/**
 * Redis key and channel names. Every name starts with the adapter's prefix, so several clusters
 * (or tests) share one Redis without seeing each other. The presence sweep script rebuilds the
 * per-topic names from the prefix inside Redis, so the patterns here and in scripts.ts must agree.
 *
 * On a Redis Cluster (`clustered`) every name of one topic carries the hash tag `{t:<topic>}`:
 * Redis hashes only the tag, so a topic's meta, history, idempotency keys, presence and sharded
 * channel share one slot, and one script can touch them all (a script may only touch keys of one
 * slot). Topics spread over the slots, hence over the masters. The node bookkeeping (heartbeats,
 * the node list) shares the tag `{n}`. The tag never is empty (an empty `{}` is no tag), and a
 * `}` inside a topic only shortens the tag, the same way for each of that topic's names.
 * @packageDocumentation
 */

/** The names one adapter uses. */
export class Keys {
  readonly #topic: (topic: string) => string;
  readonly #node: string;

  /**
   * @param prefix - prepended to every key and channel
   * @param clustered - hash-tagged names for a Redis Cluster (the single-Redis names stay as they were)
   */
  constructor(readonly prefix: string, readonly clustered = false) {
    this.#topic = clustered ? (topic) => `${prefix}{t:${topic}}:` : (topic) => `${prefix}t:${topic}:`;
    this.#node = clustered ? `${prefix}{n}:` : `${prefix}n:`;
  }

  /** Hash of the topic's epoch (`e`) and newest offset (`o`); on a cluster also the master that wrote it (`n`). */
  meta(topic: string): string {
    return `${this.#topic(topic)}m`;
  }

  /** List of the topic's newest entries, oldest first. */
  history(topic: string): string {
    return `${this.#topic(topic)}h`;
  }

  /**
   * A recent publish's idempotency key (`epoch\noffset\ntime` of its first receipt, with a TTL).
   * The topic is part of the name: the same key on another topic is another publish.
   */
  idempotency(topic: string, key: string): string {
    return this.clustered ? `${this.#topic(topic)}i\n${key}` : `${this.prefix}i:${topic}\n${key}`;
  }

  /** The channel that carries the topic's messages and presence changes (a shard channel on a cluster). */
  channel(topic: string): string {
    return this.clustered ? `${this.#topic(topic)}c` : `${this.prefix}c:${topic}`;
  }

  /** The topic of a channel name, or undefined for a channel that is not ours. */
  topicOf(channel: string): string | undefined {
    if (this.clustered) {
      const head = `${this.prefix}{t:`;
      return channel.startsWith(head) && channel.endsWith('}:c') ? channel.slice(head.length, -3) : undefined;
    }
    const head = `${this.prefix}c:`;
    return channel.startsWith(head) ? channel.slice(head.length) : undefined;
  }

  /** Hash of the topic's present connections: conn → `seq\nnode\nmember JSON`. */
  presence(topic: string): string {
    return this.clustered ? `${this.#topic(topic)}pc` : `${this.prefix}p:${topic}:c`;
  }

  /** Hash of the topic's present users: user → number of connections. */
  presenceUsers(topic: string): string {
    return this.clustered ? `${this.#topic(topic)}pu` : `${this.prefix}p:${topic}:u`;
  }

  /** Set of `topic\nconn` a node has made present (what to remove if it dies). */
  nodeConnections(node: string): string {
    return `${this.#node}${node}:c`;
  }

  /** The node's heartbeat: exists while the node is alive. */
  heartbeat(node: string): string {
    return `${this.#node}${node}:hb`;
  }

  /** Set of node ids that have made anyone present. */
  get nodes(): string {
    return this.clustered ? `${this.#node}nodes` : `${this.prefix}nodes`;
  }

  /**
   * Counter ordering presence connections (a user's earliest connection is their member): one for
   * all topics on one Redis, one per topic (in the topic's slot) on a cluster.
   */
  presenceSequence(topic: string): string {
    return this.clustered ? `${this.#topic(topic)}ps` : `${this.prefix}pseq`;
  }
}
