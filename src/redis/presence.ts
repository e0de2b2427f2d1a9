/**
 * Presence across nodes. Redis keeps, per topic, every present connection (with the node that
 * made it present) and a count per user, so `join` is published on a user's first connection in
 * the cluster and `leave` on their last, exactly as the in-memory adapter does in one process.
 *
 * Dead nodes: each node refreshes a heartbeat key with a TTL every TTL/3, and every node sweeps,
 * every TTL/2, the nodes whose heartbeat is gone: their connections are removed and `leave`s
 * published. A node killed without warning thus disappears within TTL + TTL/2 (15 s by default).
 * A node that was only cut off (or paused) past its TTL finds its heartbeat gone when it comes
 * back and makes its connections present again.
 *
 * On a Redis Cluster a script may touch one slot only: a topic's presence is in the topic's slot,
 * the node's list of its connections in the node bookkeeping's slot (keys.ts), so a join is two
 * steps (the node's list first, then the topic) and a leave the reverse: a node dying between the
 * two leaves at worst an entry in its list that points at nothing. A sweep lists a dead node's
 * entries, removes each in its topic's slot (only if that node made it present), then forgets them.
 * @packageDocumentation
 */
import type { PresenceMember } from '../wire/envelope.js';
import { CLUSTER_SCRIPTS } from './cluster-scripts.js';
import type { RedisAdapterCounters, RedisLogger } from './health.js';
import type { Keys } from './keys.js';
import type { Link } from './link.js';
import { SCRIPTS } from './scripts.js';

/** Presence of one node, mirrored into Redis. */
export class RedisPresence {
  readonly #link: Link;
  readonly #keys: Keys;
  readonly #node: string;
  readonly #ttl: number;
  readonly #counters: RedisAdapterCounters;
  readonly #log: RedisLogger;
  /** This node's present connections: topic → conn → member. The source of truth for rejoining. */
  readonly #mine = new Map<string, Map<string, PresenceMember>>();
  /** Connections that left while Redis could not be told: topic → conns. */
  readonly #leftOffline = new Map<string, Set<string>>();
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  /**
   * @param link - the Redis connections
   * @param keys - key names
   * @param node - this node's id
   * @param ttlMs - heartbeat TTL
   */
  constructor(link: Link, keys: Keys, node: string, ttlMs: number, counters: RedisAdapterCounters, log: RedisLogger) {
    this.#link = link;
    this.#keys = keys;
    this.#node = node;
    this.#ttl = ttlMs;
    this.#counters = counters;
    this.#log = log;
  }

