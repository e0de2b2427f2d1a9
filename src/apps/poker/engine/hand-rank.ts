/**
 * Poker hand ranking. A five-card hand gets one integer value; a larger value is a better hand
 * and equal values split. The value packs the category (bits 20–23) above up to five ranks
 * (four bits each) in the order that decides ties: the ranks of the largest groups first, then
 * the kickers, highest first. A straight is valued by its top card (the wheel A-2-3-4-5 by its 5).
 * @packageDocumentation
 */
import { rankOf, suitOf, type Card } from './cards.js';

/** Hand categories, weakest first; the value of a hand is `category << 20 | …`. */
export const HandCategory = {
  HighCard: 0,
  OnePair: 1,
  TwoPair: 2,
  ThreeOfAKind: 3,
  Straight: 4,
  Flush: 5,
  FullHouse: 6,
  FourOfAKind: 7,
  StraightFlush: 8,
} as const;

/** One of {@link HandCategory}'s values. */
export type HandCategoryValue = (typeof HandCategory)[keyof typeof HandCategory];

/** Names of the categories, by value. */
export const CATEGORY_NAMES: readonly string[] = [
  'High card', 'One pair', 'Two pair', 'Three of a kind', 'Straight', 'Flush', 'Full house', 'Four of a kind', 'Straight flush',
];

/** The category of a hand value. */
export function categoryOf(value: number): HandCategoryValue {
  return (value >>> 20) as HandCategoryValue;
}

/** Packs ranks (most significant first) below the category. */
function pack(category: number, k0: number, k1 = 0, k2 = 0, k3 = 0, k4 = 0): number {
  return (category << 20) | (k0 << 16) | (k1 << 12) | (k2 << 8) | (k3 << 4) | k4;
}

/** The value of exactly five cards. Allocation-free apart from one small array, because the tests rank all 2,598,960 hands. */
export function rankFive(a: Card, b: Card, c: Card, d: Card, e: Card): number {
  const r = [rankOf(a), rankOf(b), rankOf(c), rankOf(d), rankOf(e)];
  // Insertion sort, descending: five elements.
  for (let i = 1; i < 5; i++) {
    const v = r[i] as number;
    let j = i - 1;
    while (j >= 0 && (r[j] as number) < v) {
      r[j + 1] = r[j] as number;
      j--;
    }
    r[j + 1] = v;
  }
  const [r0, r1, r2, r3, r4] = r as [number, number, number, number, number];
  const s = suitOf(a);
  const flush = suitOf(b) === s && suitOf(c) === s && suitOf(d) === s && suitOf(e) === s;
  const distinct = r0 !== r1 && r1 !== r2 && r2 !== r3 && r3 !== r4;
  let straightHigh = 0;
  if (distinct) {
    if (r0 - r4 === 4) straightHigh = r0;
    else if (r0 === 14 && r1 === 5) straightHigh = 5; // the wheel: the ace plays low
  }
  if (straightHigh > 0) return pack(flush ? HandCategory.StraightFlush : HandCategory.Straight, straightHigh);
  if (flush) return pack(HandCategory.Flush, r0, r1, r2, r3, r4);
  if (distinct) return pack(HandCategory.HighCard, r0, r1, r2, r3, r4);

  // Groups of equal ranks, as (count, rank), largest group first then highest rank.
  const groups: [number, number][] = [];
  for (const rank of r) {
    const last = groups[groups.length - 1];
    if (last !== undefined && last[1] === rank) last[0]++;
    else groups.push([1, rank]);
  }
  groups.sort((x, y) => y[0] - x[0] || y[1] - x[1]);
  const g = groups.map((x) => x[1]);
  const top = (groups[0] as [number, number])[0];
  if (top === 4) return pack(HandCategory.FourOfAKind, g[0] ?? 0, g[1] ?? 0);
  if (top === 3) {
    return groups.length === 2
      ? pack(HandCategory.FullHouse, g[0] ?? 0, g[1] ?? 0)
      : pack(HandCategory.ThreeOfAKind, g[0] ?? 0, g[1] ?? 0, g[2] ?? 0);
  }
  return groups.length === 3
    ? pack(HandCategory.TwoPair, g[0] ?? 0, g[1] ?? 0, g[2] ?? 0)
    : pack(HandCategory.OnePair, g[0] ?? 0, g[1] ?? 0, g[2] ?? 0, g[3] ?? 0);
}

/** The best five-card hand out of five to seven cards. */
export interface BestHand {
  /** Its value (compare with `>`; equal values split). */
  value: number;
  /** The five cards that make it. */
  cards: Card[];
}

/** The best five of `cards` (five to seven of them), trying every five-card subset. */
export function bestHand(cards: readonly Card[]): BestHand {
  const n = cards.length;
  if (n < 5 || n > 7) throw new RangeError(`bestHand needs 5 to 7 cards, got ${n}`);
  let best: BestHand = { value: -1, cards: [] };
  // Each five-card subset is the whole set less (n − 5) cards: skip indices i < j (or i only, or none).
  const skips: [number, number][] = [];
  if (n === 5) skips.push([-1, -1]);
  else if (n === 6) for (let i = 0; i < 6; i++) skips.push([i, -1]);
  else for (let i = 0; i < 7; i++) for (let j = i + 1; j < 7; j++) skips.push([i, j]);
  for (const [i, j] of skips) {
    const five = cards.filter((_, k) => k !== i && k !== j) as [Card, Card, Card, Card, Card];
    const value = rankFive(...five);
    if (value > best.value) best = { value, cards: five };
  }
  return best;
}

const RANK_WORDS = ['', '', 'Two', 'Three', 'Four', 'Five', 'Six', 'Seven', 'Eight', 'Nine', 'Ten', 'Jack', 'Queen', 'King', 'Ace'];
const PLURAL = ['', '', 'Twos', 'Threes', 'Fours', 'Fives', 'Sixes', 'Sevens', 'Eights', 'Nines', 'Tens', 'Jacks', 'Queens', 'Kings', 'Aces'];

/** A person's description of a hand value: "Full house, Kings full of Fives". */
export function describeHand(value: number): string {
  const k = (shift: number): number => (value >>> shift) & 15;
  switch (categoryOf(value)) {
    case HandCategory.StraightFlush:
      return k(16) === 14 ? 'Royal flush' : `Straight flush, ${RANK_WORDS[k(16)] ?? ''} high`;
    case HandCategory.FourOfAKind:
      return `Four of a kind, ${PLURAL[k(16)] ?? ''}`;
    case HandCategory.FullHouse:
      return `Full house, ${PLURAL[k(16)] ?? ''} full of ${PLURAL[k(12)] ?? ''}`;
    case HandCategory.Flush:
      return `Flush, ${RANK_WORDS[k(16)] ?? ''} high`;
    case HandCategory.Straight:
      return `Straight, ${RANK_WORDS[k(16)] ?? ''} high`;
    case HandCategory.ThreeOfAKind:
      return `Three of a kind, ${PLURAL[k(16)] ?? ''}`;
    case HandCategory.TwoPair:
      return `Two pair, ${PLURAL[k(16)] ?? ''} and ${PLURAL[k(12)] ?? ''}`;
    case HandCategory.OnePair:
      return `Pair of ${PLURAL[k(16)] ?? ''}`;
    default:
      return `High card, ${RANK_WORDS[k(16)] ?? ''}`;
  }
}

