/**
 * The auction's rules as pure functions: bid validation against the lot and the server's time,
 * anti-sniping, how lots end, what the public view hides, and the checks on new lots.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuctionError,
  MAX_AMOUNT,
  applyBid,
  checkBid,
  checkImage,
  checkLotSpec,
  checkName,
  currentPrice,
  formatAmount,
  isDue,
  minimumBid,
  outcome,
  publicView,
  type Bid,
  type Lot,
} from '../../../src/apps/auction/rules.js';

const T0 = 1_800_000_000_000;
const SNIPE = { windowMs: 30_000, extendMs: 30_000 };

function lot(overrides: Partial<Lot> = {}): Lot {
  return {
    id: 1,
    seller: 'seller',
    sellerName: 'Sam',
    title: 'Brass telescope',
    description: 'Works.',
    image: 'illustration:camera',
    startingPrice: 1000,
    increment: 100,
    reserve: 0,
    endsAt: T0 + 600_000,
    createdAt: T0,
    status: 'open',
    bids: [],
    ...overrides,
  };
}

let nextId = 1;
function place(l: Lot, user: string, amount: number, at: number): Bid {
  const verdict = checkBid(l, user, amount, at, SNIPE);
  assert.ok(verdict.ok, `bid ${amount} by ${user} refused: ${verdict.ok ? '' : verdict.code}`);
  const bid: Bid = { id: nextId++, lot: l.id, user, name: user.toUpperCase(), amount, at, key: `key-${nextId}` };
  applyBid(l, bid, verdict.endsAt);
  return bid;
}

function refusal(result: ReturnType<typeof checkBid>): string {
  assert.equal(result.ok, false);
  return result.ok ? '' : result.code;
}

void describe('checkBid', () => {
  void test('the first bid may equal the starting price; later bids must beat the price by the increment', () => {
    const l = lot();
    assert.equal(refusal(checkBid(l, 'ann', 999, T0 + 1, SNIPE)), AuctionError.BID_TOO_LOW);
    place(l, 'ann', 1000, T0 + 1);
    assert.equal(currentPrice(l), 1000);
    assert.equal(minimumBid(l), 1100);
    assert.equal(refusal(checkBid(l, 'bob', 1099, T0 + 2, SNIPE)), AuctionError.BID_TOO_LOW);
    place(l, 'bob', 1100, T0 + 2);
    place(l, 'ann', 5000, T0 + 3);
    assert.equal(currentPrice(l), 5000);
    assert.equal(minimumBid(l), 5100);
  });

  void test('the refusal message names the minimum, in money', () => {
    const l = lot({ startingPrice: 123_456 });
    const result = checkBid(l, 'ann', 10, T0, SNIPE);
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.message, /\$1,234\.56/);
  });

  void test('amounts that are not positive whole cents are refused as BAD_REQUEST', () => {
    const l = lot();
    for (const amount of [0, -5, 10.5, Number.NaN, Infinity, '2000', null, undefined, 2 ** 60, {}]) {
      assert.equal(refusal(checkBid(l, 'ann', amount, T0, SNIPE)), AuctionError.BAD_REQUEST, JSON.stringify(amount) ?? 'undefined');
    }
    assert.equal(refusal(checkBid(l, 'ann', MAX_AMOUNT + 1, T0, SNIPE)), AuctionError.BID_TOO_HIGH);
    assert.equal(checkBid(l, 'ann', MAX_AMOUNT, T0, SNIPE).ok, true);
  });

  void test('the leader may not bid against themself; the seller may not bid at all', () => {
    const l = lot();
    place(l, 'ann', 1000, T0);
    assert.equal(refusal(checkBid(l, 'ann', 9000, T0 + 1, SNIPE)), AuctionError.ALREADY_LEADING);
    assert.equal(refusal(checkBid(l, 'seller', 9000, T0 + 1, SNIPE)), AuctionError.OWN_LOT);
  });

  void test('at or after the end time (by the server clock) and on an ended lot, bids are refused', () => {
    const l = lot();
    assert.equal(checkBid(l, 'ann', 1000, l.endsAt - 1, SNIPE).ok, true);
    assert.equal(refusal(checkBid(l, 'ann', 1000, l.endsAt, SNIPE)), AuctionError.LOT_CLOSED);
    assert.equal(refusal(checkBid(lot({ status: 'sold' }), 'ann', 1000, T0, SNIPE)), AuctionError.LOT_CLOSED);
    assert.equal(refusal(checkBid(lot({ status: 'unsold' }), 'ann', 1000, T0, SNIPE)), AuctionError.LOT_CLOSED);
  });

  void test('checking a bid changes nothing; refused bids leave the lot as it was', () => {
    const l = lot();
    place(l, 'ann', 1000, T0);
    const before = structuredClone(l);
    checkBid(l, 'bob', 1, T0, SNIPE);
    checkBid(l, 'ann', 5000, T0, SNIPE);
    checkBid(l, 'bob', 5000, l.endsAt - 1, SNIPE);
    assert.deepEqual(l, before);
  });
});

void describe('anti-sniping', () => {
  void test('a bid with more than the window left does not move the end', () => {
    const l = lot();
    const verdict = checkBid(l, 'ann', 1000, l.endsAt - 30_001, SNIPE);
    assert.deepEqual(verdict, { ok: true, endsAt: l.endsAt, extended: false });
  });

  void test('a bid in the last seconds pushes the end to extendMs after it, again and again', () => {
    const l = lot();
    const end = l.endsAt;
    place(l, 'ann', 1000, end - 5_000);
    assert.equal(l.endsAt, end - 5_000 + 30_000);
    place(l, 'bob', 1100, l.endsAt - 1);
    assert.equal(l.endsAt, end - 5_000 + 30_000 - 1 + 30_000);
  });

  void test('an extension never shortens the lot (extendMs shorter than the window)', () => {
    const l = lot();
    const verdict = checkBid(l, 'ann', 1000, l.endsAt - 20_000, { windowMs: 30_000, extendMs: 10_000 });
    assert.deepEqual(verdict, { ok: true, endsAt: l.endsAt, extended: false });
  });
});

void describe('ending', () => {
  void test('isDue follows the clock, and only for open lots', () => {
    const l = lot();
    assert.equal(isDue(l, l.endsAt - 1), false);
    assert.equal(isDue(l, l.endsAt), true);
    assert.equal(isDue(lot({ status: 'sold' }), T0 + 10 ** 9), false);
  });

  void test('sold with a bid at or above the reserve; unsold without bids or below the reserve', () => {
    assert.equal(outcome(lot()), 'unsold');
    const reserved = lot({ reserve: 2000 });
    place(reserved, 'ann', 1000, T0);
    assert.equal(outcome(reserved), 'unsold');
    place(reserved, 'bob', 2000, T0 + 1);
    assert.equal(outcome(reserved), 'sold');
    const plain = lot();
    place(plain, 'ann', 1000, T0);
    assert.equal(outcome(plain), 'sold');
  });
});

void describe('publicView', () => {
  void test('shows price, leader and recent bids, and hides the reserve amount and the keys', () => {
    const l = lot({ reserve: 987_654 });
    for (let i = 0; i < 25; i++) place(l, i % 2 === 0 ? 'ann' : 'bob', 1000 + i * 100, T0 + i);
    const view = publicView(l);
    assert.equal(view.price, 3400);
    assert.equal(view.minimumBid, 3500);
    assert.deepEqual(view.leader, { user: 'ann', name: 'ANN' });
    assert.equal(view.bidCount, 25);
    assert.equal(view.recentBids.length, 20);
    assert.equal(view.recentBids[0]!.amount, 3400);
    assert.equal(view.hasReserve, true);
    assert.equal(view.reserveMet, false);
    const text = JSON.stringify(view);
    assert.equal(text.includes('987654'), false, 'the reserve amount is private');
    assert.equal(text.includes('key-'), false, 'idempotency keys are private');
    assert.equal('reserve' in view, false);
  });

  void test('rev grows with every bid and with the end', () => {
    const l = lot();
    const revs = [publicView(l).rev];
    place(l, 'ann', 1000, T0);
    revs.push(publicView(l).rev);
    l.status = outcome(l);
    revs.push(publicView(l).rev);
    assert.deepEqual(revs, [0, 1, 2]);
  });
});

void describe('new lots, names and images', () => {
  const good = { title: '  Tin robot ', description: 'Winds up.\nWalks.', image: 'illustration:teapot', startingPrice: 500, increment: 50, reserve: 0, endsAt: T0 + 60_000 };

  void test('a valid lot is accepted and cleaned', () => {
    const result = checkLotSpec(good, T0);
    assert.ok(result.ok);
    assert.equal(result.spec.title, 'Tin robot');
    assert.equal(result.spec.description, 'Winds up.\nWalks.');
    const noReserve = checkLotSpec({ ...good, reserve: undefined }, T0);
    assert.ok(noReserve.ok);
    assert.equal(noReserve.spec.reserve, 0);
  });

  void test('every broken field is refused with BAD_LOT naming it', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ title: 'ab' }, /^title/],
      [{ title: 'x'.repeat(81) }, /^title/],
      [{ title: 'Bad\u0000title' }, /^title/],
      [{ description: 'x'.repeat(2001) }, /^description/],
      [{ image: 'javascript:alert(1)' }, /^image/],
      [{ image: 'illustration:unicorn' }, /^image/],
      [{ startingPrice: 0 }, /^startingPrice/],
      [{ startingPrice: 1.5 }, /^startingPrice/],
      [{ increment: -1 }, /^increment/],
      [{ reserve: MAX_AMOUNT + 1 }, /^reserve/],
      [{ endsAt: T0 + 1000 }, /^endsAt/],
      [{ endsAt: T0 + 31 * 86_400_000 }, /^endsAt/],
      [{ endsAt: '2030-01-01' }, /^endsAt/],
    ];
    for (const [patch, field] of cases) {
      const result = checkLotSpec({ ...good, ...patch }, T0);
      assert.equal(result.ok, false, JSON.stringify(patch));
      assert.equal(result.ok ? '' : result.code, AuctionError.BAD_LOT);
      assert.match(result.ok ? '' : result.message, field);
    }
    for (const input of [null, 'lot', [good], 42]) {
      const result = checkLotSpec(input, T0);
      assert.equal(result.ok ? '' : result.code, AuctionError.BAD_REQUEST);
    }
  });

  void test('images: http(s) URLs without credentials, or a bundled illustration', () => {
    assert.equal(checkImage('https://example.com/a.png'), 'https://example.com/a.png');
    assert.equal(checkImage('http://example.com/a b.png'), 'http://example.com/a%20b.png');
    assert.equal(checkImage('illustration:bicycle'), 'illustration:bicycle');
    for (const bad of ['data:image/png;base64,AAAA', 'javascript:alert(1)', 'file:///etc/passwd', '/relative.png', 'https://user:pw@example.com/x.png', `https://e.com/${'x'.repeat(500)}`, 42, undefined]) {
      assert.equal(checkImage(bad), undefined, String(bad));
    }
  });

  void test('names: trimmed, 1 to 32 characters, no control characters', () => {
    assert.deepEqual(checkName('  Ann   Lee '), { ok: true, name: 'Ann Lee' });
    for (const bad of ['', '   ', 'x'.repeat(33), 'a\u0007b', 7, null]) assert.equal(checkName(bad).ok, false, String(bad));
  });

  void test('formatAmount shows cents as money', () => {
    assert.equal(formatAmount(0), '$0.00');
    assert.equal(formatAmount(5), '$0.05');
    assert.equal(formatAmount(123_456_78), '$123,456.78');
  });
});
