/**
 * The lots one node holds in memory, as both auctions keep them: the reads every page's snapshot
 * is made of, the checks on a new lot, and what is published when a lot changes or ends. The
 * SQLite auction (auction.ts) and the PostgreSQL one (shared-auction.ts) differ only in where a
 * change is decided and how it reaches this memory (a synchronous write, or the database's
 * notification); that is all each of them holds.
 *
 * A base class rather than free functions over a lot map: the reads need the map and the clock,
 * the announcements the publish function as well, so free functions would take three of them at
 * every call, and each auction would still carry the same five methods of
 * {@link AuctionEngine}'s reads to pass them on.
 * @packageDocumentation
 */
import { AddressRateLimiter } from '../../server/app.js';
import { AuctionRefusal, DEFAULT_LOT_RATE, Topics, type AuctionEngine, type AuctionOptions, type Person, type Publish } from './engine.js';
import { AuctionError, DEFAULT_ANTI_SNIPE, DEFAULT_LOT_LIMITS, checkLotSpec, leadingBid, publicView, type AntiSnipe, type Bid, type Lot, type LotLimits, type LotSpec, type LotView } from './rules.js';
import type { BidReceipt, LotSummary, Notice } from './wire.js';

/** Longest timer Node keeps exactly (about 24.8 days); longer waits are taken in steps. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The in-memory half of an auction engine; a subclass adds the operations and the end timers. */
export abstract class LiveLots implements AuctionEngine {
  /** Every lot this node knows, by id; a subclass changes a lot only once its store has the change. */
  protected readonly lots = new Map<number, Lot>();
  /** The server's clock. */
  protected readonly clock: () => number;
  /** Where changes are announced. */
  protected readonly publish: Publish;
  /** The anti-sniping rule bids are checked with. */
  protected readonly antiSnipe: AntiSnipe;
  /** Told of failures no request is waiting for (an end that could not be recorded). */
  protected readonly onError: (error: unknown) => void;
  readonly #limits: LotLimits;
  readonly #lotRate: AddressRateLimiter;

  /** @param publish - where changes go; @param options - the clock, the rules' settings, the lot rate */
  protected constructor(publish: Publish, options: AuctionOptions) {
    this.publish = publish;
    this.clock = options.now ?? Date.now;
    this.antiSnipe = options.antiSnipe ?? DEFAULT_ANTI_SNIPE;
    this.#limits = options.lotLimits ?? DEFAULT_LOT_LIMITS;
    this.onError = options.onError ?? (() => undefined);
    const lotRate = options.lotRate ?? DEFAULT_LOT_RATE;
    this.#lotRate = new AddressRateLimiter(lotRate.perMinute / 60, lotRate.burst, { now: this.clock });
  }

  abstract bid(who: Person, lotId: unknown, amount: unknown, key: unknown): BidReceipt | Promise<BidReceipt>;

  abstract createLot(who: Person, input: unknown): LotView | Promise<LotView>;

  abstract stop(): void;

  /** The server's time now. */
  now(): number {
    return this.clock();
  }

  /** The lot with `id`, as the public sees it (as this node knows it). */
  view(id: number): LotView | undefined {
    const lot = this.lots.get(id);
    return lot === undefined ? undefined : publicView(lot);
  }

  /** Whether a lot with `id` exists (as this node knows). */
  has(id: number): boolean {
    return this.lots.has(id);
  }

  /** Whether a lot with `id` exists; on one node every lot is known, so the same as {@link has}. */
  find(id: number): boolean | Promise<boolean> {
    return this.lots.has(id);
  }

  /** The reserve of a lot, for its seller only; `undefined` for anyone else. */
  reserveFor(id: number, user: string | undefined): number | undefined {
    const lot = this.lots.get(id);
    return lot !== undefined && user !== undefined && lot.seller === user ? lot.reserve : undefined;
  }

  /** Every lot for the lobby: running ones first (ending soonest first), then the 20 newest ended. */
  lobby(): LotSummary[] {
    return lobbyOf(this.lots.values());
  }

  /**
   * Checks a lot `who` wants to sell, then counts it against their rate (only valid lots count:
   * a refused one costs nothing to keep).
   * @throws AuctionRefusal when the lot breaks a rule (the message names the field), or when
   * `who` has created lots faster than {@link AuctionOptions.lotRate} allows (`RATE_LIMITED`)
   */
  protected checkNewLot(who: Person, input: unknown): LotSpec {
    const verdict = checkLotSpec(input, this.clock(), this.#limits);
    if (!verdict.ok) throw new AuctionRefusal(verdict.code, verdict.message);
    const wait = this.#lotRate.attempt(who.user);
    if (wait > 0) throw new AuctionRefusal(AuctionError.RATE_LIMITED, `too many new lots; try again in ${wait} s`);
    return verdict.spec;
  }

  /** Publishes the lot's new state to its watchers and its summary to the lobby. */
  protected announce(lot: Lot): void {
    // One key per topic: a watcher that falls behind gets only the newest state (conflation).
    this.publish(Topics.lot(lot.id), { type: 'lot', lot: publicView(lot), serverTime: this.clock() }, 'state');
    this.publish(Topics.lobby, { type: 'lot', lot: summary(lot) }, `lot:${lot.id}`);
  }

  /** Announces a bid just applied to `lot`, and tells `previous`'s bidder they were outbid (unless they outbid themselves). */
  protected announceBid(lot: Lot, previous: Bid | undefined): void {
    this.announce(lot);
    const top = leadingBid(lot);
    if (previous === undefined || top === undefined || previous.user === top.user) return;
    this.publish(Topics.user(previous.user), { type: 'outbid', lot: lot.id, title: lot.title, price: top.amount, minimumBid: publicView(lot).minimumBid }, `outbid:${lot.id}`);
  }

  /** Announces an end already recorded: the lot, then the winner's and the seller's notices. */
  protected announceEnd(lot: Lot): void {
    this.announce(lot);
    const top = leadingBid(lot);
    const notice: Notice = { type: 'ended', lot: lot.id, title: lot.title, status: lot.status, price: top?.amount ?? null };
    if (lot.status === 'sold' && top !== undefined) this.publish(Topics.user(top.user), { ...notice, won: true }, `ended:${lot.id}`);
    this.publish(Topics.user(lot.seller), { ...notice, seller: true }, `ended:${lot.id}`);
  }
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

/** A lot as the lobby lists it. */
export function summary(lot: Lot): LotSummary {
  const view = publicView(lot);
  return { id: lot.id, title: lot.title, image: lot.image, price: view.price, bidCount: view.bidCount, endsAt: lot.endsAt, status: lot.status, sellerName: lot.sellerName, rev: view.rev };
}
