import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PokerTable, type ActionRequest, type Outcome, type TableConfig, type TableEvent } from '../../../../src/apps/poker/engine/table.js';
import { Reasons, type ReasonCode } from '../../../../src/apps/poker/engine/reasons.js';
import { cardName } from '../../../../src/apps/poker/engine/cards.js';
import { shuffledDeck } from '../../../../src/apps/poker/engine/deck.js';
import { publicView, privateView } from '../../../../src/apps/poker/engine/view.js';
import { seededInt, stacked } from './helpers.js';

const CONFIG: TableConfig = { id: 't1', name: 'Test', seats: 6, smallBlind: 1, bigBlind: 2, minBuyIn: 2, maxBuyIn: 10_000, turnMs: 30_000 };

/** A table with players u<seat> (named P<seat>) at the given seats and stacks. */
function table(stacks: Record<number, number>, config: Partial<TableConfig> = {}): PokerTable {
  const t = new PokerTable({ ...CONFIG, ...config });
  for (const [seat, stack] of Object.entries(stacks)) assert.ok(t.sit(`u${seat}`, `P${seat}`, Number(seat), stack).ok);
  return t;
}

function okEvents(outcome: Outcome): TableEvent[] {
  if (!outcome.ok) assert.fail(`refused: ${outcome.reason}`);
  return outcome.events;
}

const act = (t: PokerTable, seat: number, type: string, amount?: number): TableEvent[] =>
  okEvents(t.act(`u${seat}`, { type, amount }, 0));

const state = (t: PokerTable): string => JSON.stringify({ seats: t.seats, hand: t.hand });
const stacks = (t: PokerTable): (number | null)[] => t.seats.map((s) => s?.stack ?? null);

/** Asserts a refusal with `reason` and no change at all to the table. */
function refused(t: PokerTable, run: (t: PokerTable) => Outcome, reason: ReasonCode): void {
  const before = state(t);
  const outcome = run(t);
  assert.deepEqual(outcome, { ok: false, reason, message: Reasons[reason] });
  assert.equal(state(t), before, `${reason}: state unchanged`);
}

