/**
 * Poker tables on several servers sharing one Redis (docs/poker.md, "Several servers").
 *
 * Each table is owned by one server at a time, through a lease: a Redis key set with `NX PX`
 * whose value names the server and a fencing token (a counter incremented at every acquisition),
 * renewed every third of its life by a script that extends it only if it still holds that value.
 * The owner runs the table (its timers, the engine) and stores every change, with the deck and
 * the hole cards, by a script that writes only while the lease still holds the owner's value: a
 * server that lost its lease (paused, cut off, presumed dead) can never overwrite the state its
 * successor continues. The same script publishes the stored state on a channel only servers
 * read; every other server keeps it as a replica, from which it answers snapshots and the lobby.
 *
 * A player connected to a server that does not own the table acts through the owner: the change
 * goes as a request on the table's command channel, to which only the owner subscribes, and the
 * answer comes back on the asking server's reply channel. Pub/sub rather than a stream or a list,
 * because a change is a question a player waits for: it is answered within seconds or not at all
 * (`TABLE_MOVED`), and a request left in a queue while the owner is dead must not be applied,
 * unasked-for, by its successor a few seconds later.
 *
 * On a Redis Cluster the same holds: each table's keys share a hash slot (`lease:{<table>}`), the
 * command and reply channels are shard channels, and the state channel a plain one, which the
 * cluster carries to every node.
 *
 * When the owner dies its lease expires (`leaseMs`), another server's next attempt acquires it,
 * loads the stored state and carries on: the hand continues where the last stored change left it.
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import { RealtimeError } from '../../../index.js';
import type { TableConfig } from '../engine/table.js';
import { TABLE_MOVED, TableRoom, type RoomDeps, type TableRecord } from '../room.js';
import type { RedisLink } from './redis-link.js';
import { applyOp, type TableOp } from './table-ops.js';

/** Settings of {@link TableCluster}. */
export interface TableClusterOptions {
  /** Prefix of every key and channel (the host's, plus the app's name). */
  keyPrefix: string;
  /** How long a lease lasts unless renewed (ms); a dead owner's tables move after at most this. Default 3,000. */
  leaseMs?: number;
  /** Least time the acting player has after a takeover (ms, at most the table's turn time). Default 10,000. */
  graceMs?: number;
  /** How long a forwarded change waits for the owner's answer (ms). Default 5,000. */
  requestTimeoutMs?: number;
}

/** Acquires a free lease with the next fencing token; nil when the lease is held. */
const ACQUIRE = `if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local value = ARGV[1] .. '/' .. redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return value`;
/** Extends the lease if it still holds this owner's value. */
const RENEW = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;
/** Ends the lease if it still holds this owner's value (a graceful stop hands tables over at once). */
const RELEASE = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1`;
/** Stores the state and tells the other servers, only while the lease holds this owner's value. */
const SAVE = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[2])
return 1`;

/** A stored table: its id, the owner that wrote it, and the room's record. */
interface Stored extends TableRecord {
  id: string;
  owner: string;
}

/** A forwarded change and its answer. */
interface Command { id: string; reply: string; op: TableOp }
interface Reply { id: string; error?: { code: string; message: string } }

function parseStored(text: string): Stored | undefined {
  try {
    const value = JSON.parse(text) as Partial<Stored>;
    if (typeof value.id !== 'string' || typeof value.version !== 'number' || typeof value.table !== 'object' || value.table === null) return undefined;
    return value as Stored;
  } catch {
    return undefined;
  }
}

/** The tables of one server in a cluster: the ones it owns, and replicas of the others. */
export class TableCluster {
  /** This server's name in leases (`host-pid-random`, so an operator can tell who owns what). */
  readonly nodeId: string;
  readonly #rooms = new Map<string, TableRoom>();
  readonly #redis: RedisLink;
  readonly #deps: Omit<RoomDeps, 'store'>;
  readonly #prefix: string;
  readonly #leaseMs: number;
  readonly #graceMs: number;
  readonly #requestTimeoutMs: number;
  /** Lease values of the tables this server owns. */
  readonly #leases = new Map<string, string>();
  readonly #pending = new Map<string, { resolve: () => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> = Promise.resolve();
  #closed = false;
  /** Called when a replica took a newer state (the lobby may have changed). */
  onReplicaChange: () => void = () => {};

  constructor(configs: readonly TableConfig[], deps: Omit<RoomDeps, 'store'>, redis: RedisLink, options: TableClusterOptions) {
    this.#redis = redis;
    this.#deps = deps;
    this.#prefix = options.keyPrefix;
    this.#leaseMs = options.leaseMs ?? 3000;
    this.#graceMs = options.graceMs ?? 10_000;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.nodeId = `${process.pid}-${randomBytes(4).toString('hex')}`;
    for (const config of configs) this.#rooms.set(config.id, this.#newRoom(config));
  }

