/**
 * The shapes the server sends (docs/poker.md), as the page reads them. Kept here rather than
 * imported from the engine: browser code depends on the wire protocol, not on server modules.
 */

export interface LegalActions {
  seat: number;
  canCheck: boolean;
  callAmount: number;
  canBet: boolean;
  canRaise: boolean;
  minTo: number;
  maxTo: number;
}

export interface PublicSeat {
  seat: number;
  name: string;
  user: string;
  stack: number;
  sittingOut: boolean;
  inHand: boolean;
  folded: boolean;
  allIn: boolean;
  committed: number;
  hasCards: boolean;
}

export interface ShownHand {
  seat: number;
  name: string;
  cards: string[];
  best: string[];
  description: string;
}

export interface PublicHand {
  number: number;
  street: 'preflop' | 'flop' | 'turn' | 'river';
  board: string[];
  button: number;
  smallBlindSeat: number;
  bigBlindSeat: number;
  pot: number;
  pots: { amount: number; eligible: number[] }[];
  currentBet: number;
  toAct: number | null;
  deadline: number | null;
  legal: LegalActions | null;
  complete: boolean;
  result: {
    wonByFold: boolean;
    shown: ShownHand[];
    pots: { amount: number; winners: { seat: number; name: string; amount: number }[] }[];
  } | null;
}

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

export interface TableMessage {
  version: number;
  state: PublicTable;
  events: TableEvent[];
}

export type TableEvent =
  | { type: 'sit'; seat: number; name: string; stack: number }
  | { type: 'leave'; seat: number; name: string; reason: 'left' | 'busted' }
  | { type: 'sitOut'; seat: number; name: string; out: boolean }
  | { type: 'hand'; number: number; button: number }
  | { type: 'blind'; seat: number; name: string; kind: 'small' | 'big'; amount: number; allIn: boolean }
  | { type: 'action'; seat: number; name: string; action: string; added: number; to: number; allIn: boolean; auto: boolean }
  | { type: 'street'; street: string; board: string[] }
  | { type: 'uncalled'; seat: number; name: string; amount: number }
  | { type: 'showdown'; shown: { seat: number; name: string; cards: string[]; description: string }[] }
  | { type: 'win'; seat: number; name: string; amount: number; pot: number; hand: string | null };

export interface PrivateView {
  table: string;
  hand: number | null;
  cards: string[];
}

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

export interface Session {
  token: string;
  user: string;
  name: string;
}
