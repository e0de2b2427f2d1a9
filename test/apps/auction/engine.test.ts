/**
 * The engines' shared contract: a bid request's key and lot id are checked before either
 * auction looks at its lots, with BAD_REQUEST naming the field; a receipt carries the bid's
 * public fields only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuctionRefusal, checkBidRequest, receiptOf } from '../../../src/apps/auction/engine.js';

const badRequest = (field: string) => (e: unknown): boolean => e instanceof AuctionRefusal && e.code === 'BAD_REQUEST' && e.message.startsWith(`${field}:`);

void test('checkBidRequest: a key of 8 to 64 characters of A-Z a-z 0-9 _ -, and a whole lot id', () => {
  assert.deepEqual(checkBidRequest(7, 'key-0001'), { lot: 7, key: 'key-0001' });
  assert.deepEqual(checkBidRequest(7, 'k'.repeat(64)), { lot: 7, key: 'k'.repeat(64) });
  for (const key of ['short', 'k'.repeat(65), 'key 0001', 'key/0001', 'ключ-0001', 12345678, undefined]) {
    assert.throws(() => checkBidRequest(7, key), badRequest('key'), String(key));
  }
  for (const lot of ['7', 7.5, Number.NaN, 2 ** 53, undefined]) assert.throws(() => checkBidRequest(lot, 'key-0001'), badRequest('lot'), String(lot));
});

void test('receiptOf: the bid\'s id, lot, amount and time, not its key or bidder', () => {
  assert.deepEqual(receiptOf({ id: 3, lot: 7, user: 'ann', name: 'Ann', amount: 1500, at: 99, key: 'secret-key' }), { id: 3, lot: 7, amount: 1500, at: 99 });
});
