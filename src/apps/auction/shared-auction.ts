/**
 * The auction on PostgreSQL, run by several nodes at once. The database decides everything that
 * must happen once: bids on a lot are serialized by the lot's row lock, idempotency keys by a
 * unique constraint, the end of a lot by a conditional update under the same lock. Each node
 * keeps a copy of every lot in memory for its watchers, changed only by the database's
 * notifications, which arrive in commit order on every node, the bidder's own included: so every
 * node publishes the same changes in the same order to its own watchers.
 *
 * Timers: one node at a time (the holder of an advisory lock, {@link AuctionSession}) runs the
 * end timers of every lot. When it dies, its session ends, the lock is free, and another node
 * takes it within `lockRetryMs` and ends what is due. An anti-sniping extension is part of the
 * bid's transaction, so it happens once whoever runs the timers.
 * @packageDocumentation
 */
import { AuctionRefusal, checkBidRequest, receiptOf, type AuctionOptions, type BidReceipt, type Person, type Publish } from './engine.js';
import { LiveLots, MAX_TIMER_MS } from './live-lots.js';
import { AuctionSession, type AuctionSessionOptions } from './pg-session.js';
import type { AuctionEvent, PgAuctionStore } from './pg-store.js';
import { AuctionError, applyBid, checkBid, leadingBid, publicView, type Lot, type LotView } from './rules.js';

/** Options of a {@link SharedAuction}: those of the one-node auction and of its session. */
export interface SharedAuctionOptions extends AuctionOptions, AuctionSessionOptions {
  /** How long a bidder's answer waits for its own bid to arrive back as a notification before the lot is reloaded, ms. Default 2,000. */
  echoTimeoutMs?: number;
}

/** The multi-node auction: memory copies kept by notifications, operations in the database. */
export class SharedAuction extends LiveLots {
  readonly #store: PgAuctionStore;
  readonly #echoTimeoutMs: number;
  readonly #session: AuctionSession;
  readonly #timers = new Map<number, NodeJS.Timeout>();
  /** Bidders' answers waiting for their bid to be applied here: lot id, then `seq`. */
  readonly #waiting = new Map<number, Set<() => void>>();
  /** Reloads of one lot under way, so a burst of missed changes costs one query. */
  readonly #reloading = new Map<number, Promise<void>>();
  readonly #reloadAgain = new Set<number>();
  #stopped = false;

