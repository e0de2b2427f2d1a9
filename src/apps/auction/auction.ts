/**
 * The running auction: the lots in memory (loaded from the store at start), the timers that end
 * them, and the two operations people perform, placing a bid and creating a lot. Each operation
 * checks the rules, writes to the store, and only then changes memory and announces the change,
 * all in one synchronous turn: bids are applied one at a time, in the order they arrive.
 *
 * It knows nothing of WebSocket: it announces changes through a {@link Publish} function.
 * @packageDocumentation
 */
import type { BidReceipt, LotSummary, Notice } from './wire.js';

export type { BidReceipt, LotSummary, Notice } from './wire.js';
import {
  AuctionError,
  DEFAULT_ANTI_SNIPE,
  DEFAULT_LOT_LIMITS,
  applyBid,
  checkBid,
  checkLotSpec,
  isDue,
  leadingBid,
  outcome,
  publicView,
  type AntiSnipe,
  type AuctionErrorCode,
  type Bid,
  type Lot,
  type LotLimits,
  type LotView,
} from './rules.js';
import { AddressRateLimiter } from '../../server/app.js';
import type { AuctionStore } from './store.js';

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

/** Options of an {@link Auction}. */
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

/** A rate limit: `perMinute` on average, `burst` at once. `perMinute: 0` means no limit. */
export interface Rate {
  perMinute: number;
  burst: number;
}

/** Default {@link AuctionOptions.lotRate}. */
export const DEFAULT_LOT_RATE: Rate = { perMinute: 10, burst: 10 };

/** Topic names, shared with the pages. */
export const Topics = {
  lobby: 'lobby',
  lot: (id: number) => `lot:${id}`,
  user: (user: string) => `user:${user}`,
} as const;

/** Longest timer Node keeps exactly (about 24.8 days); longer waits are taken in steps. */
const MAX_TIMER = 2 ** 31 - 1;

/**
 * What the app asks of an auction, whichever store is behind it: reads from memory, operations
 * that may be asynchronous (the PostgreSQL auction waits for the database).
 */
export interface AuctionEngine {
  /** The server's time now. */
  now(): number;
  /** The lot with `id`, as the public sees it. */
  view(id: number): LotView | undefined;
  /** Whether a lot with `id` exists. */
  has(id: number): boolean;
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

/** The auction's live state and operations, on the one-node SQLite store. */
export class Auction implements AuctionEngine {
  readonly #store: AuctionStore;
  readonly #publish: Publish;
  readonly #now: () => number;
  readonly #antiSnipe: AntiSnipe;
  readonly #limits: LotLimits;
  readonly #onError: (error: unknown) => void;
  readonly #lotRate: AddressRateLimiter;
  readonly #lots = new Map<number, Lot>();
  readonly #timers = new Map<number, NodeJS.Timeout>();
  #stopped = false;

  /** Loads every lot from `store` and ends those whose time passed while the server was down. */
  constructor(store: AuctionStore, publish: Publish, options: AuctionOptions = {}) {
    this.#store = store;
    this.#publish = publish;
    this.#now = options.now ?? Date.now;
    this.#antiSnipe = options.antiSnipe ?? DEFAULT_ANTI_SNIPE;
    this.#limits = options.lotLimits ?? DEFAULT_LOT_LIMITS;
    this.#onError = options.onError ?? (() => undefined);
    const lotRate = options.lotRate ?? DEFAULT_LOT_RATE;
    this.#lotRate = new AddressRateLimiter(lotRate.perMinute / 60, lotRate.burst, { now: this.#now });
    for (const lot of store.loadLots()) {
      this.#lots.set(lot.id, lot);
      if (lot.status === 'open') this.#schedule(lot);
    }
  }

  /** The server's time now. */
  now(): number {
    return this.#now();
  }

  /** The lot with `id`, as the public sees it. */
  view(id: number): LotView | undefined {
    const lot = this.#lots.get(id);
    return lot === undefined ? undefined : publicView(lot);
  }

  /** Whether a lot with `id` exists. */
  has(id: number): boolean {
    return this.#lots.has(id);
  }

  /** The reserve of a lot, for its seller only; `undefined` for anyone else. */
  reserveFor(id: number, user: string | undefined): number | undefined {
    const lot = this.#lots.get(id);
    return lot !== undefined && user !== undefined && lot.seller === user ? lot.reserve : undefined;
  }

