import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCards, type Card } from '../../../../src/apps/poker/engine/cards.js';
import { CATEGORY_NAMES, HandCategory, bestHand, categoryOf, describeHand, rankFive } from '../../../../src/apps/poker/engine/hand-rank.js';
import { seededInt } from './helpers.js';
import { shuffledDeck } from '../../../../src/apps/poker/engine/deck.js';

const value = (names: string): number => {
  const c = parseCards(names) as [Card, Card, Card, Card, Card];
  return rankFive(...c);
};

void describe('hand ranking', () => {
  void test('all 2,598,960 five-card hands: the published count of every category and 7,462 distinct values', () => {
    const counts = new Array<number>(9).fill(0);
    const distinct = new Set<number>();
    let royal = 0;
    let total = 0;
    for (let a = 0; a < 48; a++) for (let b = a + 1; b < 49; b++) for (let c = b + 1; c < 50; c++) for (let d = c + 1; d < 51; d++) for (let e = d + 1; e < 52; e++) {
      const v = rankFive(a, b, c, d, e);
      const cat = categoryOf(v);
      counts[cat] = (counts[cat] ?? 0) + 1;
      distinct.add(v);
      if (cat === HandCategory.StraightFlush && ((v >>> 16) & 15) === 14) royal++;
      total++;
    }
    assert.equal(total, 2_598_960);
    assert.deepEqual(Object.fromEntries(counts.map((n, i) => [CATEGORY_NAMES[i], n])), {
      'Straight flush': 40,
      'Four of a kind': 624,
      'Full house': 3_744,
      Flush: 5_108,
      Straight: 10_200,
      'Three of a kind': 54_912,
      'Two pair': 123_552,
      'One pair': 1_098_240,
      'High card': 1_302_540,
    });
    assert.equal(royal, 4);
    assert.equal(distinct.size, 7_462);
    // The published number of distinct values per category (straight flush 10 … high card 1,277).
    const perCategory = new Array<number>(9).fill(0);
    for (const v of distinct) perCategory[categoryOf(v)] = (perCategory[categoryOf(v)] ?? 0) + 1;
    assert.deepEqual(perCategory, [1_277, 2_860, 858, 858, 10, 1_277, 156, 156, 10]);
  });

  void test('seven-card hands, sampled: category frequencies match the published 133,784,560-hand table', () => {
    // Exact counts for seven cards (best five of seven); a seeded sample of 60,000 hands must
    // land within 5 standard deviations of each expected frequency.
    const published = [23_294_460, 58_627_800, 31_433_400, 6_461_620, 6_180_020, 4_047_644, 3_473_184, 224_848, 41_584];
    const all = 133_784_560;
    assert.equal(published.reduce((a, b) => a + b, 0), all);
    const random = seededInt(7);
    const n = 60_000;
    const counts = new Array<number>(9).fill(0);
    for (let i = 0; i < n; i++) {
      const cards = shuffledDeck(random).slice(0, 7);
      const cat = categoryOf(bestHand(cards).value);
      counts[cat] = (counts[cat] ?? 0) + 1;
    }
    published.forEach((count, cat) => {
      const p = count / all;
      const sd = Math.sqrt(n * p * (1 - p));
      const got = counts[cat] ?? 0;
      assert.ok(Math.abs(got - n * p) <= 5 * sd + 1, `${CATEGORY_NAMES[cat]}: ${got} of ${n}, expected ${(n * p).toFixed(0)} ± ${(5 * sd).toFixed(0)}`);
    });
  });

  void test('orders hands across and within categories, kickers included', () => {
    const ladder = [
      '2c 3d 4h 5s 7c', // seven high, the worst hand
      'Ac Kd Qh Js 9c',
      '2c 2d 3h 4s 5c',
      '2c 2d Ah Ks Qc',
      '3c 3d 2h 4s 5c',
      '2c 2d 3h 3s 4c',
      '2c 2d 3h 3s Ac',
      'Ac Ad Kh Ks 2c',
      'Ac Ad Kh Ks 3c',
      '2c 2d 2h 3s 4c',
      'Ac Ad Ah Ks Qc',
      'Ac 2d 3h 4s 5c', // the wheel: the lowest straight
      '2c 3d 4h 5s 6c',
      'Tc Jd Qh Ks Ac',
      '2h 3h 4h 5h 7h',
      'Ah Kh Qh Jh 9h',
      '2c 2d 2h 3s 3c',
      '2c 2d 2h As Ac',
      '3c 3d 3h 2s 2c',
      '2c 2d 2h 2s 3c',
      '2c 2d 2h 2s Ac',
      '3c 3d 3h 3s 2c',
      'Ah 2h 3h 4h 5h', // steel wheel
      '2h 3h 4h 5h 6h',
      'Th Jh Qh Kh Ah', // royal flush
    ];
    for (let i = 1; i < ladder.length; i++) {
      assert.ok(value(ladder[i] as string) > value(ladder[i - 1] as string), `${ladder[i]} beats ${ladder[i - 1]}`);
    }
  });

  void test('equal hands in different suits have equal values (a split)', () => {
    assert.equal(value('Ac Kd Qh Js 9c'), value('As Kh Qd Jc 9h'));
    assert.equal(value('Tc Jd Qh Ks Ac'), value('Ts Jh Qd Kc Ad'));
    assert.equal(value('7c 7d 4h 4s Kc'), value('7h 7s 4c 4d Kh'));
  });

  void test('best five of seven: board plays, wheel, flush over straight, two trips make a full house', () => {
    const best = (names: string): { description: string; cards: string } => {
      const b = bestHand(parseCards(names));
      return { description: describeHand(b.value), cards: b.cards.length.toString() };
    };
    assert.equal(best('2c 3d Ah Kh Qh Jh Th').description, 'Royal flush');
    assert.equal(best('Ac 2d 3h 4s 5c Kd Kh').description, 'Straight, Five high');
    assert.equal(best('9h 8h 7h 6c 5h 2h Kd').description, 'Flush, Nine high');
    assert.equal(best('9c 9d 9h 5s 5c 5d Kd').description, 'Full house, Nines full of Fives');
    assert.equal(best('Qc Qd 7h 7s 4c 4d Ah').description, 'Two pair, Queens and Sevens');
    assert.equal(best('2c 7d 9h Js Kc 3d 4h').description, 'High card, King');
    assert.equal(best('2c 2d 2h 2s Kc 3d 4h').description, 'Four of a kind, Twos');
    // A pocket pair beaten by the board's two pair with a better kicker.
    const a = bestHand(parseCards('3c 3d Kh Kc Qs Qd Ah'));
    const b = bestHand(parseCards('Jc 2d Kh Kc Qs Qd Ah'));
    assert.equal(a.value, b.value, 'both play the board: K K Q Q A');
    assert.equal(best('2c 3d 4h 5s 6c').cards, '5');
    assert.throws(() => bestHand(parseCards('2c 3d 4h 5s')), RangeError);
  });
});