  private constructor(store: PgAuctionStore, publish: Publish, options: SharedAuctionOptions) {
    super(publish, options);
    this.#store = store;
    this.#echoTimeoutMs = options.echoTimeoutMs ?? 2000;
    this.#session = new AuctionSession(store.url, store.channel, store.timerLock, {
      notification: (payload) => this.#heard(payload),
      listening: () => this.#reloadAll(),
      leader: (leading) => this.#lead(leading),
      error: (error) => this.onError(error),
    }, { applicationName: `parley-auction ${store.node}`, ...options });
  }

  /**
   * Starts an auction on `store`: listens first, then loads every lot (so no change falls between
   * the two), then competes for the timers.
   */
  static async start(store: PgAuctionStore, publish: Publish, options: SharedAuctionOptions = {}): Promise<SharedAuction> {
    const auction = new SharedAuction(store, publish, options);
    await auction.#session.start();
    return auction;
  }

  /** This node's name in the database. */
  get node(): string {
    return this.#store.node;
  }

  /** Whether this node runs the end timers now. */
  get leader(): boolean {
    return this.#session.leader;
  }

  /**
   * Places a bid in the database and answers once it is committed and this node's copy shows it
   * (so the receipt's lot is never older than the bid). A retry with the same key, on any node,
   * is answered with the first bid.
   * @throws AuctionRefusal when the rules refuse it; nothing has changed then
   */
  async bid(who: Person, lotArg: unknown, amount: unknown, keyArg: unknown): Promise<BidReceipt> {
    const { lot: lotId, key } = checkBidRequest(lotArg, keyArg);
    const now = this.clock();
    const result = await this.#store.placeBid(
      { lot: lotId, user: who.user, name: who.name, amount: amount as number, at: now, key },
      (lot) => checkBid(lot, who.user, amount, now, this.antiSnipe),
    );
    switch (result.kind) {
      case 'no-lot':
        throw new AuctionRefusal(AuctionError.NO_SUCH_LOT, 'there is no such lot');
      case 'refused':
        throw new AuctionRefusal(result.refusal.code, result.refusal.message);
      case 'earlier': {
        if (result.bid.lot !== lotId || result.bid.amount !== amount) throw new AuctionRefusal(AuctionError.KEY_REUSED, 'this key was used for another bid');
        await this.#applied(lotId, (lot) => lot.bids.some((b) => b.id === result.bid.id));
        return { bid: receiptOf(result.bid), lot: publicView(this.lots.get(lotId)!), replayed: true };
      }
      case 'placed':
        await this.#applied(lotId, (lot) => lot.bids.length >= result.seq);
        return { bid: receiptOf(result.bid), lot: publicView(this.lots.get(lotId)!), replayed: false };
    }
  }

  /**
   * Creates a lot sold by `who`.
   * @throws AuctionRefusal when the lot breaks a rule, or `who` creates lots too fast (per node)
   */
  async createLot(who: Person, input: unknown): Promise<LotView> {
    const spec = this.checkNewLot(who, input);
    const lot = await this.#store.createLot(spec, who, this.clock());
    // The notification may come first or later; whichever comes first adds the lot.
    if (!this.lots.has(lot.id)) this.#add(lot);
    return publicView(this.lots.get(lot.id)!);
  }

  /**
   * Whether lot `id` exists, reading it from the database when this node has not heard of it:
   * its creation's notification may still be on the way (a link to a new lot opened on another
   * node). A lot found is kept and timed as if the notification had come.
   */
  override async find(id: number): Promise<boolean> {
    if (this.lots.has(id)) return true;
    try {
      await this.#reload(id);
    } catch (error) {
      // The database is unreachable: refuse this once (the page retries), and say why in the log.
      this.onError(error);
      return false;
    }
    return this.lots.has(id);
  }

  /** Stops the timers and the session (releasing the timer lock); the store stays open. */
  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    void this.#session.stop();
  }

  /** Resolves once this node's copy of the lot satisfies `done`; reloads the lot if the notification is late. */
  async #applied(lotId: number, done: (lot: Lot) => boolean): Promise<void> {
    const satisfied = (): boolean => {
      const lot = this.lots.get(lotId);
      return lot !== undefined && done(lot);
    };
    if (satisfied()) return;
    await new Promise<void>((resolve) => {
      const waiters = this.#waiting.get(lotId) ?? new Set<() => void>();
      this.#waiting.set(lotId, waiters);
      const finish = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
        if (waiters.size === 0 && this.#waiting.get(lotId) === waiters) this.#waiting.delete(lotId);
        resolve();
      };
      const check = (): void => {
        if (satisfied()) finish();
      };
      // The notification is late (or the session is down): the database has the truth.
      const timer = setTimeout(() => void this.#reload(lotId).then(finish, finish), this.#echoTimeoutMs);
      waiters.add(check);
    });
  }

  /** Tells the answers waiting on `lotId` that it changed. */
  #wake(lotId: number): void {
    for (const check of [...(this.#waiting.get(lotId) ?? [])]) check();
  }

  /** A notification: applied in order, or the lot reloaded when one is missing. */
  #heard(payload: string): void {
    let event: AuctionEvent;
    try {
      event = JSON.parse(payload) as AuctionEvent;
    } catch (error) {
      this.onError(error);
      return;
    }
    const lot = this.lots.get(event.lot);
    if (event.t === 'lot') {
      if (lot === undefined) void this.#reload(event.lot).catch((error: unknown) => this.onError(error));
      return;
    }
    if (lot === undefined) {
      void this.#reload(event.lot).catch((error: unknown) => this.onError(error));
      return;
    }
    if (event.t === 'bid') {
      if (lot.bids.length >= event.seq) return; // already have it (a reload got there first)
      if (lot.bids.length !== event.seq - 1) {
        void this.#reload(event.lot).catch((error: unknown) => this.onError(error));
        return;
      }
      const previous = leadingBid(lot);
      applyBid(lot, event.bid, event.endsAt);
      this.announceBid(lot, previous);
      if (this.#session.leader) this.#schedule(lot);
      this.#wake(lot.id);
      return;
    }
    if (lot.status !== 'open') return;
    if (this.#reloading.has(lot.id)) {
      // Bids before the end may be missing here: announce the end from the database's copy.
      void this.#reload(lot.id).catch((error: unknown) => this.onError(error));
      return;
    }
    lot.status = event.status;
    this.#ended(lot);
  }

  /** A lot seen for the first time: kept, announced and (on the leader) timed. */
  #add(lot: Lot): void {
    this.lots.set(lot.id, lot);
    this.announce(lot);
    if (this.#session.leader) this.#schedule(lot);
    this.#wake(lot.id);
  }

  /**
   * Replaces this node's copy of a lot with the database's, announcing what changed. A reload
   * asked for while one runs is done after it: the running one may have read before the change
   * that prompted the second.
   */
  async #reload(id: number): Promise<void> {
    const running = this.#reloading.get(id);
    if (running !== undefined) {
      this.#reloadAgain.add(id);
      return running;
    }
    const job = this.#store.loadLot(id).then((fresh) => {
      if (fresh !== undefined) this.#replace(fresh);
    }).finally(() => {
      this.#reloading.delete(id);
      if (this.#reloadAgain.delete(id)) void this.#reload(id).catch((error: unknown) => this.onError(error));
    });
    this.#reloading.set(id, job);
    return job;
  }

  /** Reloads every lot: at start and after the session was down (notifications were missed). */
  async #reloadAll(): Promise<void> {
    for (const lot of await this.#store.loadLots()) this.#replace(lot);
  }

  /** Takes the database's copy of a lot when it is newer than this node's. */
  #replace(fresh: Lot): void {
    const old = this.lots.get(fresh.id);
    if (old === undefined) {
      this.#add(fresh);
      return;
    }
    const newer = fresh.bids.length > old.bids.length || (fresh.status !== 'open' && old.status === 'open');
    if (!newer) return;
    const endedNow = fresh.status !== 'open' && old.status === 'open';
    this.lots.set(fresh.id, fresh);
    if (endedNow) this.#ended(fresh);
    else {
      this.announce(fresh);
      if (this.#session.leader) this.#schedule(fresh);
    }
    this.#wake(fresh.id);
  }

  /** Announces an end (already recorded by some node): the lot, the winner's and seller's notices. */
  #ended(lot: Lot): void {
    const timer = this.#timers.get(lot.id);
    if (timer !== undefined) clearTimeout(timer);
    this.#timers.delete(lot.id);
    this.announceEnd(lot);
    this.#wake(lot.id);
  }

  /** This node took (or lost) the timer lock. */
  #lead(leading: boolean): void {
    if (!leading) {
      for (const timer of this.#timers.values()) clearTimeout(timer);
      this.#timers.clear();
      return;
    }
    for (const lot of this.lots.values()) if (lot.status === 'open') this.#schedule(lot);
  }

  /** Sets the timer that ends `lot` (leader only), replacing any earlier one. */
  #schedule(lot: Lot): void {
    const old = this.#timers.get(lot.id);
    if (old !== undefined) clearTimeout(old);
    this.#timers.delete(lot.id);
    if (this.#stopped || lot.status !== 'open' || !this.#session.leader) return;
    this.#arm(lot.id, Math.min(Math.max(lot.endsAt - this.clock(), 0), MAX_TIMER_MS));
  }

  #arm(id: number, ms: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(id);
      if (this.#stopped || !this.#session.leader) return;
      // The database decides whether the lot is due (a bid may have extended it a moment ago);
      // the notification, not this answer, changes memory on every node.
      this.#store.closeLot(id, this.clock()).then((after) => {
        const lot = this.lots.get(id);
        if (after?.status === 'open' && lot !== undefined && lot.status === 'open' && !this.#timers.has(id)) {
          // Not due yet at the database: wait for the end time it holds.
          this.#arm(id, Math.min(Math.max(after.endsAt - this.clock(), 0), MAX_TIMER_MS));
        }
      }, (error: unknown) => {
        this.onError(error);
        if (!this.#stopped && this.#session.leader && !this.#timers.has(id)) this.#arm(id, 1000);
      });
    }, ms);
    timer.unref();
    this.#timers.set(id, timer);
  }
}