void describe('seating and dealing', () => {
  void test('button, blinds and first to act with four players; the button moves each hand', () => {
    const t = table({ 0: 100, 1: 100, 2: 100, 3: 100 });
    const events = okEvents(t.startHand(stacked(''), 1000));
    assert.deepEqual(events.slice(0, 3), [
      { type: 'hand', number: 1, button: 0 },
      { type: 'blind', seat: 1, name: 'P1', kind: 'small', amount: 1, allIn: false },
      { type: 'blind', seat: 2, name: 'P2', kind: 'big', amount: 2, allIn: false },
    ]);
    assert.equal(t.hand?.toAct, 3, 'first to act is left of the big blind');
    assert.equal(t.hand?.deadline, 31_000);
    for (const seat of [3, 0, 1]) act(t, seat, 'fold');
    assert.equal(t.hand?.complete, true);
    assert.deepEqual(stacks(t), [100, 99, 101, 100, null, null]);
    okEvents(t.startHand(stacked(''), 0));
    assert.deepEqual([t.hand?.button, t.hand?.smallBlindSeat, t.hand?.bigBlindSeat, t.hand?.toAct], [1, 2, 3, 0]);
  });

  void test('heads-up: the button posts the small blind, acts first before the flop and last after it', () => {
    const t = table({ 2: 100, 4: 100 });
    okEvents(t.startHand(stacked(''), 0));
    assert.deepEqual([t.hand?.button, t.hand?.smallBlindSeat, t.hand?.bigBlindSeat, t.hand?.toAct], [2, 2, 4, 2]);
    act(t, 2, 'call');
    assert.equal(t.hand?.toAct, 4, 'the big blind has the option');
    assert.equal(t.legalActions(4)?.canRaise, true);
    act(t, 4, 'check');
    assert.equal(t.hand?.street, 'flop');
    assert.equal(t.hand?.toAct, 4, 'after the flop the big blind (not the button) acts first');
    act(t, 4, 'check');
    assert.equal(t.hand?.toAct, 2);
    act(t, 2, 'bet', 10);
    act(t, 4, 'fold');
    assert.deepEqual(stacks(t).filter((s) => s !== null), [102, 98]);
    okEvents(t.startHand(stacked(''), 0));
    assert.deepEqual([t.hand?.button, t.hand?.smallBlindSeat, t.hand?.toAct], [4, 4, 4]);
  });

  void test('cards are dealt one at a time from the left of the button; the board comes off the top', () => {
    const t = table({ 0: 100, 1: 100, 2: 100 });
    // Button 0: deal order 1, 2, 0, 1, 2, 0; then flop, turn, river.
    okEvents(t.startHand(stacked('Ah Kh Qh As Ks Qs 2c 3c 4c 5d 6d'), 0));
    assert.deepEqual(t.holeCards('u1').map(cardName), ['Ah', 'As']);
    assert.deepEqual(t.holeCards('u2').map(cardName), ['Kh', 'Ks']);
    assert.deepEqual(t.holeCards('u0').map(cardName), ['Qh', 'Qs']);
    assert.deepEqual(privateView(t, 'u0'), { table: 't1', hand: 1, cards: ['Qh', 'Qs'] });
    assert.deepEqual(privateView(t, 'nobody'), { table: 't1', hand: null, cards: [] });
    act(t, 0, 'call');
    act(t, 1, 'call');
    const flop = act(t, 2, 'check');
    assert.deepEqual(flop.at(-1), { type: 'street', street: 'flop', board: t.hand?.board });
    assert.deepEqual(t.hand?.board.map(cardName), ['2c', '3c', '4c']);
  });

  void test('a full hand to showdown: the best hand takes the pot and every remaining hand is shown', () => {
    const t = table({ 0: 100, 1: 100, 2: 100 });
    okEvents(t.startHand(stacked('Ah Kh Qh As Ks Qs 2c 7d 9h Jc 3s'), 0));
    act(t, 0, 'raise', 6);
    act(t, 1, 'call');
    act(t, 2, 'call');
    for (const street of ['flop', 'turn', 'river']) {
      assert.equal(t.hand?.street, street);
      act(t, 1, 'check');
      act(t, 2, 'check');
      act(t, 0, 'check');
    }
    const hand = t.hand;
    assert.equal(hand?.complete, true);
    assert.deepEqual(hand?.result?.shown.map((s) => [s.seat, s.description]), [[1, 'Pair of Aces'], [2, 'Pair of Kings'], [0, 'Pair of Queens']]);
    assert.deepEqual(hand?.result?.pots, [{ amount: 18, winners: [{ seat: 1, name: 'P1', amount: 18 }] }]);
    assert.deepEqual(stacks(t).slice(0, 3), [94, 112, 94]);
    assert.equal(publicView(t).hand?.result?.shown[0]?.cards.join(' '), 'Ah As');
  });

  void test('the public view never holds a hole card before showdown', () => {
    const t = table({ 0: 100, 1: 100, 2: 100 });
    okEvents(t.startHand(stacked('Ah Kh Qh As Ks Qs 2c 7d 9h Jc 3s'), 0));
    act(t, 0, 'call');
    const json = JSON.stringify(publicView(t));
    for (const card of ['Ah', 'Kh', 'Qh', 'As', 'Ks', 'Qs', '2c', '7d']) assert.ok(!json.includes(`"${card}"`), card);
    assert.deepEqual(publicView(t).seats.map((s) => s?.hasCards ?? null), [true, true, true, null, null, null]);
  });
});