  /** Writes the first heartbeat and starts the heartbeat and sweep timers. */
  async start(): Promise<void> {
    await this.heartbeat();
    this.#heartbeatTimer = setInterval(() => void this.heartbeat(), Math.max(50, Math.floor(this.#ttl / 3)));
    this.#heartbeatTimer.unref();
    // Jitter spreads the sweeps of many nodes; each one alone keeps the stated bound.
    const every = Math.max(50, Math.floor(this.#ttl / 2 * (0.8 + 0.2 * Math.random())));
    this.#sweepTimer = setInterval(() => void this.sweep(), every);
    this.#sweepTimer.unref();
  }

  /** Refreshes this node's heartbeat; if it had expired, makes this node's connections present again. */
  async heartbeat(): Promise<void> {
    if (this.#stopped || !this.#link.commandsUp) return;
    try {
      const alive = await this.#link.run(SCRIPTS.heartbeat, [this.#keys.heartbeat(this.#node), this.#keys.nodes], [String(this.#ttl), this.#node]);
      if (alive === 0 && this.#mine.size > 0) {
        this.#log('warn', 'heartbeat had expired: making this node\'s presence current again', { node: this.#node });
        await this.resync();
      }
    } catch {
      // Counted by the link; the next beat tries again.
    }
  }

  /** Removes the connections of nodes whose heartbeat is gone. @returns how many were removed */
  async sweep(): Promise<number> {
    if (this.#stopped || !this.#link.commandsUp) return 0;
    let removed = 0;
    try {
      const nodes = (await this.#link.command(['SMEMBERS', this.#keys.nodes])) as string[];
      for (const node of nodes) {
        if (node === this.#node) continue;
        const n = await this.#sweepNode(node);
        if (n > 0) {
          removed += n;
          this.#log('info', 'removed the presence of a dead node', { node, connections: n });
        }
      }
    } catch {
      // Counted by the link; the next sweep tries again.
    }
    this.#counters.presenceSwept += removed;
    return removed;
  }

  /** Removes a node's connections if its heartbeat is gone. @returns how many, -1 if it is alive */
  async #sweepNode(node: string): Promise<number> {
    const k = this.#keys;
    if (!k.clustered) return (await this.#link.run(SCRIPTS.sweep, [k.nodeConnections(node), k.nodes, k.heartbeat(node)], [k.prefix, node])) as number;
    const entries = (await this.#link.run(CLUSTER_SCRIPTS.sweepList, [k.nodeConnections(node), k.heartbeat(node)], [])) as string[] | number;
    if (typeof entries === 'number') return entries;
    let n = 0;
    for (const entry of entries) {
      const nl = entry.indexOf('\n');
      if (nl === -1) continue;
      n += (await this.#clusterLeave(entry.slice(0, nl), entry.slice(nl + 1), node)) as number;
    }
    await this.#link.run(CLUSTER_SCRIPTS.sweepDone, [k.nodeConnections(node), k.nodes, k.heartbeat(node)], [node, ...entries]);
    return n;
  }

  /** Removes a connection in its topic's slot (cluster), if `node` ('' for any) made it present. */
  #clusterLeave(topic: string, conn: string, node: string): Promise<unknown> {
    const k = this.#keys;
    return this.#link.run(CLUSTER_SCRIPTS.leave, [k.presence(topic), k.presenceUsers(topic)], [conn, k.channel(topic), node]);
  }

  /** Removes one of this node's connections from Redis. */
  async #leave(topic: string, conn: string): Promise<void> {
    const k = this.#keys;
    if (!k.clustered) {
      await this.#link.run(SCRIPTS.leave, [], [k.prefix, topic, conn]);
      return;
    }
    await this.#clusterLeave(topic, conn, this.#node);
    await this.#link.command(['SREM', k.nodeConnections(this.#node), `${topic}\n${conn}`]);
  }

  /** Makes a connection present (in Redis now, or when Redis is back). */
  async join(topic: string, member: PresenceMember): Promise<void> {
    let conns = this.#mine.get(topic);
    if (conns === undefined) {
      conns = new Map();
      this.#mine.set(topic, conns);
    }
    conns.set(member.conn, member);
    this.#leftOffline.get(topic)?.delete(member.conn);
    if (this.#link.commandsUp) await this.#join(topic, member).catch(() => {});
  }

  async #join(topic: string, member: PresenceMember): Promise<void> {
    const k = this.#keys;
    const json = JSON.stringify({ user: member.user, conn: member.conn, info: member.info });
    if (!k.clustered) {
      await this.#link.run(SCRIPTS.join, [k.presence(topic), k.presenceUsers(topic), k.nodeConnections(this.#node), k.presenceSequence(topic), k.nodes], [member.conn, member.user, json, topic, k.channel(topic), this.#node]);
      return;
    }
    await this.#link.command(['SADD', k.nodeConnections(this.#node), `${topic}\n${member.conn}`]);
    await this.#link.run(CLUSTER_SCRIPTS.join, [k.presence(topic), k.presenceUsers(topic), k.presenceSequence(topic)], [member.conn, member.user, json, k.channel(topic), this.#node]);
  }

  /** Removes a connection's presence (in Redis now, or when Redis is back). */
  async leave(topic: string, member: PresenceMember): Promise<void> {
    const conns = this.#mine.get(topic);
    if (conns?.delete(member.conn) !== true) return;
    if (conns.size === 0) this.#mine.delete(topic);
    try {
      if (!this.#link.commandsUp) throw new Error('offline');
      await this.#leave(topic, member.conn);
    } catch {
      let left = this.#leftOffline.get(topic);
      if (left === undefined) {
        left = new Set();
        this.#leftOffline.set(topic, left);
      }
      left.add(member.conn);
    }
  }

  /**
   * The members of a topic across the cluster, one per user (their earliest connection). While
   * Redis is unreachable: this node's members only.
   */
  async members(topic: string): Promise<PresenceMember[]> {
    if (this.#link.commandsUp) {
      try {
        const flat = (await this.#link.command(['HGETALL', this.#keys.presence(topic)])) as string[];
        const first = new Map<string, { seq: number; member: PresenceMember }>();
        for (let i = 0; i + 1 < flat.length; i += 2) {
          const value = flat[i + 1]!;
          const a = value.indexOf('\n');
          const b = value.indexOf('\n', a + 1);
          const seq = Number(value.slice(0, a));
          const member = JSON.parse(value.slice(b + 1)) as PresenceMember;
          const seen = first.get(member.user);
          if (seen === undefined || seq < seen.seq) first.set(member.user, { seq, member });
        }
        return [...first.values()].sort((x, y) => x.seq - y.seq).map((e) => ({ user: e.member.user, conn: e.member.conn, info: e.member.info }));
      } catch {
        // Fall through to what this node knows.
      }
    }
    const byUser = new Map<string, PresenceMember>();
    for (const m of this.#mine.get(topic)?.values() ?? []) if (!byUser.has(m.user)) byUser.set(m.user, m);
    return [...byUser.values()];
  }

  /** After an outage: removes what left meanwhile, and makes every connection of this node present again. */
  async resync(): Promise<void> {
    if (this.#stopped) return;
    for (const [topic, conns] of [...this.#leftOffline]) {
      for (const conn of [...conns]) {
        await this.#leave(topic, conn);
        conns.delete(conn);
      }
      this.#leftOffline.delete(topic);
    }
    for (const [topic, conns] of this.#mine) for (const member of conns.values()) await this.#join(topic, member);
  }

  /** Stops the timers and, if Redis is reachable, removes every connection this node made present. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#heartbeatTimer);
    clearInterval(this.#sweepTimer);
    if (!this.#link.commandsUp) return;
    const k = this.#keys;
    try {
      await this.#link.command(['DEL', k.heartbeat(this.#node)]);
      await this.#sweepNode(this.#node);
    } catch {
      // Other nodes sweep us once the heartbeat is gone.
    }
  }
}
