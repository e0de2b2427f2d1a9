import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { awardPots, buildPots, uncalledBet } from '../../../../src/apps/poker/engine/pots.js';

const c = (seat: number, amount: number, folded = false): { seat: number; amount: number; folded: boolean } => ({ seat, amount, folded });
const order = (button: number, n = 9): number[] => Array.from({ length: n }, (_, i) => (button + 1 + i) % n);

void describe('side pots', () => {
  void test('everyone in for the same amount: one pot', () => {
    assert.deepEqual(buildPots([c(0, 100), c(1, 100), c(2, 100)]), [{ amount: 300, eligible: [0, 1, 2] }]);
  });

  void test('three all-ins at different sizes: a main pot and two side pots', () => {
    // Seat 0 all-in 50, seat 1 all-in 120, seats 2 and 3 put in 300.
    const pots = buildPots([c(0, 50), c(1, 120), c(2, 300), c(3, 300)]);
    assert.deepEqual(pots, [
      { amount: 200, eligible: [0, 1, 2, 3] },
      { amount: 210, eligible: [1, 2, 3] },
      { amount: 360, eligible: [2, 3] },
    ]);
    assert.equal(pots.reduce((s, p) => s + p.amount, 0), 770);
  });

  void test('folded chips stay in the pots they reached; folded players are never eligible', () => {
    // Seat 0 folded after putting in 80; seat 1 all-in 50; seats 2, 3 put in 200.
    assert.deepEqual(buildPots([c(0, 80, true), c(1, 50), c(2, 200), c(3, 200)]), [
      { amount: 200, eligible: [1, 2, 3] },
      { amount: 330, eligible: [2, 3] },
    ]);
  });

  void test('a folded player above every live level: the extra joins the last pot', () => {
    assert.deepEqual(buildPots([c(0, 500, true), c(1, 100), c(2, 100)]), [{ amount: 700, eligible: [1, 2] }]);
  });

  void test('bad contributions are a programming error', () => {
    assert.throws(() => buildPots([c(0, -1)]), RangeError);
    assert.throws(() => buildPots([c(0, 1.5)]), RangeError);
  });
});

void describe('awarding pots', () => {
  void test('the short all-in wins the main pot only; the side pot goes to the best of the rest', () => {
    const pots = buildPots([c(0, 50), c(1, 200), c(2, 200)]);
    const values = new Map([[0, 900], [1, 500], [2, 700]]);
    assert.deepEqual(awardPots(pots, values, order(0)), [
      { amount: 150, winners: [{ seat: 0, amount: 150 }] },
      { amount: 300, winners: [{ seat: 2, amount: 300 }] },
    ]);
  });

  void test('a split pot with an odd chip: it goes to the first tied winner left of the button', () => {
    const pots = [{ amount: 101, eligible: [1, 4, 7] }];
    const values = new Map([[1, 10], [4, 10], [7, 5]]);
    // Button on seat 3: left of it are 4, 5, 6, 7, 8, 0, 1 … so seat 4 gets the odd chip.
    assert.deepEqual(awardPots(pots, values, order(3)), [{ amount: 101, winners: [{ seat: 4, amount: 51 }, { seat: 1, amount: 50 }] }]);
    // Button on seat 8: seat 1 comes first.
    assert.deepEqual(awardPots(pots, values, order(8)), [{ amount: 101, winners: [{ seat: 1, amount: 51 }, { seat: 4, amount: 50 }] }]);
  });

  void test('three-way split of 100: two odd chips, one each to the first two winners in order', () => {
    const awards = awardPots([{ amount: 100, eligible: [0, 2, 5] }], new Map([[0, 3], [2, 3], [5, 3]]), order(2));
    assert.deepEqual(awards[0]?.winners, [{ seat: 5, amount: 34 }, { seat: 0, amount: 33 }, { seat: 2, amount: 33 }]);
  });

  void test('chips are conserved over random hands', () => {
    let seed = 1;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 500; round++) {
      const players = Array.from({ length: 2 + rnd(8) }, (_, seat) => c(seat, rnd(6) * 25, rnd(4) === 0));
      if (players.every((p) => p.folded)) (players[0] as { folded: boolean }).folded = false;
      const pots = buildPots(players);
      const put = players.reduce((s, p) => s + p.amount, 0);
      assert.equal(pots.reduce((s, p) => s + p.amount, 0), put);
      const values = new Map(players.filter((p) => !p.folded).map((p) => [p.seat, rnd(3)]));
      const paid = awardPots(pots, values, order(rnd(9))).reduce((s, a) => s + a.winners.reduce((t, w) => t + w.amount, 0), 0);
      // Every pot has a live contender, so every chip is paid out.
      assert.equal(paid, put);
    }
  });
});

void describe('uncalled bets', () => {
  void test('the unmatched part of the top bet is returned; a matched bet is not', () => {
    assert.deepEqual(uncalledBet([{ seat: 0, amount: 30 }, { seat: 1, amount: 10 }, { seat: 2, amount: 0 }]), { seat: 0, amount: 20 });
    assert.equal(uncalledBet([{ seat: 0, amount: 30 }, { seat: 1, amount: 30 }]), undefined);
    assert.equal(uncalledBet([]), undefined);
    assert.deepEqual(uncalledBet([{ seat: 3, amount: 2 }]), { seat: 3, amount: 2 });
  });
});
