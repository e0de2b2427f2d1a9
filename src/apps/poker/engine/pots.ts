/**
 * The main pot and side pots, and how each is split. Pots are built from what every player put
 * in during the hand: each all-in level caps a pot that only the players who reached it can win;
 * chips of players who folded stay in the pots they reached, but folded players win nothing.
 *
 * Odd chips: when a pot does not divide evenly among tied winners, the leftover chips go one at
 * a time to the tied winners in seat order starting with the first seat left of the button.
 * @packageDocumentation
 */

/** What one seat put into the pot this hand. */
export interface Contribution {
  seat: number;
  /** Chips put in over the whole hand (after any uncalled bet was returned). */
  amount: number;
  /** Folded players fund pots but cannot win them. */
  folded: boolean;
}

/** One pot and the seats that may win it. */
export interface Pot {
  amount: number;
  /** Seats still in the hand that put in at least this pot's level, in ascending seat order. */
  eligible: number[];
}

/**
 * Builds the pots: the main pot first, then each side pot. Adjacent levels with the same eligible
 * players are merged, so there is one pot per distinct set of contenders. Chips above the highest
 * level any live player reached (which a returned uncalled bet normally prevents) join the last
 * pot, or make one pot for every live player when no live player put anything in.
 */
export function buildPots(contributions: readonly Contribution[]): Pot[] {
  for (const c of contributions) {
    if (!Number.isInteger(c.amount) || c.amount < 0) throw new RangeError(`bad contribution ${c.amount} for seat ${c.seat}`);
  }
  const levels = [...new Set(contributions.filter((c) => !c.folded && c.amount > 0).map((c) => c.amount))].sort((a, b) => a - b);
  const pots: Pot[] = [];
  let previous = 0;
  for (const level of levels) {
    let amount = 0;
    for (const c of contributions) amount += Math.min(c.amount, level) - Math.min(c.amount, previous);
    const eligible = contributions.filter((c) => !c.folded && c.amount >= level).map((c) => c.seat).sort((a, b) => a - b);
    const last = pots[pots.length - 1];
    if (last !== undefined && sameSeats(last.eligible, eligible)) last.amount += amount;
    else pots.push({ amount, eligible });
    previous = level;
  }
  let rest = 0;
  for (const c of contributions) rest += Math.max(0, c.amount - previous);
  const last = pots[pots.length - 1];
  if (rest > 0) {
    if (last !== undefined) last.amount += rest;
    else pots.push({ amount: rest, eligible: contributions.filter((c) => !c.folded).map((c) => c.seat).sort((a, b) => a - b) });
  }
  return pots;
}

function sameSeats(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

/** How one pot was split. */
export interface PotAward {
  amount: number;
  /** Each winning seat and the chips it gets from this pot. */
  winners: { seat: number; amount: number }[];
}

/**
 * Splits every pot among its eligible seats with the best hand value. `values` maps each seat
 * still in the hand to its hand value (a seat without a value cannot win, which is how a hand
 * won by folds is awarded: the one live seat is the only one with a value). `seatOrder` lists
 * seats starting left of the button, clockwise: the order the odd chips go in.
 */
export function awardPots(pots: readonly Pot[], values: ReadonlyMap<number, number>, seatOrder: readonly number[]): PotAward[] {
  return pots.map((pot) => {
    let best = -Infinity;
    for (const seat of pot.eligible) best = Math.max(best, values.get(seat) ?? -Infinity);
    const winners = pot.eligible.filter((seat) => values.has(seat) && values.get(seat) === best);
    if (winners.length === 0) return { amount: pot.amount, winners: [] };
    const ordered = [...winners].sort((a, b) => positionOf(seatOrder, a) - positionOf(seatOrder, b));
    const share = Math.floor(pot.amount / ordered.length);
    let odd = pot.amount - share * ordered.length;
    return {
      amount: pot.amount,
      winners: ordered.map((seat) => {
        const extra = odd > 0 ? 1 : 0;
        odd -= extra;
        return { seat, amount: share + extra };
      }),
    };
  });
}

function positionOf(order: readonly number[], seat: number): number {
  const i = order.indexOf(seat);
  return i < 0 ? order.length + seat : i;
}

/**
 * The uncalled part of the largest bet of a betting round: what the top bettor put in beyond
 * the second-largest amount anyone put in this round. That part was never matched, so it goes
 * back to its owner before pots are built. Returns undefined when the top bet was matched.
 */
export function uncalledBet(streetBets: readonly { seat: number; amount: number }[]): { seat: number; amount: number } | undefined {
  let top: { seat: number; amount: number } | undefined;
  let second = 0;
  for (const bet of streetBets) {
    if (top === undefined || bet.amount > top.amount) {
      if (top !== undefined) second = Math.max(second, top.amount);
      top = bet;
    } else {
      second = Math.max(second, bet.amount);
    }
  }
  if (top === undefined || top.amount <= second) return undefined;
  return { seat: top.seat, amount: top.amount - second };
}