  /** Every table, owned or replica. */
  get rooms(): ReadonlyMap<string, TableRoom> {
    return this.#rooms;
  }

  /** Whether this server owns `table` now. */
  owns(table: string): boolean {
    return this.#leases.has(table);
  }

  /** Loads the stored tables, listens, takes the tables nobody owns, and keeps doing so. */
  async start(): Promise<void> {
    await this.#redis.subscribe(this.#key('state'), (text) => this.#onState(text));
    await this.#redis.subscribe(this.#key(`reply:${this.nodeId}`), (text) => this.#onReply(text), true);
    for (const room of this.#rooms.values()) {
      const key = this.#tableKey('table', room.id);
      const text = await this.#redis.command(['GET', key], key);
      if (typeof text === 'string') this.#onState(text);
    }
    await this.#leaseRound();
    let busy = false;
    const tick = (): void => {
      // A round still waiting for a slow Redis is not doubled: the next tick tries again.
      if (busy) return;
      busy = true;
      this.#round = this.#leaseRound()
        .catch((error: unknown) => this.#deps.log('warn', { msg: 'poker lease round failed', error: String(error) }))
        .finally(() => { busy = false; });
    };
    this.#timer = setInterval(tick, Math.max(50, Math.floor(this.#leaseMs / 3)));
  }

  /**
   * Applies `op` at its table: here when this server owns it, otherwise through the owner.
   * @throws RealtimeError `TABLE_MOVED` when no server owns the table now (a takeover is under
   * way) or the owner did not answer in time (then the change may or may not have been made:
   * the table's state, which every page receives, says)
   */
  run(table: string, op: TableOp): Promise<void> | void {
    const room = this.#rooms.get(table);
    if (room === undefined) throw new RealtimeError('UNKNOWN_TABLE', 'There is no such table.');
    if (!room.replica) return applyOp(room, op);
    return this.#forward(table, op);
  }

  /** Stops: hands the owned tables over at once (their leases are released), closes Redis. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#round;
    for (const room of this.#rooms.values()) room.close();
    await Promise.all([...this.#leases].map(([table, value]) => {
      const lease = this.#tableKey('lease', table);
      return this.#redis.command(['EVAL', RELEASE, '1', lease, value], lease).catch(() => {});
    }));
    this.#leases.clear();
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new RealtimeError(TABLE_MOVED.code, TABLE_MOVED.message));
    }
    this.#pending.clear();
    this.#redis.close();
  }

  #key(name: string): string {
    return `${this.#prefix}${name}`;
  }

  /**
   * A key of one table's (`lease`, `table`, `fence`). On a cluster the table's id is a hash tag
   * (`lease:{main}`): ACQUIRE and SAVE touch two of them, which Redis Cluster allows only in one
   * slot. Whatever the id holds, the three keys are alike from the `{` on, so they share a tag.
   * On one Redis the names stay as they were (`lease:main`): servers of an older version during a
   * rolling upgrade must meet the same lease, or a table would have two owners.
   */
  #tableKey(kind: 'lease' | 'table' | 'fence', table: string): string {
    return this.#redis.cluster ? `${this.#prefix}${kind}:{${table}}` : `${this.#prefix}${kind}:${table}`;
  }

  #newRoom(config: TableConfig): TableRoom {
    const table = config.id;
    return new TableRoom(config, {
      ...this.#deps,
      store: {
        save: async (record) => {
          const value = this.#leases.get(table);
          if (value === undefined) return false;
          const stored: Stored = { id: table, owner: value, ...record };
          const text = JSON.stringify(stored);
          // PUBLISH inside the script: on a cluster a plain channel reaches every node's subscribers.
          const lease = this.#tableKey('lease', table);
          return (await this.#redis.command(['EVAL', SAVE, '2', lease, this.#tableKey('table', table), value, text, this.#key('state')], lease)) === 1;
        },
        lost: () => void this.#lose(table),
      },
    }, undefined, true);
  }

