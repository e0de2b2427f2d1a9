/**
 * The types of a table's state: its settings, seats, the hand in play, what the acting player
 * may do, and the events a change reports. The state machine itself is {@link PokerTable} in
 * table.ts.
 * @packageDocumentation
 */
import type { Card } from './cards.js';
import type { Refusal } from './reasons.js';
import type { Street } from '../wire.js';

export type { LegalActions, Street } from '../wire.js';

/** A table's fixed settings. */
export interface TableConfig {
  /** Identifier used in topics and URLs (`[a-z0-9-]`). */
  id: string;
  /** Name people see. */
  name: string;
  /** Number of seats, 2–9. */
  seats: number;
  smallBlind: number;
  bigBlind: number;
  minBuyIn: number;
  maxBuyIn: number;
  /** How long a player has to act, in ms. */
  turnMs: number;
}

/** A seated player. */
export interface SeatState {
  user: string;
  name: string;
  stack: number;
  /** Sitting out: keeps the seat, is not dealt in. */
  sittingOut: boolean;
  /** When the player started sitting out (ms), or null. */
  sittingOutSince: number | null;
  /** Asked to leave during a hand they are still in: the seat empties when the hand ends. */
  leaving: boolean;
  /** Turns in a row that ran out of time; at two the player is sat out. */
  timeouts: number;
}

/** A player dealt into the current hand. */
export interface HandPlayer {
  seat: number;
  user: string;
  name: string;
  hole: Card[];
  /** Chips put in during the current betting round. */
  committed: number;
  /** Chips put in during the whole hand. */
  total: number;
  folded: boolean;
  allIn: boolean;
  /** Has to act before the betting round can end. */
  needsToAct: boolean;
  /** The full-raise counter when this player last acted; raising is open only if it moved since. */
  actedOnRaise: number;
}

/** A hand's outcome. */
export interface HandResult {
  /** True when everyone else folded: no cards are shown. */
  wonByFold: boolean;
  /** Hands shown at showdown (every player still in), best first. */
  shown: { seat: number; name: string; cards: Card[]; best: Card[]; value: number; description: string }[];
  /** Each pot, main pot first, and who won what from it. */
  pots: { amount: number; winners: { seat: number; name: string; amount: number }[] }[];
}

/** The hand being played (or the last one, once `complete`). */
export interface HandState {
  number: number;
  button: number;
  smallBlindSeat: number;
  bigBlindSeat: number;
  street: Street;
  board: Card[];
  /** Cards not yet dealt, top first. */
  deck: Card[];
  /** Dealt-in players, in seat order. */
  players: HandPlayer[];
  /** The amount to match in this betting round. */
  currentBet: number;
  /** The size of the last full bet or raise this round: the smallest raise allowed. */
  minRaise: number;
  /** Counts full bets and raises (and new rounds); see {@link HandPlayer.actedOnRaise}. */
  raiseId: number;
  /** Seat to act, or null. */
  toAct: number | null;
  /** When the acting player's time runs out (ms), or null. */
  deadline: number | null;
  complete: boolean;
  result: HandResult | null;
}

/** A table's whole state, as {@link PokerTable.snapshot} returns it (hole cards and deck included). */
export interface TableSnapshot {
  seats: (SeatState | null)[];
  hand: HandState | null;
  handCount: number;
  button: number;
}

/** Something that happened, for logs and announcements. */
export type TableEvent =
  | { type: 'sit'; seat: number; name: string; stack: number }
  | { type: 'leave'; seat: number; name: string; reason: 'left' | 'busted' }
  | { type: 'sitOut'; seat: number; name: string; out: boolean }
  | { type: 'hand'; number: number; button: number }
  | { type: 'blind'; seat: number; name: string; kind: 'small' | 'big'; amount: number; allIn: boolean }
  | { type: 'action'; seat: number; name: string; action: ActionType; added: number; to: number; allIn: boolean; auto: boolean }
  | { type: 'street'; street: Street; board: Card[] }
  | { type: 'uncalled'; seat: number; name: string; amount: number }
  | { type: 'showdown'; shown: HandResult['shown'] }
  | { type: 'win'; seat: number; name: string; amount: number; pot: number; hand: string | null };

/** The five actions. */
export const ACTIONS = ['fold', 'check', 'call', 'bet', 'raise'] as const;
/** One of {@link ACTIONS}. */
export type ActionType = (typeof ACTIONS)[number];

/** A player's request: the type, and for `bet`/`raise` the total this round reaches ("raise to"). */
export interface ActionRequest {
  type: unknown;
  amount?: unknown;
}

/** Success with the events caused, or a refusal (state unchanged). */
export type Outcome = { ok: true; events: TableEvent[] } | Refusal;
