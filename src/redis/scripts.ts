/**
 * The Lua scripts. Redis runs one script at a time, so each is atomic: the offset a publish gets,
 * its place in history and its PUBLISH happen together, and every node sees the topic's messages
 * in one order. Scripts are sent by SHA1 (EVALSHA) and again in full when Redis answers NOSCRIPT
 * (it restarted and lost its script cache).
 *
 * Entry format (see codec.ts): `m\n<epoch>\n<offset>\n<time>\n<body>`.
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';

/** Reads the clock inside Redis, so every node stamps messages with one clock. */
const NOW = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/** A topic's epoch, created on first use; a new epoch drops any history of an older one. */
const EPOCH = `
local function topic_epoch(meta, hist, candidate)
  local epoch = redis.call('HGET', meta, 'e')
  if not epoch then
    epoch = candidate
    redis.call('HSET', meta, 'e', epoch, 'o', 0)
    redis.call('DEL', hist)
  end
  return epoch
end
local function entry_time(entry)
  return tonumber(string.match(entry, '^m\\n[^\\n]*\\n[^\\n]*\\n(%d+)\\n'))
end
local function entry_offset(entry)
  return tonumber(string.match(entry, '^m\\n[^\\n]*\\n(%d+)\\n'))
end
`;

/**
 * KEYS: meta, history, and optionally the publish's idempotency key. ARGV: epoch candidate,
 * maxCount, maxAge ms, meta TTL ms, channel, body, and with the third key its TTL ms.
 * Returns { epoch, offset, time }; { epoch, offset, time, 1 } for a repeat of the idempotency key,
 * which is neither appended nor published again: its first receipt is returned. The key is
 * recorded in the same script as the append, so a client that re-sends a publish whose reply was
 * lost (the node closed, or crashed, after the script ran) to any node cannot apply it twice.
 */
export const PUBLISH = `${NOW}${EPOCH}
if KEYS[3] then
  local seen = redis.call('GET', KEYS[3])
  if seen then
    local e, o, t = string.match(seen, '^([^\\n]*)\\n(%d+)\\n(%d+)$')
    if e then return { e, o, t, 1 } end
  end
end
local epoch = topic_epoch(KEYS[1], KEYS[2], ARGV[1])
local offset = redis.call('HINCRBY', KEYS[1], 'o', 1)
local now = now_ms()
local entry = 'm\\n' .. epoch .. '\\n' .. string.format('%d', offset) .. '\\n' .. string.format('%d', now) .. '\\n' .. ARGV[6]
local maxCount = tonumber(ARGV[2])
local maxAge = tonumber(ARGV[3])
if maxCount > 0 then
  redis.call('RPUSH', KEYS[2], entry)
  redis.call('LTRIM', KEYS[2], -maxCount, -1)
  -- Age trimming pops a bounded number per publish, so no publish pays for a long backlog; reads
  -- check the age again.
  local cutoff = now - maxAge
  for _ = 1, 64 do
    local head = redis.call('LINDEX', KEYS[2], 0)
    if not head then break end
    local at = entry_time(head)
    if at == nil or at >= cutoff then break end
    redis.call('LPOP', KEYS[2])
  end
  redis.call('PEXPIRE', KEYS[2], maxAge + 1000)
else
  redis.call('DEL', KEYS[2])
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PUBLISH', ARGV[5], entry)
if KEYS[3] then
  redis.call('SET', KEYS[3], epoch .. '\\n' .. string.format('%d', offset) .. '\\n' .. string.format('%d', now), 'PX', ARGV[7])
end
return { epoch, string.format('%d', offset), string.format('%d', now) }
`;

/**
 * KEYS: meta, history. ARGV: epoch candidate, meta TTL ms, from epoch ('' for the position only),
 * from offset, maxAge ms.
 * Returns { epoch, offset } for a position; { epoch, offset, 0 } when the messages after `from`
 * cannot all be given; { epoch, offset, 1, entries } when they can.
 */
export const SINCE = `${NOW}${EPOCH}
local epoch = topic_epoch(KEYS[1], KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local offset = tonumber(redis.call('HGET', KEYS[1], 'o')) or 0
local pos = string.format('%d', offset)
if ARGV[3] == '' then return { epoch, pos } end
local from = tonumber(ARGV[4])
if ARGV[3] ~= epoch or from == nil or from < 0 or from > offset then return { epoch, pos, 0 } end
if from == offset then return { epoch, pos, 1, {} } end
local head = redis.call('LINDEX', KEYS[2], 0)
if not head then return { epoch, pos, 0 } end
local head_offset = entry_offset(head)
if head_offset == nil or head_offset > from + 1 then return { epoch, pos, 0 } end
local items = redis.call('LRANGE', KEYS[2], from + 1 - head_offset, -1)
if #items ~= offset - from then return { epoch, pos, 0 } end
local first = entry_time(items[1])
if first == nil or first < now_ms() - tonumber(ARGV[5]) then return { epoch, pos, 0 } end
return { epoch, pos, 1, items }
`;

/**
 * KEYS: meta, history. ARGV: new epoch, meta TTL ms, channel, node id.
 * Replaces the topic's epoch (offset 0, empty history) and PUBLISHes a gap entry: a node that
 * delivered messages of the topic locally while Redis was unreachable announces, this way, that
 * every other node's subscribers missed them. A node that was not subscribed at that moment
 * finds the new epoch on its next fill, and a client resuming from the old epoch anywhere gets
 * `recovered: false`: the announcement is in Redis, not only on the channel. Returns the epoch.
 */