  /** Every lot for the lobby: running ones first (ending soonest first), then the 20 newest ended. */
  lobby(): LotSummary[] {
    return lobbyOf(this.#lots.values());
  }

  /**
   * Places a bid of `amount` cents by `who` on lot `lotArg`. `keyArg` is the client's idempotency
   * key: a bid already accepted with this key is answered again, not placed again.
   * @throws AuctionRefusal when the rules refuse it; nothing has changed then
   */
  bid(who: Person, lotArg: unknown, amount: unknown, keyArg: unknown): BidReceipt {
    const { lot: lotId, key } = checkBidRequest(lotArg, keyArg);
    const lot = this.#lots.get(lotId);
    if (lot === undefined) throw new AuctionRefusal(AuctionError.NO_SUCH_LOT, 'there is no such lot');
    const earlier = this.#store.bidByKey(who.user, key);
    if (earlier !== undefined) {
      if (earlier.lot !== lotId || earlier.amount !== amount) {
        throw new AuctionRefusal(AuctionError.KEY_REUSED, 'this key was used for another bid');
      }
      return { bid: receiptOf(earlier), lot: publicView(lot), replayed: true };
    }
    const now = this.#now();
    // The end may have passed before its timer ran (a busy loop, a suspended machine).
    if (isDue(lot, now)) this.#end(lot);
    const verdict = checkBid(lot, who.user, amount, now, this.#antiSnipe);
    if (!verdict.ok) throw new AuctionRefusal(verdict.code, verdict.message);
    const previous = leadingBid(lot);
    // Durable first: only a committed bid changes memory and is announced.
    const bid = this.#store.recordBid({ lot: lot.id, user: who.user, name: who.name, amount: amount as number, at: now, key }, verdict.endsAt);
    applyBid(lot, bid, verdict.endsAt);
    if (verdict.extended) this.#schedule(lot);
    this.#announce(lot);
    if (previous !== undefined && previous.user !== who.user) {
      this.#publish(Topics.user(previous.user), { type: 'outbid', lot: lot.id, title: lot.title, price: bid.amount, minimumBid: publicView(lot).minimumBid }, `outbid:${lot.id}`);
    }
    return { bid: receiptOf(bid), lot: publicView(lot), replayed: false };
  }

  /**
   * Creates a lot sold by `who`.
   * @throws AuctionRefusal when the lot breaks a rule (the message names the field), or when
   * `who` has created lots faster than {@link AuctionOptions.lotRate} allows (`RATE_LIMITED`)
   */
  createLot(who: Person, input: unknown): LotView {
    const verdict = checkLotSpec(input, this.#now(), this.#limits);
    if (!verdict.ok) throw new AuctionRefusal(verdict.code, verdict.message);
    // Counted for valid lots only: a refused one costs nothing to keep.
    const wait = this.#lotRate.attempt(who.user);
    if (wait > 0) throw new AuctionRefusal(AuctionError.RATE_LIMITED, `too many new lots; try again in ${wait} s`);
    const lot = this.#store.createLot(verdict.spec, who, this.#now());
    this.#lots.set(lot.id, lot);
    this.#schedule(lot);
    this.#announce(lot);
    return publicView(lot);
  }

  /** Stops the end timers (the store stays open: the owner closes it). */
  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  /** Sets the timer that ends `lot`, replacing any earlier one; ends it now if it is due. */
  #schedule(lot: Lot): void {
    const old = this.#timers.get(lot.id);
    if (old !== undefined) clearTimeout(old);
    this.#timers.delete(lot.id);
    if (this.#stopped || lot.status !== 'open') return;
    const wait = lot.endsAt - this.#now();
    if (wait <= 0) {
      this.#end(lot);
      return;
    }
    this.#arm(lot, Math.min(wait, MAX_TIMER));
  }

  /** Runs the end check for `lot` in `ms`. */
  #arm(lot: Lot, ms: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(lot.id);
      try {
        // The clock decides, not the timer: an early wake-up (or a long wait in steps) reschedules.
        if (isDue(lot, this.#now())) this.#end(lot);
        else this.#schedule(lot);
      } catch (error) {
        // A failed write (a full disk, say) must not take the server down: report it, try again.
        this.#onError(error);
        if (!this.#stopped) this.#arm(lot, 1000);
      }
    }, ms);
    timer.unref();
    this.#timers.set(lot.id, timer);
  }

  /** Ends a due lot: records the outcome, announces it, tells the winner and the seller. */
  #end(lot: Lot): void {
    const result = outcome(lot);
    this.#store.setStatus(lot.id, result);
    lot.status = result;
    const timer = this.#timers.get(lot.id);
    if (timer !== undefined) clearTimeout(timer);
    this.#timers.delete(lot.id);
    this.#announce(lot);
    const top = leadingBid(lot);
    const notice: Notice = { type: 'ended', lot: lot.id, title: lot.title, status: result, price: top?.amount ?? null };
    if (result === 'sold' && top !== undefined) this.#publish(Topics.user(top.user), { ...notice, won: true }, `ended:${lot.id}`);
    this.#publish(Topics.user(lot.seller), { ...notice, seller: true }, `ended:${lot.id}`);
  }

  /** Publishes the lot's new state to its watchers and its summary to the lobby. */
  #announce(lot: Lot): void {
    const view = publicView(lot);
    // One key per topic: a watcher that falls behind gets only the newest state (conflation).
    this.#publish(Topics.lot(lot.id), { type: 'lot', lot: view, serverTime: this.#now() }, 'state');
    this.#publish(Topics.lobby, { type: 'lot', lot: summary(lot) }, `lot:${lot.id}`);
  }
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

/** The lobby's list: running lots first (ending soonest first), then the 20 newest ended. */
export function lobbyOf(lots: Iterable<Lot>): LotSummary[] {
  const all = [...lots];
  const open = all.filter((l) => l.status === 'open').sort((a, b) => a.endsAt - b.endsAt);
  const ended = all.filter((l) => l.status !== 'open').sort((a, b) => b.endsAt - a.endsAt).slice(0, 20);
  // Bounded so the lobby's snapshot stays a few dozen KiB however many lots run.
  open.length = Math.min(open.length, 200);
  return [...open, ...ended].map(summary);
}

/** What a bidder's receipt says of the bid. */
export function receiptOf(bid: Bid): BidReceipt['bid'] {
  return { id: bid.id, lot: bid.lot, amount: bid.amount, at: bid.at };
}

/** A lot as the lobby lists it. */
export function summary(lot: Lot): LotSummary {
  const view = publicView(lot);
  return { id: lot.id, title: lot.title, image: lot.image, price: view.price, bidCount: view.bidCount, endsAt: lot.endsAt, status: lot.status, sellerName: lot.sellerName, rev: view.rev };
}
