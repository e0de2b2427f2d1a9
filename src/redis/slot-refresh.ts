/**
 * Asking node-redis's cluster client to read the cluster's slot map again: the one place the
 * adapter reaches past node-redis's public API, kept here and feature-checked.
 *
 * Why it is needed: node-redis (5.x) reads the slot map again only when a node answers MOVED or
 * ASK, or tells a sharded subscriber SUNSUBSCRIBE. A master killed outright answers nothing: the
 * client keeps reconnecting to its dead address, and commands for its slots fail for as long as
 * it stays dead, though a replica took them over (node-redis issue #2806, still open). Nothing
 * public does the same: `maxCommandRedirections` only bounds how many MOVED replies a command
 * follows, `minimizeConnections` only defers connecting, and `nodeClient()` hands out a node's
 * connection, whose MOVED replies do not reach the slot map. Closing the cluster client and
 * creating another would find the new master, but it also drops the connections and sharded
 * subscriptions to the healthy masters: their topics would go local for the moment, which the
 * per-master health of cluster-link.ts exists to avoid.
 *
 * So the link calls the client's internal `_slots.rediscover(start)` (what node-redis itself
 * calls on MOVED), only after checking that it is there. A node-redis that drops or renames it
 * gets no call: the link logs that once, and a failover is then noticed the public way, when a
 * node answers MOVED (the old master back as a replica, say); until then the lost slots stay an
 * outage, delivered locally and announced as gaps, never a crash. test/redis/slot-refresh.test.ts
 * checks the guard with fakes, and that the installed node-redis still has the method.
 * @packageDocumentation
 */

/** Where to start reading the slot map: a node's client (its `options`), or `{ options: { url } }`. */
export interface SlotMapStart {
  readonly options?: unknown;
}

type Rediscover = (this: object, start: SlotMapStart) => Promise<unknown>;

/** The internal method, if this client has it (as node-redis 5.x does). */
function rediscoverOf(cluster: unknown): { slots: object; rediscover: Rediscover } | undefined {
  if (typeof cluster !== 'object' || cluster === null) return undefined;
  const slots: unknown = (cluster as { _slots?: unknown })._slots;
  if (typeof slots !== 'object' || slots === null) return undefined;
  const rediscover: unknown = (slots as { rediscover?: unknown }).rediscover;
  return typeof rediscover === 'function' ? { slots, rediscover: rediscover as Rediscover } : undefined;
}

/** Whether {@link refreshSlots} can do anything with this cluster client. */
export function canRefreshSlots(cluster: unknown): boolean {
  return rediscoverOf(cluster) !== undefined;
}

/**
 * Reads the slot map again, starting from `start` (node-redis falls back to the root nodes).
 * @returns the read in flight, or undefined when this node-redis offers no way to ask for one
 */
export function refreshSlots(cluster: unknown, start: SlotMapStart): Promise<unknown> | undefined {
  const found = rediscoverOf(cluster);
  if (found === undefined) return undefined;
  try {
    return Promise.resolve(found.rediscover.call(found.slots, start));
  } catch (error) {
    // A method of that name with another contract: a failed read, not a crash of the probe.
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