  /** Renews the leases held, and tries to acquire the others. */
  async #leaseRound(): Promise<void> {
    if (this.#closed) return;
    await Promise.all([...this.#rooms.keys()].map(async (table) => {
      const lease = this.#tableKey('lease', table);
      const held = this.#leases.get(table);
      if (held !== undefined) {
        const renewed = await this.#redis.command(['EVAL', RENEW, '1', lease, held, String(this.#leaseMs)], lease).catch(() => 0);
        if (renewed !== 1 && this.#leases.get(table) === held) await this.#lose(table);
        return;
      }
      const value = await this.#redis.command(['EVAL', ACQUIRE, '2', lease, this.#tableKey('fence', table), this.nodeId, String(this.#leaseMs)], lease).catch(() => null);
      if (typeof value === 'string' && !this.#closed) await this.#takeOver(table, value);
    }));
  }

  /** This server now holds `table`'s lease: it loads the stored state and runs the table. */
  async #takeOver(table: string, value: string): Promise<void> {
    const room = this.#rooms.get(table) as TableRoom;
    try {
      const key = this.#tableKey('table', table);
      const text = await this.#redis.command(['GET', key], key);
      const stored = typeof text === 'string' ? parseStored(text) : undefined;
      if (stored !== undefined) room.adopt(stored, true);
      this.#leases.set(table, value);
      await this.#redis.subscribe(this.#key(`cmd:${table}`), (message) => void this.#onCommand(table, message), true);
      this.#deps.log('info', { msg: 'poker table taken over', table, lease: value, version: room.version, hand: room.table.hand?.number ?? null });
      await room.promote(this.#graceMs);
    } catch (error) {
      this.#deps.log('warn', { msg: 'poker table takeover failed', table, error: String(error) });
      await this.#lose(table);
    }
  }

  /** This server no longer owns `table`: it stops running it and goes back to the stored state. */
  async #lose(table: string): Promise<void> {
    const room = this.#rooms.get(table) as TableRoom;
    const had = this.#leases.delete(table);
    room.demote();
    if (had) this.#deps.log('warn', { msg: 'poker table lease lost', table });
    await this.#redis.unsubscribe(this.#key(`cmd:${table}`), true).catch(() => {});
    const key = this.#tableKey('table', table);
    const text = await this.#redis.command(['GET', key], key).catch(() => null);
    const stored = typeof text === 'string' ? parseStored(text) : undefined;
    // Whatever changed here after the last stored state was never published: the stored one is the table.
    if (stored !== undefined && room.adopt(stored, true)) this.onReplicaChange();
  }

  /** Another server stored a table's state. */
  #onState(text: string): void {
    const stored = parseStored(text);
    const room = stored === undefined ? undefined : this.#rooms.get(stored.id);
    if (stored === undefined || room === undefined) return;
    try {
      if (room.adopt(stored)) this.onReplicaChange();
    } catch (error) {
      this.#deps.log('warn', { msg: 'poker table state unreadable', table: stored.id, error: String(error) });
    }
  }

  #forward(table: string, op: TableOp): Promise<void> {
    const id = randomBytes(8).toString('hex');
    const command: Command = { id, reply: this.nodeId, op };
    return new Promise<void>((resolve, reject) => {
      const moved = (): void => {
        this.#pending.delete(id);
        reject(new RealtimeError(TABLE_MOVED.code, TABLE_MOVED.message));
      };
      const timer = setTimeout(moved, this.#requestTimeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      // A shard channel on a cluster: its count is every subscriber (a plain PUBLISH counts one node's).
      this.#redis.publish(this.#key(`cmd:${table}`), JSON.stringify(command), true).then((receivers) => {
        // Nobody listens: no server owns the table at this moment.
        if (receivers === 0 && this.#pending.has(id)) {
          clearTimeout(timer);
          moved();
        }
      }, () => {
        clearTimeout(timer);
        moved();
      });
    });
  }

  /** A change forwarded by another server, to the table this one owns. */
  async #onCommand(table: string, text: string): Promise<void> {
    let command: Command;
    try {
      command = JSON.parse(text) as Command;
    } catch {
      return;
    }
    const reply: Reply = { id: command.id };
    try {
      const room = this.#rooms.get(table);
      if (room === undefined || room.replica) throw new RealtimeError(TABLE_MOVED.code, TABLE_MOVED.message);
      await applyOp(room, command.op);
    } catch (error) {
      reply.error = error instanceof RealtimeError
        ? { code: error.code, message: error.message }
        : { code: 'INTERNAL', message: 'The table could not make that change.' };
      if (!(error instanceof RealtimeError)) this.#deps.log('error', { msg: 'poker forwarded change failed', table, error: String(error) });
    }
    await this.#redis.publish(this.#key(`reply:${command.reply}`), JSON.stringify(reply), true).catch(() => {});
  }

  #onReply(text: string): void {
    let reply: Reply;
    try {
      reply = JSON.parse(text) as Reply;
    } catch {
      return;
    }
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    clearTimeout(pending.timer);
    if (reply.error === undefined) pending.resolve();
    // INTERNAL is not an app code a RealtimeError may carry; the asking server answers it as its own failure.
    else pending.reject(reply.error.code === 'INTERNAL' ? new Error(reply.error.message) : new RealtimeError(reply.error.code, reply.error.message));
  }
}
