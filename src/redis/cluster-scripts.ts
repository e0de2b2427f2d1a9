/**
 * The Lua scripts for a Redis Cluster. A script there may touch keys of one slot only, so each
 * declares every key it uses (all of one topic, tagged `{t:<topic>}`, see keys.ts), and messages
 * go out with SPUBLISH on the topic's shard channel (Redis >= 7), which lives in the same slot:
 * only the master owning the slot (and its replicas) carry it, instead of every node of the
 * cluster as with PUBLISH.
 *
 * Failover: a replica holds what its master had only up to the last write it received
 * (replication is asynchronous), so the newest messages of a topic may be lost when a master dies,
 * and their offsets given again to other messages. Each topic therefore remembers the master that
 * wrote it (`n` in its meta hash, `CLUSTER MYID`); the first script run on a new master starts a
 * new epoch, and every subscriber and resuming client is told of a gap (`recovered: false`)
 * instead of silently getting different messages under offsets it already has.
 *
 * Message, history and idempotency logic is the single-Redis scripts' (scripts.ts), rewritten
 * here, so the two cannot drift apart. Presence differs: the node bookkeeping lives in its own
 * slot, so a join or a leave is one script on the topic's slot and one command on the node's.
 * @packageDocumentation
 */
import { HEARTBEAT, PUBLISH, RANGE, RESET, SINCE, script } from './scripts.js';

/** topic_epoch of scripts.ts, plus the master check. */
const OWNED_EPOCH = `local function topic_epoch(meta, hist, candidate)
  local me = redis.call('CLUSTER', 'MYID')
  local got = redis.call('HMGET', meta, 'e', 'n')
  local epoch = got[1]
  if not epoch or got[2] ~= me then
    -- Unknown topic, or written by another master (a failover): a new epoch, nothing to resume.
    epoch = candidate
    redis.call('HSET', meta, 'e', epoch, 'o', 0, 'n', me)
    redis.call('DEL', hist)
  end
  return epoch
end
`;

/** A single-Redis script rewritten for a cluster: the master-checked epoch, SPUBLISH. */
function clustered(source: string): string {
  let out = source.replace(/local function topic_epoch\(meta, hist, candidate\)\n[\s\S]*?\nend\n/, OWNED_EPOCH);
  out = out.replaceAll("redis.call('PUBLISH'", "redis.call('SPUBLISH'");
  out = out.replace("redis.call('HSET', KEYS[1], 'e', ARGV[1], 'o', 0)", "redis.call('HSET', KEYS[1], 'e', ARGV[1], 'o', 0, 'n', redis.call('CLUSTER', 'MYID'))");
  return out;
}

/**
 * KEYS: presence conns, presence users, presence sequence (all the topic's).
 * ARGV: conn, user, member JSON, channel, node id.
 * Adds the connection (or updates its info); publishes `join` on the user's first connection.
 * The node's own list of connections is updated before (see RedisPresence), in its slot.
 */
export const CLUSTER_JOIN = `
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then
  local seq = string.match(existing, '^(%d+)\\n')
  redis.call('HSET', KEYS[1], ARGV[1], seq .. '\\n' .. ARGV[5] .. '\\n' .. ARGV[3])
  return 0
end
local seq = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], ARGV[1], string.format('%d', seq) .. '\\n' .. ARGV[5] .. '\\n' .. ARGV[3])
if redis.call('HINCRBY', KEYS[2], ARGV[2], 1) == 1 then
  redis.call('SPUBLISH', ARGV[4], 'p\\njoin\\n' .. ARGV[3])
end
return 1
`;

/**
 * KEYS: presence conns, presence users. ARGV: conn, channel, node id ('' for any node).
 * Removes one presence connection (only if it belongs to the node given: a sweep never removes
 * what another node made present); publishes `leave` when it was the user's last. Returns 1 if
 * it removed the connection.
 */
export const CLUSTER_LEAVE = `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local node, json = string.match(v, '^%d+\\n([^\\n]*)\\n(.*)$')
if ARGV[3] ~= '' and node ~= ARGV[3] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
local user = cjson.decode(json).user
if redis.call('HINCRBY', KEYS[2], user, -1) <= 0 then
  redis.call('HDEL', KEYS[2], user)
  redis.call('SPUBLISH', ARGV[2], 'p\\nleave\\n' .. json)
end
return 1
`;

/**
 * KEYS: the node's connections, the node's heartbeat. Returns -1 if the node is alive, else the
 * `topic\nconn` entries it made present (each then removed with CLUSTER_LEAVE in its own slot).
 */
export const CLUSTER_SWEEP_LIST = `
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
return redis.call('SMEMBERS', KEYS[1])
`;

/**
 * KEYS: the node's connections, nodes, the node's heartbeat. ARGV: node id, then the entries swept.
 * Forgets the swept entries, and the node once it has none, unless it came back meanwhile.
 */
export const CLUSTER_SWEEP_DONE = `
if redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
for i = 2, #ARGV do redis.call('SREM', KEYS[1], ARGV[i]) end
if redis.call('SCARD', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
return 0
`;

/** Every cluster script, ready to run (the names the adapter uses on either kind of Redis). */
export const CLUSTER_SCRIPTS = {
  publish: script(clustered(PUBLISH)),
  since: script(clustered(SINCE)),
  reset: script(clustered(RESET)),
  range: script(clustered(RANGE)),
  heartbeat: script(HEARTBEAT),
  join: script(CLUSTER_JOIN),
  leave: script(CLUSTER_LEAVE),
  sweepList: script(CLUSTER_SWEEP_LIST),
  sweepDone: script(CLUSTER_SWEEP_DONE),
} as const;
