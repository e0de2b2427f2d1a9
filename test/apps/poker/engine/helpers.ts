/** Shared helpers of the poker engine tests: a seeded random source and stacked decks. */
import { fullDeck, parseCards, type Card } from '../../../../src/apps/poker/engine/cards.js';

/** A small seeded PRNG (mulberry32), so sampled tests are repeatable. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform integer source in [0, n) from a seeded PRNG. */
export function seededInt(seed: number): (n: number) => number {
  const next = seeded(seed);
  return (n) => Math.floor(next() * n);
}

/**
 * A 52-card deck whose top cards are `top` (names, space-separated, in dealing order), followed
 * by every other card.
 */
export function stacked(top: string): Card[] {
  const first = parseCards(top);
  if (new Set(first).size !== first.length) throw new Error('duplicate card in stacked deck');
  return [...first, ...fullDeck().filter((c) => !first.includes(c))];
}