void describe('betting rules', () => {
  void test('minimum raise: at least the last full raise; each raise sets the next minimum', () => {
    const t = table({ 0: 1000, 1: 1000, 2: 1000 });
    okEvents(t.startHand(stacked(''), 0));
    assert.equal(t.legalActions(0)?.minTo, 4);
    refused(t, (x) => x.act('u0', { type: 'raise', amount: 3 }, 0), 'RAISE_TOO_SMALL');
    act(t, 0, 'raise', 4);
    assert.equal(t.legalActions(1)?.minTo, 6);
    refused(t, (x) => x.act('u1', { type: 'raise', amount: 5 }, 0), 'RAISE_TOO_SMALL');
    act(t, 1, 'raise', 10); // a raise of 6
    assert.equal(t.legalActions(2)?.minTo, 16);
    refused(t, (x) => x.act('u2', { type: 'raise', amount: 15 }, 0), 'RAISE_TOO_SMALL');
    act(t, 2, 'raise', 16);
    act(t, 0, 'call');
    act(t, 1, 'call');
    assert.equal(t.hand?.street, 'flop');
    assert.equal(t.legalActions(1)?.minTo, 2, 'a new round: the minimum bet is the big blind');
    refused(t, (x) => x.act('u1', { type: 'bet', amount: 1 }, 0), 'BET_TOO_SMALL');
  });

  void test('an all-in raise smaller than a full raise does not reopen the betting for players who already acted', () => {
    const t = table({ 0: 1000, 1: 1000, 2: 1000, 3: 117 });
    okEvents(t.startHand(stacked(''), 0)); // button 0, SB 1, BB 2, UTG 3
    act(t, 3, 'call');
    act(t, 0, 'call');
    act(t, 1, 'call');
    act(t, 2, 'check');
    // Flop: seat 1 bets 100, seat 2 calls, seat 3 is all-in for 115 (a raise of 15 < 100), seat 0 has not acted yet.
    act(t, 1, 'bet', 100);
    act(t, 2, 'call');
    act(t, 3, 'raise', 115);
    assert.equal(t.seats[3]?.stack, 0);
    assert.equal(t.legalActions(0)?.canRaise, true, 'seat 0 had not acted: it may raise');
    assert.equal(t.legalActions(0)?.minTo, 215, 'the minimum raise is still a full 100 over the 115');
    act(t, 0, 'call');
    assert.equal(t.hand?.toAct, 1);
    assert.equal(t.legalActions(1)?.canRaise, false);
    assert.equal(t.legalActions(1)?.callAmount, 15);
    refused(t, (x) => x.act('u1', { type: 'raise', amount: 300 }, 0), 'RAISE_NOT_ALLOWED');
    act(t, 1, 'call');
    act(t, 2, 'call');
    assert.equal(t.hand?.street, 'turn');
  });

  void test('a full all-in raise does reopen the betting', () => {
    const t = table({ 0: 1000, 1: 1000, 2: 202 });
    okEvents(t.startHand(stacked(''), 0)); // button 0, SB 1, BB 2; 3-handed the button acts first
    act(t, 0, 'call');
    act(t, 1, 'call');
    act(t, 2, 'check');
    act(t, 1, 'bet', 50);
    act(t, 2, 'raise', 200); // all-in, a raise of 150 ≥ 50
    assert.equal(t.legalActions(0)?.canRaise, true);
    act(t, 0, 'call');
    assert.equal(t.legalActions(1)?.canRaise, true, 'seat 1 bet before the full raise: it may re-raise');
    act(t, 1, 'raise', 400);
    act(t, 0, 'fold');
    // Seat 2 is all-in; nobody else can bet: the board runs out to showdown.
    assert.equal(t.hand?.complete, true);
    assert.equal(t.hand?.board.length, 5);
  });

  void test('the uncalled part of a bet goes back to the bettor', () => {
    const t = table({ 0: 100, 1: 100, 2: 100 });
    okEvents(t.startHand(stacked(''), 0));
    act(t, 0, 'raise', 30);
    act(t, 1, 'fold');
    const events = act(t, 2, 'fold');
    assert.deepEqual(events.filter((e) => e.type === 'uncalled'), [{ type: 'uncalled', seat: 0, name: 'P0', amount: 28 }]);
    assert.deepEqual(events.filter((e) => e.type === 'win').map((e) => e.type === 'win' && e.amount), [5]);
    assert.deepEqual(stacks(t).slice(0, 3), [103, 99, 98]);
    assert.equal(t.hand?.result?.wonByFold, true);
    assert.deepEqual(t.hand?.result?.shown, [], 'a hand won by folds shows no cards');
  });

  void test('all-in at three sizes: main pot and side pots go to the right players', () => {
    // Seat 0 (50) has the best hand, seat 1 (120) the second best, seat 2 (300) the worst.
    const t = table({ 0: 50, 1: 120, 2: 300 });
    // Button 0: deal 1, 2, 0, 1, 2, 0.
    okEvents(t.startHand(stacked('Kh 2c Ah Kd 3d Ad 7s 8s Jc 9h 4d'), 0));
    act(t, 0, 'raise', 50);
    act(t, 1, 'raise', 120);
    refused(t, (x) => x.act('u2', { type: 'raise', amount: 300 }, 0), 'RAISE_NOT_ALLOWED'); // nobody left to call a raise
    act(t, 2, 'call');
    assert.equal(t.hand?.complete, true);
    assert.deepEqual(t.hand?.result?.pots, [
      { amount: 150, winners: [{ seat: 0, name: 'P0', amount: 150 }] },
      { amount: 140, winners: [{ seat: 1, name: 'P1', amount: 140 }] },
    ]);
    // Seat 2 only had to match 120.
    assert.deepEqual(stacks(t).slice(0, 3), [150, 140, 180]);
  });

  void test('a split pot with an odd chip: the first winner left of the button gets it', () => {
    const t = table({ 0: 100, 1: 100, 2: 100 });
    // The board is a royal flush: everyone still in splits.
    okEvents(t.startHand(stacked('2c 3c 4c 2d 3d 4d Ts Js Qs Ks As'), 0));
    act(t, 0, 'call');
    act(t, 1, 'fold');
    act(t, 2, 'check');
    for (let i = 0; i < 3; i++) {
      act(t, 2, 'check');
      act(t, 0, 'check');
    }
    // Pot 5 (1 + 2 + 2) split by seats 0 and 2; left of the button (0) seat 2 comes first.
    assert.deepEqual(t.hand?.result?.pots, [{ amount: 5, winners: [{ seat: 2, name: 'P2', amount: 3 }, { seat: 0, name: 'P0', amount: 2 }] }]);
    assert.deepEqual(stacks(t).slice(0, 3), [100, 99, 101]);
  });

  void test('short blinds post what they have and are all-in', () => {
    const t = table({ 0: 100, 1: 1 }, { minBuyIn: 1, bigBlind: 2 });
    const events = okEvents(t.startHand(stacked(''), 0));
    // Heads-up: button 0 posts the small blind; seat 1 has 1 chip for the big blind.
    assert.deepEqual(events.filter((e) => e.type === 'blind').map((e) => e.type === 'blind' && [e.seat, e.amount, e.allIn]), [[0, 1, false], [1, 1, true]]);
    assert.equal(t.hand?.complete, true, 'nobody can bet: the board runs out');
    assert.equal(t.hand?.board.length, 5);
    const total = stacks(t).reduce<number>((s, x) => s + (x ?? 0), 0);
    assert.equal(total, 101);
  });
});

