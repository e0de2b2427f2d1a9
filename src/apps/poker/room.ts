/**
 * One table on the server: the engine's {@link PokerTable} plus what the engine leaves out on
 * purpose — the turn timer, the pause between hands, the shuffle from a cryptographic source,
 * and publishing. Every change publishes the whole public state (with the events that caused it)
 * on the table's topic, and each dealt player's cards on that player's own private topic.
 * @packageDocumentation
 */
import { RealtimeError } from '../../index.js';
import { shuffledDeck, type RandomInt } from './engine/deck.js';
import { PokerTable, type ActionRequest, type Outcome, type TableConfig } from './engine/table.js';
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
}

/** Throws a refusal as the request's error; the message is the engine's fixed text. */
function check(outcome: Outcome): void {
  if (!outcome.ok) throw new RealtimeError(outcome.reason, outcome.message);
}

/** A table with its timers. */
export class TableRoom {
  readonly table: PokerTable;
  readonly #deps: RoomDeps;
  #version = 0;
  #turnTimer: unknown = undefined;
  #dealTimer: unknown = undefined;
  #closed = false;

  constructor(config: TableConfig, deps: RoomDeps) {
    this.table = new PokerTable(config);
    this.#deps = deps;
  }

  /** The table's id. */
  get id(): string {
    return this.table.config.id;
  }

  /** The current message (for snapshots). */
  message(): TableMessage {
    return { version: this.#version, state: publicView(this.table), events: [] };
  }

  sit(user: string, name: string, seat: unknown, buyIn: unknown): void {
    const outcome = this.table.sit(user, name, seat, buyIn);
    check(outcome);
    if (outcome.ok) this.#changed(outcome.events);
  }

  leave(user: string): void {
    const outcome = this.table.leave(user, this.#deps.clock.now());
    check(outcome);
    if (outcome.ok) this.#changed(outcome.events);
  }

  sitOut(user: string, out: boolean): void {
    const outcome = this.table.setSittingOut(user, out, this.#deps.clock.now());
    check(outcome);
    if (outcome.ok) this.#changed(outcome.events);
  }

  act(user: string, action: ActionRequest, hand: number | undefined): void {
    const outcome = this.table.act(user, action, this.#deps.clock.now(), hand);
    check(outcome);
    if (outcome.ok) this.#changed(outcome.events);
  }

  /** Frees seats of players who sat out longer than `idleSeatMs` (the app calls this now and then). */
  sweep(): void {
    if (this.#closed) return;
    const outcome = this.table.removeIdle(this.#deps.clock.now(), this.#deps.idleSeatMs);
    if (outcome.ok && outcome.events.length > 0) this.#changed(outcome.events);
  }

  /** Stops the timers for good. */
  close(): void {
    this.#closed = true;
    this.#deps.clock.clearTimeout(this.#turnTimer);
    this.#deps.clock.clearTimeout(this.#dealTimer);
    this.#turnTimer = this.#dealTimer = undefined;
  }

  #changed(events: Parameters<typeof publicEvents>[0]): void {
    this.#version++;
    const message: TableMessage = { version: this.#version, state: publicView(this.table), events: publicEvents(events) };
    this.#deps.publish(Topics.table(this.id), message);
    this.#deps.onChange();
    this.#schedule();
  }

  /** Arms the turn timer for the acting player, or the deal of the next hand. */
  #schedule(): void {
    const { clock } = this.#deps;
    clock.clearTimeout(this.#turnTimer);
    this.#turnTimer = undefined;
    if (this.#closed) return;
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
    if (outcome.ok) this.#changed(outcome.events);
    else this.#schedule(); // fired a little early: arm again for the rest
  }

  #deal(): void {
    this.#dealTimer = undefined;
    if (this.#closed || !this.table.canStartHand()) return;
    const outcome = this.table.startHand(shuffledDeck(this.#deps.randomInt), this.#deps.clock.now());
    if (!outcome.ok) return;
    // Each player's cards go to that player's private topic only, before the public state says they were dealt.
    for (const player of this.table.hand?.players ?? []) {
      this.#deps.publish(Topics.hole(this.id, player.user), privateView(this.table, player.user));
    }
    this.#deps.log('info', { msg: 'hand dealt', table: this.id, hand: this.table.hand?.number, players: this.table.hand?.players.length });
    this.#changed(outcome.events);
  }
}
