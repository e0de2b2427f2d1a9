/**
 * Playing cards as small integers, so hands are ranked without allocating objects: card
 * `c` (0–51) has rank `2 + (c >> 2)` (2–14, ace high) and suit `c & 3`.
 * @packageDocumentation
 */

/** A card: 0–51. */
export type Card = number;

/** Rank characters, index 0 is the deuce. */
export const RANK_CHARS = '23456789TJQKA';
/** Suit characters: clubs, diamonds, hearts, spades. */
export const SUIT_CHARS = 'cdhs';

/** The rank of a card: 2–14 (11 jack, 12 queen, 13 king, 14 ace). */
export function rankOf(card: Card): number {
  return 2 + (card >> 2);
}

/** The suit of a card: 0 clubs, 1 diamonds, 2 hearts, 3 spades. */
export function suitOf(card: Card): number {
  return card & 3;
}

/** Whether `value` is a card (an integer 0–51). */
export function isCard(value: unknown): value is Card {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < 52;
}

/** The card with `rank` (2–14) and `suit` (0–3). */
export function makeCard(rank: number, suit: number): Card {
  if (!Number.isInteger(rank) || rank < 2 || rank > 14 || !Number.isInteger(suit) || suit < 0 || suit > 3) {
    throw new RangeError(`no card with rank ${rank} and suit ${suit}`);
  }
  return ((rank - 2) << 2) | suit;
}

/** Two-character name: `As`, `Td`, `2c`. */
export function cardName(card: Card): string {
  return `${RANK_CHARS[card >> 2] ?? '?'}${SUIT_CHARS[card & 3] ?? '?'}`;
}

/** Parses a two-character name (`As`, `td`); throws `RangeError` on anything else. */
export function parseCard(name: string): Card {
  const rank = RANK_CHARS.indexOf((name[0] ?? '').toUpperCase());
  const suit = SUIT_CHARS.indexOf((name[1] ?? '').toLowerCase());
  if (name.length !== 2 || rank < 0 || suit < 0) throw new RangeError(`not a card: ${JSON.stringify(name)}`);
  return (rank << 2) | suit;
}

/** Parses space-separated card names: `'As Kd 7c'`. */
export function parseCards(names: string): Card[] {
  return names.trim() === '' ? [] : names.trim().split(/\s+/).map(parseCard);
}

/** The 52 cards in order (deuce of clubs first). */
export function fullDeck(): Card[] {
  return Array.from({ length: 52 }, (_, i) => i);
}
