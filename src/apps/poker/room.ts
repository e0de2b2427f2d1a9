/**
 * One table on the server: the engine's {@link PokerTable} plus what the engine leaves out on
 * purpose — the turn timer, the pause between hands, the shuffle from a cryptographic source,
 * and publishing. Every change publishes the whole public state (with the events that caused it)
 * on the table's topic, and each dealt player's cards on that player's own private topic.
 *
 * On several servers (docs/poker.md, "Several servers") a room is either the table's owner, which
 * runs the timers and stores every change before anyone hears of it, or a replica, which only
 * holds the last stored state (for snapshots and the lobby) and changes when a newer one arrives.
 * @packageDocumentation
 */
import { RealtimeError } from '../../index.js';
import { shuffledDeck, type RandomInt } from './engine/deck.js';
import { PokerTable, type ActionRequest, type Outcome, type TableConfig, type TableSnapshot } from './engine/table.js';
import { privateView, publicEvents, publicView } from './engine/view.js';
import type { TableMessage } from './wire.js';

export type { TableMessage } from './wire.js';

/** Timers and time, injectable for tests. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The platform's clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Topic names. Private topics carry the user id; only that user may subscribe (see index.ts). */
export const Topics = {
  lobby: 'poker:lobby',
  table: (id: string): string => `poker:table:${id}`,
  hole: (id: string, user: string): string => `poker:hole:${id}:${user}`,
} as const;

/** A table's state as stored: the engine's snapshot (hole cards and deck included) and the message version. */
export interface TableRecord {
  version: number;
  table: TableSnapshot;
}

/** Where an owner stores its table (several servers); without one, a room is the only copy. */
export interface RoomStore {
  /**
   * Stores `record` if this server still owns the table. Resolves false (or rejects) when it no
   * longer does: the room then stops (see {@link TableRoom.demote}) and the change is not published.
   */
  save(record: TableRecord): Promise<boolean>;
  /** Called once when a save failed: the app makes the room a replica again. */
  lost(): void;
}

/** The answer to a change this server could not store: its lease on the table ended. */
export const TABLE_MOVED = { code: 'TABLE_MOVED', message: 'The table moved to another server; try again in a moment.' } as const;

/** What a room needs from the app. */
export interface RoomDeps {
  publish: (topic: string, data: unknown) => void;
  randomInt: RandomInt;
  clock: Clock;
  /** Pause after a hand ends, so everyone sees the showdown (ms). */
  handPauseMs: number;
  /** Pause before the first hand once two players sit (ms). */
  startDelayMs: number;
  /** Sitting out this long (ms) frees the seat. */
  idleSeatMs: number;
  /** Called after every change, so the lobby can be refreshed. */
  onChange: () => void;
  log: (level: 'info' | 'warn' | 'error', fields: Record<string, unknown> & { msg: string }) => void;
  /** The shared store, on several servers. */
  store?: RoomStore;
}

/** Throws a refusal as the request's error; the message is the engine's fixed text. */
function check(outcome: Outcome): void {
  if (!outcome.ok) throw new RealtimeError(outcome.reason, outcome.message);
}

/** A table with its timers. */
export class TableRoom {
  #table: PokerTable;
  readonly #deps: RoomDeps;
  #version = 0;
  #turnTimer: unknown = undefined;
  #dealTimer: unknown = undefined;
  #closed = false;
  /** A replica holds the stored state only: no timers, no changes, no publishing. */
  #replica: boolean;
  /** Saves in order: each change is stored after the one before it. */
  #saving: Promise<unknown> = Promise.resolve();

  /**
   * @param record - the stored state to start from (several servers); default an empty table
   * @param replica - start as a replica (several servers)
   */
  constructor(config: TableConfig, deps: RoomDeps, record?: TableRecord, replica = false) {
    this.#table = record === undefined ? new PokerTable(config) : PokerTable.restore(config, record.table);
    this.#version = record?.version ?? 0;
    this.#deps = deps;
    this.#replica = replica;
  }

  /** The engine (replaced when a replica adopts a newer state). */
  get table(): PokerTable {
    return this.#table;
  }

  /** The table's id. */
  get id(): string {
    return this.table.config.id;
  }

  /** Whether this room is a replica. */
  get replica(): boolean {
    return this.#replica;
  }

  /** The version of the last message. */
  get version(): number {
    return this.#version;
  }

