import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { shuffleInPlace, shuffledDeck } from '../../../../src/apps/poker/engine/deck.js';
import { cardName, fullDeck, parseCard, parseCards, rankOf, suitOf, makeCard } from '../../../../src/apps/poker/engine/cards.js';
import { seededInt } from './helpers.js';

void describe('cards', () => {
  void test('52 distinct cards; names round-trip; rank and suit', () => {
    const deck = fullDeck();
    assert.equal(new Set(deck.map(cardName)).size, 52);
    for (const c of deck) assert.equal(parseCard(cardName(c)), c);
    assert.equal(cardName(makeCard(14, 3)), 'As');
    assert.equal(rankOf(parseCard('Td')), 10);
    assert.equal(suitOf(parseCard('Td')), 1);
    assert.deepEqual(parseCards(' 2c  Kh '), [parseCard('2c'), parseCard('Kh')]);
    for (const bad of ['', 'A', '1s', 'Ax', 'Asd', '10s']) assert.throws(() => parseCard(bad), RangeError, bad);
    assert.throws(() => makeCard(1, 0), RangeError);
  });
});

void describe('shuffle', () => {
  void test('a shuffle is a permutation of the 52 cards', () => {
    const deck = shuffledDeck((n) => randomInt(n));
    assert.equal(deck.length, 52);
    assert.deepEqual([...deck].sort((a, b) => a - b), fullDeck());
  });

  void test('Fisher–Yates asks for exactly [0, i] at each step, from the end', () => {
    const asked: number[] = [];
    shuffleInPlace([1, 2, 3, 4, 5], (n) => {
      asked.push(n);
      return 0;
    });
    assert.deepEqual(asked, [5, 4, 3, 2]);
  });

  void test('every ordering of four cards is equally likely (chi-square, seeded)', () => {
    const random = seededInt(42);
    const counts = new Map<string, number>();
    const n = 48_000;
    for (let i = 0; i < n; i++) {
      const key = shuffleInPlace([0, 1, 2, 3], random).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    assert.equal(counts.size, 24);
    const expected = n / 24;
    let chi = 0;
    for (const c of counts.values()) chi += (c - expected) ** 2 / expected;
    // 23 degrees of freedom: P(chi² > 49.7) ≈ 0.001.
    assert.ok(chi < 49.7, `chi-square ${chi.toFixed(1)}`);
  });

  void test('a random source out of range is refused, not used', () => {
    assert.throws(() => shuffleInPlace([1, 2, 3], (n) => n), RangeError);
    assert.throws(() => shuffleInPlace([1, 2, 3], () => -1), RangeError);
    assert.throws(() => shuffleInPlace([1, 2, 3], () => 0.5), RangeError);
  });
});
