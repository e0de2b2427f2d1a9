/**
 * One no-limit Texas Hold'em table as a pure state machine: seats and buy-ins, the moving
 * button, blinds, the four betting rounds, minimum raises (an all-in raise that is smaller than
 * a full raise does not reopen the betting to players who already acted), uncalled bets returned,
 * all-in run-outs, showdown with side pots and split pots, and the turn timer's check-or-fold.
 *
 * No I/O, no timers, no randomness, no clock: the caller passes the shuffled deck and the time
 * (`now`, ms) and schedules the timer itself from {@link HandState.deadline}. Every method either
 * refuses with a stable reason and leaves the state exactly as it was, or applies the change and
 * returns the events it caused, in order.
 * @packageDocumentation
 */
import { isCard, type Card } from './cards.js';
import { bestHand, describeHand } from './hand-rank.js';
import { awardPots, buildPots, uncalledBet } from './pots.js';
import { refuse } from './reasons.js';
import {
  ACTIONS,
  type ActionRequest, type ActionType, type HandPlayer, type HandResult, type HandState, type LegalActions,
  type Outcome, type SeatState, type Street, type TableConfig, type TableEvent, type TableSnapshot,
} from './hand-state.js';

export * from './hand-state.js';

const ok = (events: TableEvent[]): Outcome => ({ ok: true, events });

/** Validates a config; throws `RangeError`/`TypeError` (a programming error, not a player's). */
function checkConfig(c: TableConfig): void {
  if (typeof c.id !== 'string' || !/^[a-z0-9-]{1,40}$/.test(c.id)) throw new TypeError(`bad table id ${String(c.id)}`);
  const ints: [string, number, number][] = [['seats', 2, 9], ['smallBlind', 1, 1e9], ['bigBlind', 1, 1e9], ['minBuyIn', 1, 1e12], ['maxBuyIn', 1, 1e12], ['turnMs', 1, 3.6e6]];
  for (const [key, min, max] of ints) {
    const v = c[key as keyof TableConfig];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new RangeError(`table ${key} must be an integer in [${min}, ${max}], got ${String(v)}`);
  }
  if (c.smallBlind > c.bigBlind || c.minBuyIn > c.maxBuyIn) throw new RangeError('blinds and buy-ins are inconsistent');
}

/** A valid display name: 1–24 characters after trimming, no control characters. */
export function isValidName(name: unknown): name is string {
  if (typeof name !== 'string') return false;
  const trimmed = name.trim();
  return trimmed.length >= 1 && [...trimmed].length <= 24 && !/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(trimmed);
}

/** A no-limit Hold'em table. */
export class PokerTable {
  /** Fixed settings. */
  readonly config: Readonly<TableConfig>;
  readonly #seats: (SeatState | null)[];
  #hand: HandState | null = null;
  #handCount = 0;
  #button = -1;

  constructor(config: TableConfig) {
    checkConfig(config);
    this.config = Object.freeze({ ...config });
    this.#seats = Array.from({ length: config.seats }, () => null);
  }

