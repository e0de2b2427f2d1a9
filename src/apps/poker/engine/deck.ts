/**
 * Shuffling. The engine has no randomness of its own: the caller passes a uniform integer source
 * (the server's is built on `node:crypto`'s `randomInt`, which draws without modulo bias; tests
 * pass a seeded or scripted one).
 * @packageDocumentation
 */
import { fullDeck, type Card } from './cards.js';

/** Returns a uniformly random integer in `[0, maxExclusive)`. */
export type RandomInt = (maxExclusive: number) => number;

/**
 * Shuffles `cards` in place with the Fisher–Yates algorithm: position `i` (from the end) swaps
 * with a position drawn uniformly from `[0, i]`, so every permutation is equally likely when
 * `randomInt` is uniform. Returns `cards`.
 */
export function shuffleInPlace<T>(cards: T[], randomInt: RandomInt): T[] {
  for (let i = cards.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    if (!Number.isInteger(j) || j < 0 || j > i) throw new RangeError(`randomInt(${i + 1}) returned ${j}`);
    const swap = cards[i] as T;
    cards[i] = cards[j] as T;
    cards[j] = swap;
  }
  return cards;
}

/** A freshly shuffled 52-card deck. */
export function shuffledDeck(randomInt: RandomInt): Card[] {
  return shuffleInPlace(fullDeck(), randomInt);
}
