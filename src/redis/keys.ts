/**
 * Redis key and channel names. Every name starts with the adapter's prefix, so several clusters
 * (or tests) share one Redis without seeing each other. The presence sweep script rebuilds the
 * per-topic names from the prefix inside Redis, so the patterns here and in scripts.ts must agree.
 * @packageDocumentation
 */

/** The names one adapter uses. */
export class Keys {
  /** @param prefix - prepended to every key and channel */
  constructor(readonly prefix: string) {}

  /** Hash of the topic's epoch (`e`) and newest offset (`o`). */
  meta(topic: string): string {
    return `${this.prefix}t:${topic}:m`;
  }

  /** List of the topic's newest entries, oldest first. */
  history(topic: string): string {
    return `${this.prefix}t:${topic}:h`;
  }

  /**
   * A recent publish's idempotency key (`epoch\noffset\ntime` of its first receipt, with a TTL).
   * The topic is part of the name: the same key on another topic is another publish.
   */
  idempotency(topic: string, key: string): string {
    return `${this.prefix}i:${topic}\n${key}`;
  }

  /** The channel that carries the topic's messages and presence changes. */
  channel(topic: string): string {
    return `${this.prefix}c:${topic}`;
  }

  /** The topic of a channel name, or undefined for a channel that is not ours. */
  topicOf(channel: string): string | undefined {
    const head = `${this.prefix}c:`;
    return channel.startsWith(head) ? channel.slice(head.length) : undefined;
  }

  /** Hash of the topic's present connections: conn → `seq\nnode\nmember JSON`. */
  presence(topic: string): string {
    return `${this.prefix}p:${topic}:c`;
  }

  /** Hash of the topic's present users: user → number of connections. */
  presenceUsers(topic: string): string {
    return `${this.prefix}p:${topic}:u`;
  }

  /** Set of `topic\nconn` a node has made present (what to remove if it dies). */
  nodeConnections(node: string): string {
    return `${this.prefix}n:${node}:c`;
  }

  /** The node's heartbeat: exists while the node is alive. */
  heartbeat(node: string): string {
    return `${this.prefix}n:${node}:hb`;
  }

  /** Set of node ids that have made anyone present. */
  get nodes(): string {
    return `${this.prefix}nodes`;
  }

  /** Counter ordering presence connections (a user's earliest connection is their member). */
  get presenceSequence(): string {
    return `${this.prefix}pseq`;
  }
}