  /**
   * The whole state (seats, the hand with its deck and hole cards, the button, the hand count)
   * as plain JSON-safe data, for a store that lets another server continue the table
   * ({@link PokerTable.restore}). It holds every hole card: it must never reach a client.
   */
  snapshot(): TableSnapshot {
    return structuredClone({ seats: this.#seats, hand: this.#hand, handCount: this.#handCount, button: this.#button });
  }

  /**
   * The table `config` in the state `snapshot` (from {@link PokerTable.snapshot} of a table with
   * the same config).
   * @throws TypeError when the snapshot does not fit the config
   */
  static restore(config: TableConfig, snapshot: TableSnapshot): PokerTable {
    const table = new PokerTable(config);
    if (!Array.isArray(snapshot.seats) || snapshot.seats.length !== config.seats || !Number.isInteger(snapshot.handCount) || !Number.isInteger(snapshot.button)) {
      throw new TypeError(`snapshot does not fit table ${config.id}`);
    }
    const copy = structuredClone(snapshot);
    copy.seats.forEach((s, i) => { table.#seats[i] = s; });
    table.#hand = copy.hand;
    table.#handCount = copy.handCount;
    table.#button = copy.button;
    return table;
  }

  /** The seats, index = seat number; null is empty. */
  get seats(): readonly (Readonly<SeatState> | null)[] {
    return this.#seats;
  }

  /** The hand in play, or the last one (until the next is dealt), or null. */
  get hand(): Readonly<HandState> | null {
    return this.#hand;
  }

  /** Whether a hand is being played (dealt and not yet over). */
  get inHand(): boolean {
    return this.#hand !== null && !this.#hand.complete;
  }

  /** The seat of `user`, or -1. */
  seatOf(user: string): number {
    return this.#seats.findIndex((s) => s !== null && s.user === user);
  }

  /** `user`'s hole cards in the current (or last) hand, or an empty array. */
  holeCards(user: string): Card[] {
    return [...(this.#hand?.players.find((p) => p.user === user)?.hole ?? [])];
  }

  /** Takes `seat` for `user` with `buyIn` chips. The player is dealt in from the next hand. */
  sit(user: string, name: unknown, seat: unknown, buyIn: unknown): Outcome {
    if (!isValidName(name)) return refuse('BAD_NAME');
    if (typeof seat !== 'number' || !Number.isInteger(seat) || seat < 0 || seat >= this.#seats.length) return refuse('BAD_SEAT');
    if (this.seatOf(user) >= 0) return refuse('ALREADY_SEATED');
    if (this.#seats[seat] !== null) return refuse('SEAT_TAKEN');
    if (typeof buyIn !== 'number' || !Number.isInteger(buyIn) || buyIn < this.config.minBuyIn || buyIn > this.config.maxBuyIn) return refuse('BAD_BUY_IN');
    const trimmed = name.trim();
    this.#seats[seat] = { user, name: trimmed, stack: buyIn, sittingOut: false, sittingOutSince: null, leaving: false, timeouts: 0 };
    return ok([{ type: 'sit', seat, name: trimmed, stack: buyIn }]);
  }

  /**
   * `user` leaves. Outside a hand (or when already folded) the seat empties at once; a player
   * still in the hand folds now (an all-in player stays in to the end) and the seat empties when
   * the hand ends.
   */
  leave(user: string, now: number): Outcome {
    const seat = this.seatOf(user);
    const state = this.#seats[seat];
    if (seat < 0 || state === undefined || state === null) return refuse('NOT_SEATED');
    const hand = this.#hand;
    const player = this.inHand ? hand?.players.find((p) => p.seat === seat && !p.folded) : undefined;
    if (hand === null || player === undefined) {
      this.#seats[seat] = null;
      return ok([{ type: 'leave', seat, name: state.name, reason: 'left' }]);
    }
    state.leaving = true;
    state.sittingOut = true;
    state.sittingOutSince = now;
    const events: TableEvent[] = [];
    if (!player.allIn) {
      const wasTurn = hand.toAct === seat;
      player.folded = true;
      player.needsToAct = false;
      events.push({ type: 'action', seat, name: player.name, action: 'fold', added: 0, to: player.committed, allIn: false, auto: true });
      if (wasTurn) this.#continue(seat, now, events);
      else if (hand.players.filter((p) => !p.folded).length === 1) this.#finish(events);
    }
    return ok(events);
  }

  /** Sits `user` out of the next hands (`out` true) or back in, at time `now`. */
  setSittingOut(user: string, out: boolean, now = 0): Outcome {
    const seat = this.seatOf(user);
    const state = this.#seats[seat];
    if (state === undefined || state === null) return refuse('NOT_SEATED');
    if (state.leaving) return refuse('NOT_SEATED');
    if (out !== state.sittingOut) state.sittingOutSince = out ? now : null;
    state.sittingOut = out;
    state.timeouts = 0;
    return ok([{ type: 'sitOut', seat, name: state.name, out }]);
  }

  /**
   * Frees the seats of players who have been sitting out for at least `limitMs` (a player who
   * closed the page for good would otherwise hold the seat for ever). Players in a live hand are
   * left until it ends.
   */
  removeIdle(now: number, limitMs: number): Outcome {
    const events: TableEvent[] = [];
    this.#seats.forEach((s, seat) => {
      if (s === null || !s.sittingOut || s.leaving || s.sittingOutSince === null || now - s.sittingOutSince < limitMs) return;
      if (this.inHand && this.#hand?.players.some((p) => p.seat === seat && !p.folded)) return;
      if (this.inHand && this.#hand?.players.some((p) => p.seat === seat)) {
        s.leaving = true; // folded in the live hand: the seat empties when it ends
        return;
      }
      this.#seats[seat] = null;
      events.push({ type: 'leave', seat, name: s.name, reason: 'left' });
    });
    return ok(events);
  }

  /** Seats that would be dealt into a new hand. */
  eligibleSeats(): number[] {
    const out: number[] = [];
    this.#seats.forEach((s, i) => {
      if (s !== null && !s.sittingOut && !s.leaving && s.stack > 0) out.push(i);
    });
    return out;
  }

  /** Whether {@link startHand} would deal now. */
  canStartHand(): boolean {
    return !this.inHand && this.eligibleSeats().length >= 2;
  }

  /**
   * Deals a new hand from `deck` (52 distinct cards, top first): the button moves to the next
   * eligible seat, blinds are posted, two cards go to each player one at a time starting left of
   * the button, and the board is then taken from the top (flop, turn, river; no burn cards, which
   * a shuffled deck makes moot).
   */
  startHand(deck: readonly Card[], now: number): Outcome {
    if (this.inHand) return refuse('HAND_IN_PROGRESS');
    const eligible = this.eligibleSeats();
    if (eligible.length < 2) return refuse('NOT_ENOUGH_PLAYERS');
    if (deck.length !== 52 || new Set(deck).size !== 52 || !deck.every(isCard)) throw new RangeError('a deck is 52 distinct cards');
    const isEligible = (s: number): boolean => eligible.includes(s);
    const button = this.#next(this.#button, isEligible);
    // Heads-up the button posts the small blind and acts first before the flop (and last after it).
    const small = eligible.length === 2 ? button : this.#next(button, isEligible);
    const big = this.#next(small, isEligible);
    this.#button = button;
    this.#handCount++;
    const players: HandPlayer[] = eligible.map((seat) => {
      const s = this.#seats[seat] as SeatState;
      return { seat, user: s.user, name: s.name, hole: [], committed: 0, total: 0, folded: false, allIn: false, needsToAct: true, actedOnRaise: -1 };
    });
    const cards = [...deck];
    const dealOrder: HandPlayer[] = [];
    for (let seat = this.#next(button, isEligible), i = 0; i < players.length; i++, seat = this.#next(seat, isEligible)) {
      dealOrder.push(players.find((p) => p.seat === seat) as HandPlayer);
    }
    for (let round = 0; round < 2; round++) for (const p of dealOrder) p.hole.push(cards.shift() as Card);
    const hand: HandState = {
      number: this.#handCount, button, smallBlindSeat: small, bigBlindSeat: big, street: 'preflop', board: [], deck: cards, players,
      currentBet: this.config.bigBlind, minRaise: this.config.bigBlind, raiseId: 0, toAct: null, deadline: null, complete: false, result: null,
    };
    this.#hand = hand;
    const events: TableEvent[] = [{ type: 'hand', number: hand.number, button }];
    for (const [seat, kind, amount] of [[small, 'small', this.config.smallBlind], [big, 'big', this.config.bigBlind]] as const) {
      const p = this.#player(seat);
      const paid = this.#put(p, amount);
      events.push({ type: 'blind', seat, name: p.name, kind, amount: paid, allIn: p.allIn });
    }
    for (const p of players) p.needsToAct = !p.allIn;
    this.#continue(big, now, events);
    return ok(events);
  }

  /** What the player in `seat` may do, when it is their turn; otherwise null. */
  legalActions(seat: number): LegalActions | null {
    const hand = this.#hand;
    if (hand === null || hand.complete || hand.toAct !== seat) return null;
    return this.#legal(this.#player(seat));
  }

  /**
   * `user` acts. `handNumber`, when given, must be the current hand's: a request replayed from
   * an earlier hand is refused (`STALE_HAND`) instead of being applied to this one.
   */
  act(user: string, action: ActionRequest, now: number, handNumber?: number): Outcome {
    const type = action.type;
    if (typeof type !== 'string' || !(ACTIONS as readonly string[]).includes(type)) return refuse('UNKNOWN_ACTION');
    const hand = this.#hand;
    if (hand === null || hand.complete) return refuse('NO_HAND');
    const seat = this.seatOf(user);
    if (seat < 0) return refuse('NOT_SEATED');
    if (handNumber !== undefined && handNumber !== hand.number) return refuse('STALE_HAND');
    const player = hand.players.find((p) => p.seat === seat && p.user === user);
    if (player === undefined) return refuse('NOT_IN_HAND');
    if (player.folded) return refuse('PLAYER_FOLDED');
    if (player.allIn) return refuse('PLAYER_ALL_IN');
    if (hand.toAct !== seat) return refuse('NOT_YOUR_TURN');
    const legal = this.#legal(player);
    let to = player.committed;
    switch (type as ActionType) {
      case 'fold':
        break;
      case 'check':
        if (!legal.canCheck) return refuse('CANNOT_CHECK');
        break;
      case 'call':
        if (legal.canCheck) return refuse('NOTHING_TO_CALL');
        to = player.committed + legal.callAmount;
        break;
      case 'bet':
      case 'raise': {
        const raising = type === 'raise';
        if (!raising && hand.currentBet > 0) return refuse('CANNOT_BET');
        if (raising && hand.currentBet === 0) return refuse('CANNOT_RAISE');
        const amount = action.amount;
        if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) return refuse('BAD_AMOUNT');
        if (raising && !legal.canRaise) return refuse('RAISE_NOT_ALLOWED');
        if (amount > legal.maxTo) return refuse('INSUFFICIENT_CHIPS');
        if (amount <= hand.currentBet || (amount < legal.minTo && amount !== legal.maxTo)) return refuse(raising ? 'RAISE_TOO_SMALL' : 'BET_TOO_SMALL');
        to = amount;
        break;
      }
    }
    (this.#seats[seat] as SeatState).timeouts = 0;
    const events: TableEvent[] = [];
    this.#apply(player, type as ActionType, to, false, events);
    this.#continue(seat, now, events);
    return ok(events);
  }

  /**
   * The acting player's time ran out (`now` ≥ {@link HandState.deadline}): they check if they
   * can, and fold otherwise. Two timeouts in a row sit the player out of later hands.
   */
  timeout(now: number): Outcome {
    const hand = this.#hand;
    if (hand === null || hand.complete || hand.toAct === null || hand.deadline === null) return refuse('NO_HAND');
    if (now < hand.deadline) return refuse('NOT_DUE');
    const player = this.#player(hand.toAct);
    const seat = this.#seats[player.seat] as SeatState;
    const events: TableEvent[] = [];
    const legal = this.#legal(player);
    this.#apply(player, legal.canCheck ? 'check' : 'fold', player.committed, true, events);
    seat.timeouts++;
    if (seat.timeouts >= 2 && !seat.sittingOut) {
      seat.sittingOut = true;
      seat.sittingOutSince = now;
      events.push({ type: 'sitOut', seat: player.seat, name: seat.name, out: true });
    }
    this.#continue(player.seat, now, events);
    return ok(events);
  }

  // ---- internals -------------------------------------------------------------------------

  /** The next seat clockwise after `from` that satisfies `test` (`from` itself last). */
  #next(from: number, test: (seat: number) => boolean): number {
    const n = this.#seats.length;
    for (let i = 1; i <= n; i++) {
      const seat = (((from + i) % n) + n) % n;
      if (test(seat)) return seat;
    }
    return -1;
  }

  #player(seat: number): HandPlayer {
    const p = this.#hand?.players.find((x) => x.seat === seat);
    if (p === undefined) throw new Error(`no player in seat ${seat}`);
    return p;
  }

  /** Moves up to `amount` chips from the player's stack into the pot; returns what was moved. */
  #put(p: HandPlayer, amount: number): number {
    const seat = this.#seats[p.seat] as SeatState;
    const paid = Math.min(amount, seat.stack);
    seat.stack -= paid;
    p.committed += paid;
    p.total += paid;
    if (seat.stack === 0) p.allIn = true;
    return paid;
  }

  #legal(p: HandPlayer): LegalActions {
    const hand = this.#hand as HandState;
    const stack = (this.#seats[p.seat] as SeatState).stack;
    const toCall = Math.max(0, hand.currentBet - p.committed);
    const maxTo = p.committed + stack;
    const opponents = hand.players.filter((o) => o !== p && !o.folded && !o.allIn).length;
    const canBet = hand.currentBet === 0 && stack > 0;
    const canRaise = hand.currentBet > 0 && stack > toCall && p.actedOnRaise !== hand.raiseId && opponents > 0;
    const minTo = Math.min(hand.currentBet === 0 ? this.config.bigBlind : hand.currentBet + hand.minRaise, maxTo);
    return { seat: p.seat, canCheck: toCall === 0, callAmount: Math.min(toCall, stack), canBet, canRaise, minTo, maxTo };
  }

  /** Applies a validated action: `to` is the player's total for this round afterwards. */
  #apply(p: HandPlayer, action: ActionType, to: number, auto: boolean, events: TableEvent[]): void {
    const hand = this.#hand as HandState;
    const before = p.committed;
    if (action === 'fold') p.folded = true;
    else if (to > before) this.#put(p, to - before);
    if (p.committed > hand.currentBet) {
      const raise = p.committed - hand.currentBet;
      // A full bet or raise reopens the betting for everyone; a short all-in only asks the others to act again.
      if (raise >= hand.minRaise) {
        hand.minRaise = raise;
        hand.raiseId++;
      }
      hand.currentBet = p.committed;
      for (const o of hand.players) if (o !== p && !o.folded && !o.allIn) o.needsToAct = true;
    }
    p.needsToAct = false;
    p.actedOnRaise = hand.raiseId;
    events.push({ type: 'action', seat: p.seat, name: p.name, action, added: p.committed - before, to: p.committed, allIn: p.allIn, auto });
  }

  /** After something changed at `fromSeat`: the next player to act, the next round, or the end. */
  #continue(fromSeat: number, now: number, events: TableEvent[]): void {
    const hand = this.#hand as HandState;
    const live = hand.players.filter((p) => !p.folded);
    if (live.length === 1) return this.#finish(events);
    const active = live.filter((p) => !p.allIn);
    // A lone player who can still bet has nobody to bet against: the round is over once they have
    // matched every all-in (a short all-in blind may leave that below the big blind).
    const lone = active.length === 1 ? (active[0] as HandPlayer) : undefined;
    const done = active.length === 0
      || (lone !== undefined && live.every((p) => p.committed <= lone.committed))
      || active.every((p) => !p.needsToAct && p.committed === hand.currentBet);
    if (!done) {
      hand.toAct = this.#next(fromSeat, (s) => active.some((p) => p.seat === s && p.needsToAct));
      hand.deadline = now + this.config.turnMs;
      return;
    }
    this.#returnUncalled(events);
    for (const p of hand.players) p.committed = 0;
    const stillActive = live.filter((p) => !p.allIn);
    if (hand.street === 'river' || stillActive.length <= 1) {
      // Nobody can bet any more (or the river is done): deal what is left and show down.
      while (hand.street !== 'river') this.#dealStreet(events);
      return this.#showdown(events);
    }
    this.#dealStreet(events);
    hand.currentBet = 0;
    hand.minRaise = this.config.bigBlind;
    hand.raiseId++;
    for (const p of stillActive) p.needsToAct = true;
    hand.toAct = this.#next(hand.button, (s) => stillActive.some((p) => p.seat === s));
    hand.deadline = now + this.config.turnMs;
  }