void describe('illegal actions: refused with a reason, state unchanged', () => {
  void test('every kind of illegal action', () => {
    const t = table({ 0: 100, 1: 100, 2: 100, 3: 40 });
    refused(t, (x) => x.act('u0', { type: 'check' }, 0), 'NO_HAND');
    okEvents(t.startHand(stacked(''), 0)); // button 0, SB 1, BB 2, UTG 3
    refused(t, (x) => x.act('u0', { type: 'call' }, 0), 'NOT_YOUR_TURN');
    refused(t, (x) => x.act('u3', { type: 'dance' }, 0), 'UNKNOWN_ACTION');
    refused(t, (x) => x.act('u3', { type: 42 }, 0), 'UNKNOWN_ACTION');
    refused(t, (x) => x.act('u3', { type: 'check' }, 0), 'CANNOT_CHECK');
    refused(t, (x) => x.act('u3', { type: 'bet', amount: 10 }, 0), 'CANNOT_BET');
    for (const amount of [-5, 0, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10', null, undefined, 2 ** 60]) {
      refused(t, (x) => x.act('u3', { type: 'raise', amount }, 0), 'BAD_AMOUNT');
    }
    refused(t, (x) => x.act('u3', { type: 'raise', amount: 41 }, 0), 'INSUFFICIENT_CHIPS');
    refused(t, (x) => x.act('stranger', { type: 'fold' }, 0), 'NOT_SEATED');
    refused(t, (x) => x.act('u3', { type: 'fold' }, 0, 7), 'STALE_HAND');
    act(t, 3, 'raise', 40); // all-in
    refused(t, (x) => x.act('u3', { type: 'fold' }, 0), 'PLAYER_ALL_IN');
    act(t, 0, 'fold');
    refused(t, (x) => x.act('u0', { type: 'call' }, 0), 'PLAYER_FOLDED');
    act(t, 1, 'call');
    act(t, 2, 'call');
    // Flop: seat 1 first; nothing to call, nothing to raise.
    refused(t, (x) => x.act('u1', { type: 'call' }, 0), 'NOTHING_TO_CALL');
    refused(t, (x) => x.act('u1', { type: 'raise', amount: 10 }, 0), 'CANNOT_RAISE');
    refused(t, (x) => x.act('u1', { type: 'bet', amount: 61 }, 0), 'INSUFFICIENT_CHIPS');
    // A player who sat down during the hand was not dealt in.
    assert.ok(t.sit('u4', 'P4', 4, 100).ok);
    refused(t, (x) => x.act('u4', { type: 'fold' }, 0), 'NOT_IN_HAND');
    refused(t, (x) => x.startHand(stacked(''), 0), 'HAND_IN_PROGRESS');
    refused(t, (x) => x.timeout(1), 'NOT_DUE');
  });

  void test('seating refusals', () => {
    const t = table({ 0: 100 });
    refused(t, (x) => x.sit('u9', 'Nine', 6, 100), 'BAD_SEAT');
    refused(t, (x) => x.sit('u9', 'Nine', -1, 100), 'BAD_SEAT');
    refused(t, (x) => x.sit('u9', 'Nine', 1.5, 100), 'BAD_SEAT');
    refused(t, (x) => x.sit('u9', 'Nine', 0, 100), 'SEAT_TAKEN');
    refused(t, (x) => x.sit('u0', 'Again', 1, 100), 'ALREADY_SEATED');
    refused(t, (x) => x.sit('u9', 'Nine', 1, 1), 'BAD_BUY_IN');
    refused(t, (x) => x.sit('u9', 'Nine', 1, 10_001), 'BAD_BUY_IN');
    for (const name of ['', '   ', 'x'.repeat(25), 'a\u0000b', 42]) refused(t, (x) => x.sit('u9', name, 1, 100), 'BAD_NAME');
    refused(t, (x) => x.leave('u9', 0), 'NOT_SEATED');
    refused(t, (x) => x.setSittingOut('u9', true), 'NOT_SEATED');
    refused(t, (x) => x.startHand(stacked(''), 0), 'NOT_ENOUGH_PLAYERS');
  });

  void test('no refusal message names a card', () => {
    for (const message of Object.values(Reasons)) assert.doesNotMatch(message, /\b[2-9TJQKA][cdhs]\b/);
  });
});

void describe('turn timer and leaving', () => {
  void test('time runs out: check when possible, fold when facing a bet; two in a row sit the player out', () => {
    const t = table({ 0: 100, 1: 100, 2: 100 });
    okEvents(t.startHand(stacked(''), 1000));
    refused(t, (x) => x.timeout(30_999), 'NOT_DUE');
    const folded = okEvents(t.timeout(31_000));
    assert.deepEqual(folded[0], { type: 'action', seat: 0, name: 'P0', action: 'fold', added: 0, to: 0, allIn: false, auto: true });
    assert.equal(t.hand?.deadline, 61_000, 'the next player gets a full turn');
    act(t, 1, 'call');
    const checked = okEvents(t.timeout(61_000));
    assert.equal(checked[0]?.type === 'action' && checked[0].action, 'check', 'the big blind checks its option');
    assert.equal(t.hand?.street, 'flop');
    act(t, 1, 'check');
    const again = okEvents(t.timeout(99_000));
    assert.deepEqual(again.filter((e) => e.type === 'sitOut'), [{ type: 'sitOut', seat: 2, name: 'P2', out: true }]);
    assert.equal(t.seats[2]?.sittingOut, true);
  });

  void test('leaving mid-hand folds the player; the seat empties when the hand ends', () => {
    const t = table({ 0: 100, 1: 100, 2: 100 });
    okEvents(t.startHand(stacked(''), 0));
    const events = okEvents(t.leave('u2', 0)); // the big blind leaves out of turn
    assert.equal(events[0]?.type === 'action' && events[0].action, 'fold');
    assert.equal(t.seats[2]?.leaving, true);
    act(t, 0, 'fold');
    assert.equal(t.hand?.complete, true);
    assert.equal(t.seats[2], null);
    assert.deepEqual(stacks(t).slice(0, 2), [100, 102]);
    // Outside a hand a seat empties at once.
    okEvents(t.leave('u0', 0));
    assert.equal(t.seats[0], null);
  });

  void test('seats of players sitting out too long are freed; not while they are in a live hand', () => {
    const t = table({ 0: 100, 1: 100, 2: 100 });
    okEvents(t.setSittingOut('u2', true, 1000));
    assert.equal(t.seats[2]?.sittingOutSince, 1000);
    assert.deepEqual(okEvents(t.removeIdle(1999, 1000)), [], 'not yet');
    okEvents(t.startHand(stacked(''), 2000)); // seats 0 and 1 play
    okEvents(t.setSittingOut('u0', true, 2000)); // sits out during the hand, still in it
    assert.deepEqual(okEvents(t.removeIdle(5000, 1000)), [{ type: 'leave', seat: 2, name: 'P2', reason: 'left' }]);
    assert.equal(t.seats[2], null);
    assert.notEqual(t.seats[0], null, 'still in the live hand');
    okEvents(t.setSittingOut('u1', false, 5000));
    assert.equal(t.seats[1]?.sittingOutSince, null);
    act(t, 0, 'fold');
    assert.deepEqual(okEvents(t.removeIdle(5000, 1000)).map((e) => e.type === 'leave' && e.seat), [0]);
  });

  void test('a player who loses every chip leaves the table', () => {
    const t = table({ 0: 10, 1: 100 });
    okEvents(t.startHand(stacked('As 7d Kh 3h Kd Ks Qd Jc 9h'), 0)); // heads-up, button 0: deal 1, 0, 1, 0
    act(t, 0, 'raise', 10);
    const events = act(t, 1, 'call');
    assert.ok(events.some((e) => e.type === 'leave' && e.seat === 0 && e.reason === 'busted'));
    assert.equal(t.seats[0], null);
    assert.equal(t.seats[1]?.stack, 110);
  });
});

void describe('random play', () => {
  void test('400 hands of random legal and illegal actions: chips are conserved and every hand ends', () => {
    const random = seededInt(2024);
    const t = table({}, { minBuyIn: 2 });
    let total = 0; // every chip bought in; busted players take none away
    let newcomers = 0;
    let actions = 0;
    let refusals = 0;
    for (let hand = 0; hand < 400; hand++) {
      // Empty seats (busted players) fill up again, so the game never runs dry.
      for (let seat = 0; seat < 6; seat++) {
        if (t.seats[seat] !== null) continue;
        const buyIn = 20 + random(300);
        assert.ok(t.sit(`n${newcomers}`, `N${newcomers}`, seat, buyIn).ok);
        newcomers++;
        total += buyIn;
      }
      okEvents(t.startHand(shuffledDeck(random), 0));
      for (let step = 0; step < 500 && t.inHand; step++) {
        const seat = t.hand?.toAct as number;
        const legal = t.legalActions(seat);
        assert.ok(legal !== null);
        const user = t.seats[seat]?.user as string;
        const choice = random(10);
        let action: ActionRequest;
        if (choice < 2) action = { type: 'fold' };
        else if (choice < 6) action = { type: legal.canCheck ? 'check' : 'call' };
        else if (choice < 9) action = { type: legal.canBet ? 'bet' : 'raise', amount: legal.minTo + random(Math.max(1, legal.maxTo - legal.minTo + 1)) };
        else action = { type: ['check', 'call', 'bet', 'raise'][random(4)], amount: random(500) };
        const before = state(t);
        const outcome = t.act(user, action, 0);
        actions++;
        if (!outcome.ok) {
          refusals++;
          assert.equal(state(t), before, `${outcome.reason} changed the state`);
        }
        const inPlay = t.seats.reduce((s, x) => s + (x?.stack ?? 0), 0) + (t.inHand ? (t.hand?.players.reduce((s, p) => s + p.total, 0) ?? 0) : 0);
        assert.equal(inPlay, total, `chips conserved after ${JSON.stringify(action)}`);
      }
      assert.equal(t.inHand, false, 'the hand ended');
      assert.equal(t.hand?.number, hand + 1);
    }
    assert.ok(newcomers > 6, 'players busted and were replaced');
    assert.ok(actions > 2000 && refusals > 0, `${actions} actions, ${refusals} refused`);
  });
});
