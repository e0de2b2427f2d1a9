/**
 * The running auction without any network: what it publishes for each change, the order of
 * store write and announcement, and lot ends driven by timers and the injected clock, including
 * a store that fails while ending a lot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Auction } from '../../../src/apps/auction/auction.js';
import { AuctionRefusal, type AuctionOptions } from '../../../src/apps/auction/engine.js';
import { AuctionStore } from '../../../src/apps/auction/store.js';

interface Published { topic: string; data: unknown; key: string }

function setup(t: { after: (fn: () => void) => void }, now: () => number, onError?: (error: unknown) => void, extra: AuctionOptions = {}): { auction: Auction; store: AuctionStore; published: Published[] } {
  const dir = mkdtempSync(join(tmpdir(), 'auction-unit-'));
  const store = new AuctionStore(join(dir, 'a.sqlite'));
  const published: Published[] = [];
  const auction = new Auction(store, (topic, data, key) => published.push({ topic, data, key }), {
    now,
    antiSnipe: { windowMs: 0, extendMs: 0 },
    lotLimits: { minDurationMs: 0, maxDurationMs: 86_400_000 },
    ...(onError !== undefined ? { onError } : {}),
    ...extra,
  });
  t.after(() => {
    auction.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { auction, store, published };
}

const SAM = { user: 'sam', name: 'Sam' };
const ANN = { user: 'ann', name: 'Ann' };
const BOB = { user: 'bob', name: 'Bob' };

void test('a bid is stored, then announced to the lot and the lobby, and the outbid leader is told', (t) => {
  const now = 1_000_000;
  const { auction, store, published } = setup(t, () => now);
  const lot = auction.createLot(SAM, { title: 'Lamp', description: '', image: 'illustration:camera', startingPrice: 100, increment: 10, endsAt: now + 60_000 });
  assert.deepEqual(published.map((p) => [p.topic, p.key]), [[`lot:${lot.id}`, 'state'], ['lobby', `lot:${lot.id}`]]);
  published.length = 0;
  auction.bid(ANN, lot.id, 100, 'key-ann-0001');
  auction.bid(BOB, lot.id, 110, 'key-bob-0001');
  assert.deepEqual(published.map((p) => p.topic), [`lot:${lot.id}`, 'lobby', `lot:${lot.id}`, 'lobby', 'user:ann']);
  assert.deepEqual(published.at(-1)!.data, { type: 'outbid', lot: lot.id, title: 'Lamp', price: 110, minimumBid: 120 });
  assert.equal(store.loadLots()[0]!.bids.length, 2);
});

void test('a bid the store cannot write is neither applied nor announced', (t) => {
  const now = 1_000_000;
  const { auction, store, published } = setup(t, () => now);
  const lot = auction.createLot(SAM, { title: 'Lamp', description: '', image: 'illustration:camera', startingPrice: 100, increment: 10, endsAt: now + 60_000 });
  published.length = 0;
  store.recordBid = () => {
    throw new Error('disk full');
  };
  assert.throws(() => auction.bid(ANN, lot.id, 100, 'key-ann-0001'), /disk full/);
  assert.equal(auction.view(lot.id)!.bidCount, 0);
  assert.deepEqual(published, []);
});

void test('refusals are AuctionRefusal with the rule code', (t) => {
  const now = 1_000_000;
  const { auction } = setup(t, () => now);
  const lot = auction.createLot(SAM, { title: 'Lamp', description: '', image: 'illustration:camera', startingPrice: 100, increment: 10, endsAt: now + 60_000 });
  assert.throws(() => auction.bid(ANN, lot.id, 99, 'key-ann-0001'), (e: unknown) => e instanceof AuctionRefusal && e.code === 'BID_TOO_LOW');
  assert.throws(() => auction.bid(ANN, 77, 100, 'key-ann-0002'), (e: unknown) => e instanceof AuctionRefusal && e.code === 'NO_SUCH_LOT');
  assert.throws(() => auction.createLot(ANN, { title: 'x' }), (e: unknown) => e instanceof AuctionRefusal && e.code === 'BAD_LOT');
});

void test('the injected clock decides when a lot ends; a failing end is reported and retried', async (t) => {
  let now = 1_000_000;
  const errors: unknown[] = [];
  const { auction, store, published } = setup(t, () => now, (error) => errors.push(error));
  const lot = auction.createLot(SAM, { title: 'Lamp', description: '', image: 'illustration:camera', startingPrice: 100, increment: 10, endsAt: now + 30 });
  auction.bid(ANN, lot.id, 100, 'key-ann-0001');
  // The timer fires after 30 real ms, but the server clock has not reached the end: still open.
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(auction.view(lot.id)!.status, 'open');
  // The clock passes the end, and the store fails once: reported, retried a second later.
  now += 1000;
  const setStatus = store.setStatus.bind(store);
  let failures = 0;
  store.setStatus = (id, status) => {
    if (failures++ === 0) throw new Error('disk full');
    setStatus(id, status);
  };
  const deadline = Date.now() + 5000;
  while (auction.view(lot.id)!.status === 'open' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(auction.view(lot.id)!.status, 'sold');
  assert.equal(errors.length, 1);
  assert.deepEqual(published.filter((p) => p.topic === 'user:ann').map((p) => p.data), [{ type: 'ended', lot: lot.id, title: 'Lamp', status: 'sold', price: 100, won: true }]);
  assert.equal(store.loadLots()[0]!.status, 'sold');
});

void test('lots per seller are rate limited: past the burst RATE_LIMITED with the wait, refused lots not counted, other sellers unaffected', (t) => {
  let now = 1_000_000;
  const { auction, store } = setup(t, () => now, undefined, { lotRate: { perMinute: 6, burst: 2 } });
  const spec = (title: string): Record<string, unknown> => ({ title, description: '', image: 'illustration:camera', startingPrice: 100, increment: 10, endsAt: now + 60_000 });
  // An invalid lot is refused for what it is and spends nothing.
  assert.throws(() => auction.createLot(SAM, { title: 'x' }), (e: unknown) => e instanceof AuctionRefusal && e.code === 'BAD_LOT');
  auction.createLot(SAM, spec('First lot'));
  auction.createLot(SAM, spec('Second lot'));
  assert.throws(() => auction.createLot(SAM, spec('Third lot')), (e: unknown) => e instanceof AuctionRefusal && e.code === 'RATE_LIMITED' && /try again in 10 s/.test(e.message));
  assert.equal(store.loadLots().length, 2, 'the refused lot was not stored');
  // Another seller has a bucket of their own.
  auction.createLot(ANN, spec('Ann lot'));
  // 6 per minute: one more every 10 s.
  now += 9_000;
  assert.throws(() => auction.createLot(SAM, spec('Too early')), (e: unknown) => e instanceof AuctionRefusal && e.code === 'RATE_LIMITED');
  now += 1_000;
  auction.createLot(SAM, spec('Third lot'));
  assert.equal(store.loadLots().length, 4);
});

void test('lotRate perMinute 0 means no limit', (t) => {
  const now = 1_000_000;
  const { auction } = setup(t, () => now, undefined, { lotRate: { perMinute: 0, burst: 0 } });
  for (let i = 0; i < 30; i++) auction.createLot(SAM, { title: `Lot ${i}`, description: '', image: 'illustration:camera', startingPrice: 100, increment: 10, endsAt: now + 60_000 });
  assert.equal(auction.lobby().length, 30);
});
