/**
 * The running auction on one node's SQLite store: the lots in memory (loaded from the store at
 * start), the timers that end them, and the two operations people perform, placing a bid and
 * creating a lot. Each operation checks the rules, writes to the store, and only then changes
 * memory and announces the change, all in one synchronous turn: bids are applied one at a time,
 * in the order they arrive. The reads and the announcements are {@link LiveLots}'.
 *
 * It knows nothing of WebSocket: it announces changes through a {@link Publish} function.
 * @packageDocumentation
 */
import { AuctionError, applyBid, checkBid, isDue, leadingBid, outcome, publicView, type Lot, type LotView } from './rules.js';
import { AuctionRefusal, checkBidRequest, receiptOf, type AuctionOptions, type BidReceipt, type Person, type Publish } from './engine.js';
import { LiveLots, MAX_TIMER_MS } from './live-lots.js';
import type { AuctionStore } from './store.js';

/** The auction's live state and operations, on the one-node SQLite store. */
export class Auction extends LiveLots {
  readonly #store: AuctionStore;
  readonly #timers = new Map<number, NodeJS.Timeout>();
  #stopped = false;

  /** Loads every lot from `store` and ends those whose time passed while the server was down. */
  constructor(store: AuctionStore, publish: Publish, options: AuctionOptions = {}) {
    super(publish, options);
    this.#store = store;
    for (const lot of store.loadLots()) {
      this.lots.set(lot.id, lot);
      if (lot.status === 'open') this.#schedule(lot);
    }
  }

  /**
   * Places a bid of `amount` cents by `who` on lot `lotArg`. `keyArg` is the client's idempotency
   * key: a bid already accepted with this key is answered again, not placed again.
   * @throws AuctionRefusal when the rules refuse it; nothing has changed then
   */
  bid(who: Person, lotArg: unknown, amount: unknown, keyArg: unknown): BidReceipt {
    const { lot: lotId, key } = checkBidRequest(lotArg, keyArg);
    const lot = this.lots.get(lotId);
    if (lot === undefined) throw new AuctionRefusal(AuctionError.NO_SUCH_LOT, 'there is no such lot');
    const earlier = this.#store.bidByKey(who.user, key);
    if (earlier !== undefined) {
      if (earlier.lot !== lotId || earlier.amount !== amount) {
        throw new AuctionRefusal(AuctionError.KEY_REUSED, 'this key was used for another bid');
      }
      return { bid: receiptOf(earlier), lot: publicView(lot), replayed: true };
    }
    const now = this.clock();
    // The end may have passed before its timer ran (a busy loop, a suspended machine).
    if (isDue(lot, now)) this.#end(lot);
    const verdict = checkBid(lot, who.user, amount, now, this.antiSnipe);
    if (!verdict.ok) throw new AuctionRefusal(verdict.code, verdict.message);
    const previous = leadingBid(lot);
    // Durable first: only a committed bid changes memory and is announced.
    const bid = this.#store.recordBid({ lot: lot.id, user: who.user, name: who.name, amount: amount as number, at: now, key }, verdict.endsAt);
    applyBid(lot, bid, verdict.endsAt);
    if (verdict.extended) this.#schedule(lot);
    this.announceBid(lot, previous);
    return { bid: receiptOf(bid), lot: publicView(lot), replayed: false };
  }

  /**
   * Creates a lot sold by `who`.
   * @throws AuctionRefusal when the lot breaks a rule (the message names the field), or when
   * `who` has created lots faster than {@link AuctionOptions.lotRate} allows (`RATE_LIMITED`)
   */
  createLot(who: Person, input: unknown): LotView {
    const spec = this.checkNewLot(who, input);
    const lot = this.#store.createLot(spec, who, this.clock());
    this.lots.set(lot.id, lot);
    this.#schedule(lot);
    this.announce(lot);
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
    const wait = lot.endsAt - this.clock();
    if (wait <= 0) {
      this.#end(lot);
      return;
    }
    this.#arm(lot, Math.min(wait, MAX_TIMER_MS));
  }

  /** Runs the end check for `lot` in `ms`. */
  #arm(lot: Lot, ms: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(lot.id);
      try {
        // The clock decides, not the timer: an early wake-up (or a long wait in steps) reschedules.
        if (isDue(lot, this.clock())) this.#end(lot);
        else this.#schedule(lot);
      } catch (error) {
        // A failed write (a full disk, say) must not take the server down: report it, try again.
        this.onError(error);
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
    this.announceEnd(lot);
  }
}
