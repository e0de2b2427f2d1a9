/**
 * The row readers both stores share: integers as either driver gives them (number, bigint,
 * PostgreSQL's BIGINT text) and nothing that would be read rounded or as another type; the
 * token's stored form; bids under either bidder column; lots with a known status only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashToken, num, str, toBid, toLot, toStatus, type Row } from '../../../src/apps/auction/rows.js';

void test('num: a number, a bigint or a decimal string of a safe integer; anything else names the column', () => {
  assert.equal(num({ a: 42 }, 'a'), 42);
  assert.equal(num({ a: 42n }, 'a'), 42);
  assert.equal(num({ a: '1800000000000' }, 'a'), 1_800_000_000_000, 'BIGINT from node-postgres');
  assert.equal(num({ a: '-7' }, 'a'), -7);
  assert.equal(num({ a: String(Number.MAX_SAFE_INTEGER) }, 'a'), Number.MAX_SAFE_INTEGER);
  for (const bad of [1.5, Number.NaN, 2 ** 53, 2n ** 53n, '9007199254740993', '12.5', '', ' 12', '1e3', '0x10', null, undefined, true]) {
    assert.throws(() => num({ a: bad }, 'a'), { name: 'TypeError', message: 'column a is not a safe integer' }, String(bad));
  }
  assert.throws(() => num({}, 'missing'), /column missing/);
});

void test('str: text only', () => {
  assert.equal(str({ a: '' }, 'a'), '');
  assert.equal(str({ a: 'x' }, 'a'), 'x');
  for (const bad of [1, null, undefined, Buffer.from('x')]) assert.throws(() => str({ a: bad }, 'a'), { name: 'TypeError', message: 'column a is not text' });
});

void test('hashToken: the same token always gives the same 43-character base64url digest, and no token is kept as itself', () => {
  const token = 'Zm9vYmFyYmF6cXV4cXV1eHh5eg';
  assert.equal(hashToken(token), hashToken(token));
  assert.match(hashToken(token), /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(hashToken(token), hashToken(`${token}x`));
  assert.equal(hashToken(token).includes(token), false);
});

const BID: Row = { id: 7, lot: '3', name: 'Ann', amount: '1500', at: 1_800_000_000_123, key: 'key-0001' };

void test('toBid: the bidder from the column each store names', () => {
  const expected = { id: 7, lot: 3, user: 'u1', name: 'Ann', amount: 1500, at: 1_800_000_000_123, key: 'key-0001' };
  assert.deepEqual(toBid({ ...BID, user: 'u1' }, 'user'), expected, 'SQLite');
  assert.deepEqual(toBid({ ...BID, user_id: 'u1' }, 'user_id'), expected, 'PostgreSQL');
  assert.throws(() => toBid({ ...BID, user: 'u1' }, 'user_id'), /column user_id is not text/);
  assert.throws(() => toBid({ ...BID, user: 'u1', amount: 15.5 }, 'user'), /column amount/);
});

const LOT: Row = {
  id: '2', seller: 'u9', seller_name: 'Sam', title: 'Clock', description: 'Ticks', image: 'illustration:camera',
  starting_price: 100, increment: 10, reserve: '500', created_at: 1_800_000_000_000, ends_at: '1800000060000', status: 'open',
};

void test('toLot: every column mapped to its field, with the bids given', () => {
  const bids = [toBid({ ...BID, lot: 2, user: 'u1' }, 'user')];
  assert.deepEqual(toLot(LOT, bids), {
    id: 2, seller: 'u9', sellerName: 'Sam', title: 'Clock', description: 'Ticks', image: 'illustration:camera',
    startingPrice: 100, increment: 10, reserve: 500, createdAt: 1_800_000_000_000, endsAt: 1_800_000_060_000, status: 'open', bids,
  });
  assert.throws(() => toLot({ ...LOT, reserve: null }, []), /column reserve/);
});

void test('toStatus: open, sold or unsold; anything else is refused, not passed on as a status', () => {
  for (const status of ['open', 'sold', 'unsold']) assert.equal(toStatus({ status }), status);
  assert.throws(() => toStatus({ status: 'closed' }), { name: 'TypeError', message: "column status holds 'closed', not a lot status" });
  assert.throws(() => toLot({ ...LOT, status: 'OPEN' }, []), /not a lot status/);
  assert.throws(() => toStatus({ status: 1 }), /column status is not text/);
});
