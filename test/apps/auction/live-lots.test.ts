/**
 * The in-memory half both auctions share, through a bare subclass with no store: the reads (the
 * reserve for its seller only, the lobby's order and bounds), a new lot checked before it is
 * counted against the seller's rate, and what is published for a bid and for an end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuctionRefusal, type AuctionOptions, type BidReceipt, type Person, type Publish } from '../../../src/apps/auction/engine.js';
import { LiveLots } from '../../../src/apps/auction/live-lots.js';
import { applyBid, leadingBid, publicView, type Lot, type LotStatus, type LotView } from '../../../src/apps/auction/rules.js';

interface Published { topic: string; data: unknown; key: string }

/** Lots kept in memory only: what a subclass does with the base, and no more. */
class Board extends LiveLots {
  constructor(publish: Publish, options: AuctionOptions) {
    super(publish, options);
  }

  createLot(who: Person, input: unknown): LotView {
    const spec = this.checkNewLot(who, input);
    const lot: Lot = { ...spec, id: this.lots.size + 1, seller: who.user, sellerName: who.name, createdAt: this.clock(), status: 'open', bids: [] };
    this.lots.set(lot.id, lot);
    this.announce(lot);
    return publicView(lot);
  }

  bid(who: Person, lotId: unknown, amount: unknown): BidReceipt {
    const lot = this.lots.get(lotId as number)!;
    const previous = leadingBid(lot);
    const bid = { id: lot.bids.length + 1, lot: lot.id, user: who.user, name: who.name, amount: amount as number, at: this.clock(), key: `k${lot.bids.length}` };
    applyBid(lot, bid, lot.endsAt);
    this.announceBid(lot, previous);
    return { bid, lot: publicView(lot), replayed: false };
  }

  end(id: number, status: LotStatus): void {
    const lot = this.lots.get(id)!;
    lot.status = status;
    this.announceEnd(lot);
  }

  stop(): void {}
}

const NOW = 1_000_000;
const SAM = { user: 'sam', name: 'Sam' };
const ANN = { user: 'ann', name: 'Ann' };
const BOB = { user: 'bob', name: 'Bob' };

function board(options: AuctionOptions = {}): { board: Board; published: Published[] } {
  const published: Published[] = [];
  const b = new Board((topic, data, key) => published.push({ topic, data, key }), { now: () => NOW, lotLimits: { minDurationMs: 0, maxDurationMs: 86_400_000 }, ...options });
  return { board: b, published };
}

function spec(title: string, endsIn = 60_000, reserve = 0): Record<string, unknown> {
  return { title, description: '', image: 'illustration:camera', startingPrice: 100, increment: 10, reserve, endsAt: NOW + endsIn };
}

void test('reads: the view hides the reserve, which only the seller is told; unknown lots are absent', () => {
  const { board: b } = board();
  const lot = b.createLot(SAM, spec('Lamp', 60_000, 5000));
  assert.equal(b.now(), NOW);
  assert.equal(b.has(lot.id), true);
  assert.equal(b.has(99), false);
  assert.equal(b.view(99), undefined);
  assert.equal('reserve' in b.view(lot.id)!, false);
  assert.equal(b.view(lot.id)!.hasReserve, true);
  assert.equal(b.reserveFor(lot.id, 'sam'), 5000);
  assert.equal(b.reserveFor(lot.id, 'ann'), undefined);
  assert.equal(b.reserveFor(lot.id, undefined), undefined);
  assert.equal(b.reserveFor(99, 'sam'), undefined);
});