  #dealStreet(events: TableEvent[]): void {
    const hand = this.#hand as HandState;
    const next: Record<Street, [Street, number]> = { preflop: ['flop', 3], flop: ['turn', 1], turn: ['river', 1], river: ['river', 0] };
    const [street, count] = next[hand.street];
    for (let i = 0; i < count; i++) hand.board.push(hand.deck.shift() as Card);
    hand.street = street;
    events.push({ type: 'street', street, board: [...hand.board] });
  }

  #returnUncalled(events: TableEvent[]): void {
    const hand = this.#hand as HandState;
    const back = uncalledBet(hand.players.map((p) => ({ seat: p.seat, amount: p.committed })));
    if (back === undefined) return;
    const p = this.#player(back.seat);
    // A player who left folded out of turn: chips of a folded player are dead, never returned.
    if (p.folded) return;
    p.committed -= back.amount;
    p.total -= back.amount;
    (this.#seats[p.seat] as SeatState).stack += back.amount;
    p.allIn = false;
    events.push({ type: 'uncalled', seat: p.seat, name: p.name, amount: back.amount });
  }

  /** Seats in odd-chip order: starting left of the button, clockwise. */
  #seatOrder(): number[] {
    const hand = this.#hand as HandState;
    const n = this.#seats.length;
    return Array.from({ length: n }, (_, i) => (hand.button + 1 + i) % n);
  }

  /** Everyone else folded: the last player takes every pot, no cards shown. */
  #finish(events: TableEvent[]): void {
    const hand = this.#hand as HandState;
    this.#returnUncalled(events);
    for (const p of hand.players) p.committed = 0;
    const winner = hand.players.find((p) => !p.folded) as HandPlayer;
    this.#settle(new Map([[winner.seat, 0]]), true, [], events);
  }

  #showdown(events: TableEvent[]): void {
    const hand = this.#hand as HandState;
    const shown = hand.players.filter((p) => !p.folded).map((p) => {
      const best = bestHand([...p.hole, ...hand.board]);
      return { seat: p.seat, name: p.name, cards: [...p.hole], best: best.cards, value: best.value, description: describeHand(best.value) };
    }).sort((a, b) => b.value - a.value);
    events.push({ type: 'showdown', shown });
    this.#settle(new Map(shown.map((s) => [s.seat, s.value])), false, shown, events);
  }

  /** Builds and awards the pots, pays the winners, closes the hand and clears leavers and busted players. */
  #settle(values: Map<number, number>, wonByFold: boolean, shown: HandResult['shown'], events: TableEvent[]): void {
    const hand = this.#hand as HandState;
    const pots = buildPots(hand.players.map((p) => ({ seat: p.seat, amount: p.total, folded: p.folded })));
    const awards = awardPots(pots, values, this.#seatOrder());
    const nameOf = (seat: number): string => this.#player(seat).name;
    awards.forEach((award, pot) => {
      for (const w of award.winners) {
        (this.#seats[w.seat] as SeatState).stack += w.amount;
        const description = shown.find((s) => s.seat === w.seat)?.description ?? null;
        events.push({ type: 'win', seat: w.seat, name: nameOf(w.seat), amount: w.amount, pot, hand: description });
      }
    });
    hand.result = { wonByFold, shown, pots: awards.map((a) => ({ amount: a.amount, winners: a.winners.map((w) => ({ ...w, name: nameOf(w.seat) })) })) };
    hand.complete = true;
    hand.toAct = null;
    hand.deadline = null;
    this.#seats.forEach((s, seat) => {
      if (s === null) return;
      if (s.leaving || s.stack === 0) {
        this.#seats[seat] = null;
        events.push({ type: 'leave', seat, name: s.name, reason: s.leaving ? 'left' : 'busted' });
      }
    });
  }
}