export const RESET = `
redis.call('HSET', KEYS[1], 'e', ARGV[1], 'o', 0)
redis.call('DEL', KEYS[2])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PUBLISH', ARGV[3], 'g\\n' .. ARGV[1] .. '\\n' .. ARGV[4])
return ARGV[1]
`;

/**
 * KEYS: meta, history. ARGV: epoch candidate, meta TTL ms, from epoch ('' for the position only),
 * from offset.
 * Returns { epoch, offset, now, entries }: the entries history holds after `from` (from its head
 * when it starts later), none when `from` is of another epoch. Unlike SINCE it decides nothing:
 * one call serves every subscriber resuming the topic at that moment, each checked on the node
 * (see RedisAdapter's coalesced reads).
 */
export const RANGE = `${NOW}${EPOCH}
local epoch = topic_epoch(KEYS[1], KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local offset = tonumber(redis.call('HGET', KEYS[1], 'o')) or 0
local pos = string.format('%d', offset)
local now = string.format('%d', now_ms())
local from = tonumber(ARGV[4])
if ARGV[3] ~= epoch or from == nil or from < 0 or from >= offset then return { epoch, pos, now, {} } end
local head = redis.call('LINDEX', KEYS[2], 0)
if not head then return { epoch, pos, now, {} } end
local head_offset = entry_offset(head)
if head_offset == nil then return { epoch, pos, now, {} } end
local start = from + 1 - head_offset
if start < 0 then start = 0 end
return { epoch, pos, now, redis.call('LRANGE', KEYS[2], start, -1) }
`;

/** Removes one presence connection; publishes `leave` when it was the user's last. */
const LEAVE = `
local function presence_leave(prefix, topic, conn)
  local conns = prefix .. 'p:' .. topic .. ':c'
  local v = redis.call('HGET', conns, conn)
  if not v then return 0 end
  local node, json = string.match(v, '^%d+\\n([^\\n]*)\\n(.*)$')
  redis.call('HDEL', conns, conn)
  redis.call('SREM', prefix .. 'n:' .. node .. ':c', topic .. '\\n' .. conn)
  local user = cjson.decode(json).user
  local users = prefix .. 'p:' .. topic .. ':u'
  if redis.call('HINCRBY', users, user, -1) <= 0 then
    redis.call('HDEL', users, user)
    redis.call('PUBLISH', prefix .. 'c:' .. topic, 'p\\nleave\\n' .. json)
  end
  return 1
end
`;

/**
 * KEYS: presence conns, presence users, node connections, presence sequence, nodes.
 * ARGV: conn, user, member JSON, topic, channel, node id.
 * Adds the connection (or updates its info); publishes `join` on the user's first connection.
 */
export const JOIN = `
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then
  local seq = string.match(existing, '^(%d+)\\n')
  redis.call('HSET', KEYS[1], ARGV[1], seq .. '\\n' .. ARGV[6] .. '\\n' .. ARGV[3])
  return 0
end
local seq = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[1], ARGV[1], string.format('%d', seq) .. '\\n' .. ARGV[6] .. '\\n' .. ARGV[3])
redis.call('SADD', KEYS[3], ARGV[4] .. '\\n' .. ARGV[1])
redis.call('SADD', KEYS[5], ARGV[6])
if redis.call('HINCRBY', KEYS[2], ARGV[2], 1) == 1 then
  redis.call('PUBLISH', ARGV[5], 'p\\njoin\\n' .. ARGV[3])
end
return 1
`;

/** KEYS: none used directly (names derive from the prefix). ARGV: prefix, topic, conn. */
export const LEAVE_ONE = `${LEAVE}
return presence_leave(ARGV[1], ARGV[2], ARGV[3])
`;

/**
 * KEYS: the node's connections, nodes, the node's heartbeat. ARGV: prefix, node id.
 * Removes every presence connection of a node whose heartbeat has expired, publishing `leave`s;
 * returns -1 (and does nothing) if the node is alive. Two nodes sweeping at once cannot both
 * remove a connection: scripts run one at a time.
 */
export const SWEEP = `${LEAVE}
if redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
local n = 0
for _, e in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local topic, conn = string.match(e, '^([^\\n]*)\\n(.*)$')
  if topic then n = n + presence_leave(ARGV[1], topic, conn) end
end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[2])
return n
`;

/**
 * KEYS: the node's heartbeat, nodes. ARGV: TTL ms, node id.
 * Returns 1 when the heartbeat was still alive, 0 when it had expired (the node may have been swept).
 */
export const HEARTBEAT = `
local prev = redis.call('SET', KEYS[1], '1', 'PX', ARGV[1], 'GET')
redis.call('SADD', KEYS[2], ARGV[2])
if prev then return 1 end
return 0
`;

/** A script and its SHA1. */
export interface Script {
  readonly source: string;
  readonly sha: string;
}

/** Pairs a script's source with its SHA1 (the name EVALSHA knows it by). */
export function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/** Every script, ready to run. */
export const SCRIPTS = {
  publish: script(PUBLISH),
  since: script(SINCE),
  reset: script(RESET),
  range: script(RANGE),
  join: script(JOIN),
  leave: script(LEAVE_ONE),
  sweep: script(SWEEP),
  heartbeat: script(HEARTBEAT),
} as const;