  /** The current message (for snapshots). */
  message(): TableMessage {
    return { version: this.#version, state: publicView(this.table), events: [] };
  }

  /** The state to store. */
  record(): TableRecord {
    return { version: this.#version, table: this.table.snapshot() };
  }

  /**
   * A replica takes `record` if it is newer than what it holds (or whatever its version, with
   * `force`: a server that lost its lease goes back to the stored state); true when it did.
   * @throws TypeError when the record does not fit the table
   */
  adopt(record: TableRecord, force = false): boolean {
    if (!this.#replica || (!force && record.version <= this.#version)) return false;
    this.#table = PokerTable.restore(this.table.config, record.table);
    this.#version = record.version;
    return true;
  }

  /**
   * A replica becomes the owner (its state is the stored one): the timers start again and the
   * state is stored and published once more. The acting player's clock keeps the time that was
   * left, but never less than `graceMs`: the seconds the takeover took are not theirs to lose.
   */
  promote(graceMs: number): Promise<void> | void {
    if (!this.#replica || this.#closed) return;
    this.#replica = false;
    const now = this.#deps.clock.now();
    const snapshot = this.table.snapshot();
    const hand = snapshot.hand;
    if (hand !== null && !hand.complete && hand.deadline !== null) {
      hand.deadline = Math.max(hand.deadline, now + Math.min(graceMs, this.table.config.turnMs));
      this.#table = PokerTable.restore(this.table.config, snapshot);
    }
    return this.#changed([]);
  }

  /** The owner stops being one (its lease ended): timers stop, changes are refused. */
  demote(): void {
    this.#replica = true;
    this.#stopTimers();
  }

  sit(user: string, name: string, seat: unknown, buyIn: unknown): Promise<void> | void {
    this.#owner();
    const outcome = this.table.sit(user, name, seat, buyIn);
    check(outcome);
    return outcome.ok ? this.#changed(outcome.events) : undefined;
  }

  leave(user: string): Promise<void> | void {
    this.#owner();
    const outcome = this.table.leave(user, this.#deps.clock.now());
    check(outcome);
    return outcome.ok ? this.#changed(outcome.events) : undefined;
  }

  sitOut(user: string, out: boolean): Promise<void> | void {
    this.#owner();
    const outcome = this.table.setSittingOut(user, out, this.#deps.clock.now());
    check(outcome);
    return outcome.ok ? this.#changed(outcome.events) : undefined;
  }

  act(user: string, action: ActionRequest, hand: number | undefined): Promise<void> | void {
    this.#owner();
    const outcome = this.table.act(user, action, this.#deps.clock.now(), hand);
    check(outcome);
    return outcome.ok ? this.#changed(outcome.events) : undefined;
  }

  /** Frees seats of players who sat out longer than `idleSeatMs` (the app calls this now and then). */
  sweep(): void {
    if (this.#closed || this.#replica) return;
    const outcome = this.table.removeIdle(this.#deps.clock.now(), this.#deps.idleSeatMs);
    if (outcome.ok && outcome.events.length > 0) void this.#changed(outcome.events)?.catch(() => {});
  }

  /** Stops the timers for good. */
  close(): void {
    this.#closed = true;
    this.#stopTimers();
  }

  #stopTimers(): void {
    this.#deps.clock.clearTimeout(this.#turnTimer);
    this.#deps.clock.clearTimeout(this.#dealTimer);
    this.#turnTimer = this.#dealTimer = undefined;
  }

  /** Changes go through the owner only; a replica's caller forwards them (several servers). */
  #owner(): void {
    if (this.#replica) throw new RealtimeError(TABLE_MOVED.code, TABLE_MOVED.message);
  }

  /**
   * Publishes a change: each newly dealt player's cards on that player's private topic first,
   * then the public state. With a store, the change is stored first and published only once
   * stored (the returned promise settles then): what a player saw, a takeover continues from.
   */
  #changed(events: Parameters<typeof publicEvents>[0], dealt = false): Promise<void> | void {
    this.#version++;
    const message: TableMessage = { version: this.#version, state: publicView(this.table), events: publicEvents(events) };
    const holes = dealt ? (this.table.hand?.players ?? []).map((p) => [Topics.hole(this.id, p.user), privateView(this.table, p.user)] as const) : [];
    const publish = (): void => {
      for (const [topic, view] of holes) this.#deps.publish(topic, view);
      this.#deps.publish(Topics.table(this.id), message);
      this.#deps.onChange();
    };
    this.#schedule();
    const store = this.#deps.store;
    if (store === undefined) {
      publish();
      return;
    }
    const record = this.record();
    const saved = this.#saving.then(async () => {
      if (this.#replica || this.#closed) throw new RealtimeError(TABLE_MOVED.code, TABLE_MOVED.message);
      const stored = await store.save(record).catch((error: unknown) => {
        this.#deps.log('warn', { msg: 'poker table state not stored', table: this.id, error: String(error) });
        return false;
      });
      if (!stored) {
        // This server's lease ended: whatever it changed since the last save is not anyone's state.
        if (!this.#replica) {
          this.demote();
          store.lost();
        }
        throw new RealtimeError(TABLE_MOVED.code, TABLE_MOVED.message);
      }
      publish();
    });
    this.#saving = saved.catch(() => {});
    return saved;
  }

  /** Arms the turn timer for the acting player, or the deal of the next hand. */
  #schedule(): void {
    const { clock } = this.#deps;
    clock.clearTimeout(this.#turnTimer);
    this.#turnTimer = undefined;
    if (this.#closed || this.#replica) return;
    const hand = this.table.hand;
    if (this.table.inHand && hand?.deadline !== null && hand?.deadline !== undefined) {
      this.#turnTimer = clock.setTimeout(() => this.#onTurnTimeout(), Math.max(0, hand.deadline - clock.now()));
      return;
    }
    if (this.#dealTimer === undefined && this.table.canStartHand()) {
      const delay = hand?.complete === true ? this.#deps.handPauseMs : this.#deps.startDelayMs;
      this.#dealTimer = clock.setTimeout(() => this.#deal(), delay);
    }
  }

  #onTurnTimeout(): void {
    this.#turnTimer = undefined;
    const outcome = this.table.timeout(this.#deps.clock.now());
    if (outcome.ok) void this.#changed(outcome.events)?.catch(() => {});
    else this.#schedule(); // fired a little early: arm again for the rest
  }

  #deal(): void {
    this.#dealTimer = undefined;
    if (this.#closed || this.#replica || !this.table.canStartHand()) return;
    const outcome = this.table.startHand(shuffledDeck(this.#deps.randomInt), this.#deps.clock.now());
    if (!outcome.ok) return;
    this.#deps.log('info', { msg: 'hand dealt', table: this.id, hand: this.table.hand?.number, players: this.table.hand?.players.length });
    // Each player's cards go to that player's private topic only, before the public state says they were dealt.
    void this.#changed(outcome.events, true)?.catch(() => {});
  }
}
