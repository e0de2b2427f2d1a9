/**
 * The PostgreSQL store against a real database (a schema of the test's own): nodes starting at
 * once create the tables once; concurrent bids on one lot from several stores (as from several
 * nodes) are placed one at a time with one winner per price; a retry's key is answered with the
 * first bid; concurrent ends of a lot record one close; and every change is notified in commit
 * order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { PgAuctionStore, type AuctionEvent, type BidOutcome } from '../../../src/apps/auction/pg-store.js';
import { checkBid, type LotSpec } from '../../../src/apps/auction/rules.js';
import { needDatabase } from './cluster-helpers.js';

const T = { timeout: 30_000 };

function spec(endsAt: number): LotSpec {
  return { title: 'Pocket watch', description: '', image: 'illustration:camera', startingPrice: 1000, increment: 100, reserve: 0, endsAt };
}

/** Three stores on one schema, as three nodes have, closed after the test. */
async function stores(t: Parameters<typeof needDatabase>[0], url: string): Promise<PgAuctionStore[]> {
  const opened = await Promise.all([1, 2, 3].map((i) => PgAuctionStore.open(url, { node: `node${i}` })));
  t.after(() => Promise.all(opened.map((s) => s.close())));
  return opened;
}

void test('nodes starting at once create the tables once; a later start changes nothing', T, async (t) => {
  const database = await needDatabase(t, false);
  if (database === undefined) return;
  const [a] = await stores(t, database.url);
  const again = await PgAuctionStore.open(database.url);
  await again.close();
  const { rows } = await database.db.query<{ version: number }>('SELECT version FROM auction_migrations');
  assert.deepEqual(rows.map((r) => r.version), [1]);
  const lot = await a!.createLot(spec(Date.now() + 60_000), { user: 'seller', name: 'Sam' }, Date.now());
  assert.equal((await a!.loadLot(lot.id))?.title, 'Pocket watch');
});

void test('a search path naming no schema is refused with the reason', T, async (t) => {
  const database = await needDatabase(t, false);
  if (database === undefined) return;
  const url = database.url.replace(database.schema, `${database.schema}_missing`);
  await assert.rejects(PgAuctionStore.open(url), /no existing schema/);
});

void test('bids from three stores at once: one order, one winner per price, keys answered with the first bid', T, async (t) => {
  const database = await needDatabase(t, false);
  if (database === undefined) return;
  const nodes = await stores(t, database.url);
  const heard: AuctionEvent[] = [];
  const listener = new pg.Client({ connectionString: database.url });
  await listener.connect();
  t.after(() => listener.end());
  listener.on('notification', (m) => heard.push(JSON.parse(m.payload!) as AuctionEvent));
  await listener.query(`LISTEN ${listener.escapeIdentifier(nodes[0]!.channel)}`);

  const lot = await nodes[0]!.createLot(spec(Date.now() + 60_000), { user: 'seller', name: 'Sam' }, Date.now());
  const place = (store: PgAuctionStore, user: string, amount: number, key: string): Promise<BidOutcome> =>
    store.placeBid({ lot: lot.id, user, name: user, amount, at: Date.now(), key }, (l) => checkBid(l, user, amount, Date.now()));
  // 30 bidders, 10 per store, all at the starting price: one wins, the rest are too low.
  const first = await Promise.all(Array.from({ length: 30 }, (_, i) => place(nodes[i % 3]!, `u${i}`, 1000, `key-${i}-aaaa`)));
  assert.equal(first.filter((o) => o.kind === 'placed').length, 1);
  assert.deepEqual([...new Set(first.filter((o) => o.kind !== 'placed').map((o) => (o.kind === 'refused' ? o.refusal.code : o.kind)))], ['BID_TOO_LOW']);

  // A ladder: every bidder tries every price from 1100 to 2000 at once.
  const ladder = await Promise.all(Array.from({ length: 30 }, (_, i) => Array.from({ length: 10 }, (_, k) => place(nodes[i % 3]!, `v${i}`, 1100 + 100 * k, `ladder-${i}-${k}`))).flat());
  const placed = ladder.filter((o): o is Extract<BidOutcome, { kind: 'placed' }> => o.kind === 'placed');
  assert.equal(new Set(placed.map((o) => o.bid.amount)).size, placed.length, 'no two placed at one price');
  const all = (await nodes[1]!.loadLot(lot.id))!.bids;
  assert.equal(all.length, placed.length + 1);
  for (let i = 1; i < all.length; i++) assert.ok(all[i]!.amount > all[i - 1]!.amount && all[i]!.id > all[i - 1]!.id, 'one rising order');

  // The same key again, on another store: the first bid, not a new one.
  const winner = placed[0]!;
  const retry = await place(nodes[2]!, winner.bid.user, winner.bid.amount, winner.bid.key);
  assert.deepEqual(retry, { kind: 'earlier', bid: winner.bid });
  const before = (await nodes[0]!.loadLot(lot.id))!.bids.length;
  const sameKeyOtherLot = await nodes[0]!.createLot(spec(Date.now() + 60_000), { user: 'seller', name: 'Sam' }, Date.now());
  const elsewhere = await nodes[1]!.placeBid({ lot: sameKeyOtherLot.id, user: winner.bid.user, name: 'x', amount: 5000, at: Date.now(), key: winner.bid.key }, (l) => checkBid(l, winner.bid.user, 5000, Date.now()));
  assert.equal(elsewhere.kind, 'earlier', 'a key is one bid across lots too');
  assert.equal((await nodes[0]!.loadLot(lot.id))!.bids.length, before);

  // Every bid was notified, in the lot's order.
  await new Promise((r) => setTimeout(r, 200));
  const seqs = heard.filter((e): e is Extract<AuctionEvent, { t: 'bid' }> => e.t === 'bid' && e.lot === lot.id).map((e) => e.seq);
  assert.deepEqual(seqs, all.map((_, i) => i + 1));
});

void test('ends tried by three stores at once record one close; an extended lot is not ended', T, async (t) => {
  const database = await needDatabase(t, false);
  if (database === undefined) return;
  const nodes = await stores(t, database.url);
  const now = Date.now();
  const lot = await nodes[0]!.createLot(spec(now + 1000), { user: 'seller', name: 'Sam' }, now);
  assert.deepEqual(await nodes[1]!.closeLot(lot.id, now), { status: 'open', endsAt: now + 1000 }, 'not due yet');
  await nodes[1]!.placeBid({ lot: lot.id, user: 'ann', name: 'Ann', amount: 1000, at: now, key: 'ann-key-1' }, () => ({ ok: true, endsAt: now + 5000, extended: true }));
  assert.equal((await nodes[2]!.closeLot(lot.id, now + 2000))?.status, 'open', 'the bid extended it');
  const results = await Promise.all(nodes.map((s) => s.closeLot(lot.id, now + 6000)));
  assert.deepEqual(results.map((r) => r?.status), ['sold', 'sold', 'sold']);
  const { rows } = await database.db.query<{ node: string; status: string }>('SELECT node, status FROM auction_closes WHERE lot = $1', [lot.id]);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.status, 'sold');
});