void test('the lobby: running lots ending soonest first (at most 200), then the 20 newest ended', () => {
  const { board: b } = board({ lotRate: { perMinute: 0, burst: 0 } });
  for (let i = 0; i < 205; i++) b.createLot(SAM, spec(`Open ${i}`, 60_000 + (i % 2 === 0 ? i : 10_000 - i)));
  for (let i = 0; i < 25; i++) {
    const lot = b.createLot(SAM, spec(`Ended ${i}`, 1000 + i));
    b.end(lot.id, 'unsold');
  }
  const lobby = b.lobby();
  const open = lobby.filter((l) => l.status === 'open');
  const ended = lobby.filter((l) => l.status !== 'open');
  assert.equal(open.length, 200);
  assert.equal(ended.length, 20);
  assert.deepEqual(lobby.slice(0, 200), open, 'running lots first');
  assert.deepEqual(open.map((l) => l.endsAt), open.map((l) => l.endsAt).sort((x, y) => x - y));
  assert.deepEqual(ended.map((l) => l.title), Array.from({ length: 20 }, (_, i) => `Ended ${24 - i}`), 'the newest ended, newest first');
});

void test('a new lot is checked before it counts against the seller\'s rate', () => {
  const { board: b, published } = board({ lotRate: { perMinute: 1, burst: 1 } });
  assert.throws(() => b.createLot(SAM, { title: 'x' }), (e: unknown) => e instanceof AuctionRefusal && e.code === 'BAD_LOT');
  b.createLot(SAM, spec('First'));
  assert.throws(() => b.createLot(SAM, spec('Second')), (e: unknown) => e instanceof AuctionRefusal && e.code === 'RATE_LIMITED' && /try again in 60 s/.test(e.message));
  b.createLot(ANN, spec('Ann\'s'));
  assert.deepEqual(published.map((p) => [p.topic, p.key]), [['lot:1', 'state'], ['lobby', 'lot:1'], ['lot:2', 'state'], ['lobby', 'lot:2']]);
});

void test('a bid is announced to the lot and the lobby; the bidder it outbid is told the new price and minimum', () => {
  const { board: b, published } = board();
  const lot = b.createLot(SAM, spec('Lamp'));
  published.length = 0;
  b.bid(ANN, lot.id, 100);
  assert.deepEqual(published.map((p) => p.topic), ['lot:1', 'lobby'], 'the first bid outbids no one');
  assert.deepEqual(published[0]!.data, { type: 'lot', lot: b.view(lot.id), serverTime: NOW });
  published.length = 0;
  b.bid(BOB, lot.id, 110);
  assert.deepEqual(published.map((p) => [p.topic, p.key]), [['lot:1', 'state'], ['lobby', 'lot:1'], ['user:ann', 'outbid:1']]);
  assert.deepEqual(published[2]!.data, { type: 'outbid', lot: 1, title: 'Lamp', price: 110, minimumBid: 120 });
  published.length = 0;
  b.bid(BOB, lot.id, 120);
  assert.deepEqual(published.map((p) => p.topic), ['lot:1', 'lobby'], 'raising one\'s own bid tells no one');
});

void test('an end is announced, the winner told of a sale and the seller of any end', () => {
  const { board: b, published } = board();
  const sold = b.createLot(SAM, spec('Lamp'));
  b.bid(ANN, sold.id, 100);
  const unsold = b.createLot(SAM, spec('Vase'));
  published.length = 0;
  b.end(sold.id, 'sold');
  assert.deepEqual(published.map((p) => [p.topic, p.key]), [['lot:1', 'state'], ['lobby', 'lot:1'], ['user:ann', 'ended:1'], ['user:sam', 'ended:1']]);
  assert.deepEqual(published[2]!.data, { type: 'ended', lot: 1, title: 'Lamp', status: 'sold', price: 100, won: true });
  assert.deepEqual(published[3]!.data, { type: 'ended', lot: 1, title: 'Lamp', status: 'sold', price: 100, seller: true });
  published.length = 0;
  b.end(unsold.id, 'unsold');
  assert.deepEqual(published.map((p) => p.topic), ['lot:2', 'lobby', 'user:sam']);
  assert.deepEqual(published[2]!.data, { type: 'ended', lot: 2, title: 'Vase', status: 'unsold', price: null, seller: true });
});
