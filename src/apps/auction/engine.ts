/**
 * What the app (index.ts) asks of an auction, whichever store is behind it: the
 * {@link AuctionEngine} contract, its options, its refusals and the topics it publishes on. The
 * one-node auction on SQLite (auction.ts) and the multi-node one on PostgreSQL
 * (shared-auction.ts) both fulfil it.
 * @packageDocumentation
 */
import { AuctionError, type AntiSnipe, type AuctionErrorCode, type Bid, type LotLimits, type LotView } from './rules.js';
import type { BidReceipt, LotSummary } from './wire.js';

export type { BidReceipt, LotSummary, Notice } from './wire.js';

/** Announces a change: `topic`, the message, and its conflation key. */
export type Publish = (topic: string, data: unknown, key: string) => void;

/** A signed-in person. */
export interface Person {
  user: string;
  name: string;
}

/** A refused operation: a stable code and a message that reveals nothing private. */
export class AuctionRefusal extends Error {
  /** One of {@link AuctionError}. */
  readonly code: AuctionErrorCode;

  /** @param code - why; @param message - for people */
  constructor(code: AuctionErrorCode, message: string) {
    super(message);
    this.name = 'AuctionRefusal';
    this.code = code;
  }
}

/** A rate limit: `perMinute` on average, `burst` at once. `perMinute: 0` means no limit. */
export interface Rate {
  perMinute: number;
  burst: number;
}

/** Default {@link AuctionOptions.lotRate}. */
export const DEFAULT_LOT_RATE: Rate = { perMinute: 10, burst: 10 };

/** Options of an auction, on either store. */
export interface AuctionOptions {
  /** The server's clock (ms since the epoch). Default `Date.now`. */
  now?: () => number;
  antiSnipe?: AntiSnipe;
  lotLimits?: LotLimits;
  /**
   * Lots one seller may create: `perMinute` on average, `burst` at once. Default 10 and 10;
   * `perMinute: 0` means no limit. Every lot is a row kept for good and a message to every
   * lobby watcher, so one signed-in user must not be able to make them without end.
   */
  lotRate?: Rate;
  /** Told when ending a lot failed (the store threw); the end is tried again a second later. */
  onError?: (error: unknown) => void;
}

/** Topic names, shared with the pages. */
export const Topics = {
  lobby: 'lobby',
  lot: (id: number) => `lot:${id}`,
  user: (user: string) => `user:${user}`,
} as const;

/**
 * What the app asks of an auction, whichever store is behind it: reads from memory, operations
 * that may be asynchronous (the PostgreSQL auction waits for the database).
 */
export interface AuctionEngine {
  /** The server's time now. */
  now(): number;
  /** The lot with `id`, as the public sees it. */
  view(id: number): LotView | undefined;
  /** Whether a lot with `id` exists, as this node knows it now. */
  has(id: number): boolean;
  /**
   * Whether a lot with `id` exists, asking the store when this node has not heard of it yet: on
   * several nodes a lot created on another one reaches this one with the database's
   * notification, and a page opened on the new lot's link may get here first.
   */
  find(id: number): boolean | Promise<boolean>;
  /** The reserve of a lot, for its seller only. */
  reserveFor(id: number, user: string | undefined): number | undefined;
  /** Every lot for the lobby. */
  lobby(): LotSummary[];
  /** Places a bid; refusals throw {@link AuctionRefusal}. */
  bid(who: Person, lotId: unknown, amount: unknown, key: unknown): BidReceipt | Promise<BidReceipt>;
  /** Creates a lot; refusals throw {@link AuctionRefusal}. */
  createLot(who: Person, input: unknown): LotView | Promise<LotView>;
  /** Stops the end timers. */
  stop(): void;
}

/**
 * Checks a bid request's idempotency key and lot id (the amount is the rules' to check).
 * @throws AuctionRefusal `BAD_REQUEST` naming the field
 */
export function checkBidRequest(lotId: unknown, key: unknown): { lot: number; key: string } {
  if (typeof key !== 'string' || key.length < 8 || key.length > 64 || !/^[A-Za-z0-9_-]+$/.test(key)) {
    throw new AuctionRefusal(AuctionError.BAD_REQUEST, 'key: 8 to 64 characters of A-Z a-z 0-9 _ -');
  }
  if (typeof lotId !== 'number' || !Number.isSafeInteger(lotId)) throw new AuctionRefusal(AuctionError.BAD_REQUEST, 'lot: a lot id');
  return { lot: lotId, key };
}

/** What a bidder's receipt says of the bid. */
export function receiptOf(bid: Bid): BidReceipt['bid'] {
  return { id: bid.id, lot: bid.lot, amount: bid.amount, at: bid.at };
}
