/**
 * The poker room's wire shapes: what the server sends the page (docs/poker.md, "Protocol"). Pure
 * types with no imports, shared by the engine's views, the server and the browser code, so the
 * page can never read a shape the server does not send. Cards are names here (`As`, `Td`).
 * @packageDocumentation
 */

/** Betting rounds in order. */
export type Street = 'preflop' | 'flop' | 'turn' | 'river';

/** What the acting player may do now. Derived from public information only. */
export interface LegalActions {
  seat: number;
  canCheck: boolean;
  /** Chips a call adds (0 when checking is possible). */
  callAmount: number;
  canBet: boolean;
  canRaise: boolean;
  /** Smallest total for this round a bet or raise may reach (less only when all-in). */
  minTo: number;
  /** Largest total for this round (all-in). */
  maxTo: number;
}

/** A hand shown at showdown. */
export interface ShownHand {
  seat: number;
  name: string;
  /** The two hole cards. */
  cards: string[];
  /** The best five of seven. */
  best: string[];
  description: string;
}

/** A seat as everyone sees it. */
export interface PublicSeat {
  seat: number;
  name: string;
  user: string;
  stack: number;
  sittingOut: boolean;
  /** Dealt into the current hand. */
  inHand: boolean;
  folded: boolean;
  allIn: boolean;
  /** Chips in front of the player this betting round. */
  committed: number;
  /** Holds cards face down (dealt in, not folded, hand not over). */
  hasCards: boolean;
}

/** The hand as everyone sees it. */
export interface PublicHand {
  number: number;
  street: Street;
  board: string[];
  button: number;
  smallBlindSeat: number;
  bigBlindSeat: number;
  /** Every chip in the middle and in front of the players. */
  pot: number;
  /** Pots gathered from earlier rounds: the main pot, then side pots. */
  pots: { amount: number; eligible: number[] }[];
  currentBet: number;
  toAct: number | null;
  /** Server time (ms) at which the acting player's time runs out. */
  deadline: number | null;
  /** The acting player's options (public knowledge: derived from stacks and bets). */
  legal: LegalActions | null;
  complete: boolean;
  /** The outcome, once complete; shown cards are those of the showdown only. */
  result: {
    wonByFold: boolean;
    shown: ShownHand[];
    pots: { amount: number; winners: { seat: number; name: string; amount: number }[] }[];
  } | null;
}

/** The whole public state of a table. */
export interface PublicTable {
  id: string;
  name: string;
  seatCount: number;
  smallBlind: number;
  bigBlind: number;
  minBuyIn: number;
  maxBuyIn: number;
  turnMs: number;
  seats: (PublicSeat | null)[];
  hand: PublicHand | null;
}

/** A message on a table topic. */
export interface TableMessage {
  /** Grows by one per change: a client ignores a state older than the one it shows. */
  version: number;
  state: PublicTable;
  /** What changed, for announcements (no hole card ever; shown hands only at showdown). */
  events: PublicEvent[];
}

/** Something that happened at the table, as announced (cards as names; only shown hands at showdown). */
export type PublicEvent =
  | { type: 'sit'; seat: number; name: string; stack: number }
  | { type: 'leave'; seat: number; name: string; reason: 'left' | 'busted' }
  | { type: 'sitOut'; seat: number; name: string; out: boolean }
  | { type: 'hand'; number: number; button: number }
  | { type: 'blind'; seat: number; name: string; kind: 'small' | 'big'; amount: number; allIn: boolean }
  | { type: 'action'; seat: number; name: string; action: 'fold' | 'check' | 'call' | 'bet' | 'raise'; added: number; to: number; allIn: boolean; auto: boolean }
  | { type: 'street'; street: Street; board: string[] }
  | { type: 'uncalled'; seat: number; name: string; amount: number }
  | { type: 'showdown'; shown: { seat: number; name: string; cards: string[]; description: string }[] }
  | { type: 'win'; seat: number; name: string; amount: number; pot: number; hand: string | null };

/** One player's private view: their own hole cards in the current (or last) hand. */
export interface PrivateView {
  table: string;
  hand: number | null;
  cards: string[];
}

/** One table in the lobby list. */
export interface LobbyTable {
  id: string;
  name: string;
  seats: number;
  players: number;
  smallBlind: number;
  bigBlind: number;
  minBuyIn: number;
  maxBuyIn: number;
  playing: boolean;
}

/** One visitor. */
export interface Session {
  token: string;
  user: string;
  name: string;
}
