/**
 * The auction on three real `parley serve` processes sharing PostgreSQL and Redis: concurrent
 * bids from many clients on every node end in one total order with no two accepted bids at one
 * price and every node's watchers showing it; an idempotent retry on another node is applied
 * once; a node killed with SIGKILL (the one running the timers) loses no acknowledged bid, and
 * the lot still ends exactly once, ended by a surviving node, at the end time the nodes'
 * anti-sniping setting gives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ParleyClient } from '../../../src/client/index.js';
import type { BidReceipt } from '../../../src/apps/auction/engine.js';
import type { LotView } from '../../../src/apps/auction/rules.js';
import { LotWatcher, lotInput } from './helpers.js';
import { connect, kill, needDatabase, signIn, startNodes, timerHolder, until, type AuctionNode, type Session, type TestDatabase } from './cluster-helpers.js';

const T = { timeout: 60_000 };

let keys = 0;
function key(): string {
  return `mn-key-${++keys}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A signed-in bidder on one node, watching the lot there. */
interface Bidder extends Session {
  node: AuctionNode;
  client: ParleyClient;
  watcher: LotWatcher;
}

async function bidder(t: Parameters<typeof connect>[0], node: AuctionNode, name: string, lot: number): Promise<Bidder> {
  const session = await signIn(node, name);
  const client = connect(t, node, session);
  return { ...session, node, client, watcher: await new LotWatcher(client, lot).ready() };
}

/** The lot's bids in the database, in their order. */
async function bidsInDatabase(database: TestDatabase, lot: number): Promise<{ id: number; seq: number; amount: number; user: string; key: string; at: number }[]> {
  const { rows } = await database.db.query<{ id: string; seq: number; amount: string; user_id: string; key: string; at: string }>('SELECT id, seq, amount, user_id, key, at FROM auction_bids WHERE lot = $1 ORDER BY seq', [lot]);
  return rows.map((r) => ({ id: Number(r.id), seq: r.seq, amount: Number(r.amount), user: r.user_id, key: r.key, at: Number(r.at) }));
}

/** Resolves when `b`'s view of the lot moves past `rev`, or after `ms`. */
async function moved(b: Bidder, rev: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (b.watcher.state!.rev === rev && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
}

/**
 * Bids the minimum its own node shows, again and again, until `stop()`; records every
 * acknowledged bid. Refusals (another bid got there first) are expected, and then it waits for
 * its view to move on; a dead connection ends it.
 */
async function keepBidding(b: Bidder, lot: number, acked: BidReceipt[], stop: () => boolean): Promise<void> {
  while (!stop()) {
    const state = b.watcher.state!;
    if (state.leader?.user === b.user) {
      await moved(b, state.rev, 50);
      continue;
    }
    try {
      acked.push(await b.client.request<BidReceipt>('bid', { lot, amount: state.minimumBid, key: key() }));
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== 'BID_TOO_LOW' && code !== 'ALREADY_LEADING') return; // the node went away
      await moved(b, state.rev, 200);
    }
  }
}

/** Checks the total order: seq 1..n, ids and amounts rising, never the same bidder twice in a row. */
function assertTotalOrder(bids: Awaited<ReturnType<typeof bidsInDatabase>>, increment: number): void {
  bids.forEach((b, i) => {
    assert.equal(b.seq, i + 1, 'seq has no gap');
    if (i === 0) return;
    const before = bids[i - 1]!;
    assert.ok(b.id > before.id, 'ids follow the order');
    assert.ok(b.amount >= before.amount + increment, `bid ${b.seq} beats the one before by the increment`);
    assert.notEqual(b.user, before.user, 'no one outbids themselves');
  });
  assert.equal(new Set(bids.map((b) => b.amount)).size, bids.length, 'no two accepted bids at one price');
}

/** Waits until `watcher` shows what the database has: the count, the newest bids, the status. */
async function showsDatabase(watcher: LotWatcher, bids: Awaited<ReturnType<typeof bidsInDatabase>>, what: string): Promise<void> {
  await until(() => watcher.state!.bidCount === bids.length, 5000, `${what} to show ${bids.length} bids (shows ${watcher.state?.bidCount})`);
  assert.deepEqual(watcher.state!.recentBids.map((b) => [b.id, b.amount]), bids.slice(-20).reverse().map((b) => [b.id, b.amount]), `${what} shows the database's bids`);
  for (let i = 1; i < watcher.revs.length; i++) assert.ok(watcher.revs[i]! >= watcher.revs[i - 1]!, `${what}'s states never go back`);
}

void test('concurrent bids on three nodes: one total order, no two at one price, retries on other nodes applied once', T, async (t) => {
  const database = await needDatabase(t);
  if (database === undefined) return;
  const nodes = await startNodes(t, database, 3);
  const sellerSession = await signIn(nodes[0]!, 'Sam Seller');
  const seller = connect(t, nodes[0]!, sellerSession);
  const lot = await seller.request<LotView>('createLot', lotInput(10 * 60_000, { startingPrice: 1000, increment: 100 }));

  const bidders = await Promise.all(Array.from({ length: 12 }, (_, i) => bidder(t, nodes[i % 3]!, `Bidder ${i}`, lot.id)));
  const acked: BidReceipt[] = [];
  // Every bidder bids its node's minimum at once, so many bids race for the same price.
  const started = Date.now();
  await Promise.all(bidders.map((b) => keepBidding(b, lot.id, acked, () => acked.length >= 60)));
  t.diagnostic(`60 bids acknowledged in ${Date.now() - started} ms`);

  const bids = await bidsInDatabase(database, lot.id);
  t.diagnostic(`${bids.length} bids accepted, ${acked.length} acknowledged`);
  assert.ok(bids.length >= 60, 'bids were accepted');
  assertTotalOrder(bids, 100);
  assert.deepEqual(acked.map((r) => r.bid.id).sort((a, b) => a - b), bids.map((b) => b.id), 'every acknowledged bid is in the database, and nothing else is');
  for (const r of acked) assert.equal(r.bid.amount, bids.find((b) => b.id === r.bid.id)!.amount);
  for (const b of bidders) await showsDatabase(b.watcher, bids, `a watcher on port ${b.node.port}`);

  // A retry of an acknowledged bid on each of the other nodes: answered with the first bid, not placed again.
  const first = acked[0]!;
  const owner = bidders.find((b) => bids.find((x) => x.id === first.bid.id)!.user === b.user)!;
  const ownerKey = bids.find((x) => x.id === first.bid.id)!.key;
  for (const node of nodes.filter((n) => n !== owner.node)) {
    const retry = await connect(t, node, owner).request<BidReceipt>('bid', { lot: lot.id, amount: first.bid.amount, key: ownerKey });
    assert.equal(retry.replayed, true);
    assert.equal(retry.bid.id, first.bid.id);
    const reused = await connect(t, node, owner).request('bid', { lot: lot.id, amount: first.bid.amount + 1, key: ownerKey }).then(() => 'accepted', (e: { code: string }) => e.code);
    assert.equal(reused, 'KEY_REUSED', 'the key with another amount is refused on every node');
  }

  // One new bid sent to all three nodes at the same moment with one key: placed once.
  const leader = bids.at(-1)!.user;
  const next = bidders.find((b) => b.user !== leader)!;
  const sameKey = key();
  const amount = bids.at(-1)!.amount + 100;
  const answers = await Promise.all(nodes.map((node) => connect(t, node, next).request<BidReceipt>('bid', { lot: lot.id, amount, key: sameKey })));
  assert.deepEqual(answers.map((a) => a.replayed).sort(), [false, true, true], 'one placed, two answered as retries');
  assert.equal(new Set(answers.map((a) => a.bid.id)).size, 1, 'all three name the same bid');
  const after = await bidsInDatabase(database, lot.id);
  assert.equal(after.length, bids.length + 1);
  assert.equal(after.filter((b) => b.key === sameKey).length, 1);
  for (const b of bidders) await showsDatabase(b.watcher, after, `a watcher on port ${b.node.port}`);
});

/**
 * The anti-sniping time the kill test's nodes run with (`auction.antiSnipeMs`), instead of the
 * default 30 s that the lot would last after its last bid: the test waits for the end.
 */
const ANTI_SNIPE_MS = 5000;

void test('a node killed with SIGKILL mid-auction loses no acknowledged bid, and the lot ends once, on a survivor', T, async (t) => {
  const database = await needDatabase(t);
  if (database === undefined) return;
  const nodes = await startNodes(t, database, 3, { PARLEY_AUCTION_ANTI_SNIPE_MS: String(ANTI_SNIPE_MS) });
  await until(async () => (await timerHolder(database, nodes)) !== undefined, 5000, 'a node to take the timers');
  const leaderPid = (await timerHolder(database, nodes))!;
  const doomed = nodes.find((n) => n.pid === leaderPid)!;
  const survivors = nodes.filter((n) => n !== doomed);

  const sellerSession = await signIn(survivors[0]!, 'Sam Seller');
  const seller = connect(t, survivors[0]!, sellerSession);
  const ends: unknown[] = [];
  seller.subscribe(`user:${sellerSession.user}`, (data) => {
    if ((data as { type?: string }).type === 'ended') ends.push(data);
  });
  // The shortest lot `parley serve` allows (10 s); every bid in its last 5 s extends it to 5 s
  // after the bid (the nodes' anti-sniping setting), so it ends 5 s after the latest bid.
  const lot = await seller.request<LotView>('createLot', lotInput(10_500, { startingPrice: 1000, increment: 100 }));
  const bidders = await Promise.all(Array.from({ length: 6 }, (_, i) => bidder(t, nodes[i % 3]!, `Bidder ${i}`, lot.id)));
  const acked: BidReceipt[] = [];
  let stopped = false;
  const bidding = Promise.all(bidders.map((b) => keepBidding(b, lot.id, acked, () => stopped)));
  await until(() => acked.length >= 20, 10_000, 'bids before the kill');
  const ackedBeforeKill = acked.length;
  await kill(doomed);
  t.diagnostic(`killed the timer node (pid ${doomed.pid}) after ${ackedBeforeKill} acknowledged bids`);
  const ackedAtKill = acked.length;
  await until(() => acked.length >= ackedAtKill + 20, 10_000, 'bids after the kill');
  // Bidding goes on until the survivors' anti-sniping has moved the end: the setting, not the
  // lot's first end time, decides when it ends.
  const watching = bidders.find((b) => b.node !== doomed)!.watcher;
  await until(() => watching.state!.endsAt > lot.endsAt, 15_000, 'a bid that the anti-sniping extends the lot by');
  stopped = true;
  await bidding;

  const bids = await bidsInDatabase(database, lot.id);
  assertTotalOrder(bids, 100);
  const ids = new Set(bids.map((b) => b.id));
  for (const r of acked) assert.ok(ids.has(r.bid.id), `acknowledged bid ${r.bid.id} is in the database`);
  const surviving = bidders.filter((b) => b.node !== doomed);
  for (const b of surviving) await showsDatabase(b.watcher, bids, `a survivor's watcher on port ${b.node.port}`);

  // A survivor takes the timers over from the dead node's released lock.
  await until(async () => (await timerHolder(database, survivors)) !== undefined, 5000, 'a survivor to take the timers');

  // The lot ends once, ANTI_SNIPE_MS after the latest bid: every bid, on whichever node, moved
  // the end to at least that (bids on the dead node included), and the extending ones to exactly that.
  await until(() => surviving.every((b) => b.watcher.state!.status !== 'open'), 2 * ANTI_SNIPE_MS + 5000, 'the lot to end');
  const endsAt = Math.max(...bids.map((b) => b.at)) + ANTI_SNIPE_MS;
  const { rows: [stored] } = await database.db.query<{ ends_at: string }>('SELECT ends_at FROM auction_lots WHERE id = $1', [lot.id]);
  assert.equal(Number(stored!.ends_at), endsAt, 'the end is the latest bid plus the anti-sniping time');
  for (const b of surviving) assert.equal(b.watcher.state!.endsAt, endsAt, `a survivor's watcher on port ${b.node.port} shows that end`);
  const { rows: closes } = await database.db.query<{ node: string; status: string }>('SELECT node, status FROM auction_closes WHERE lot = $1', [lot.id]);
  assert.equal(closes.length, 1, 'one close row');
  const closer = Number(closes[0]!.node.split('-')[0]);
  assert.ok(survivors.some((n) => n.pid === closer), `closed by a survivor (pid ${closer})`);
  assert.equal(closes[0]!.status, 'sold');
  for (const b of surviving) {
    assert.equal(b.watcher.state!.status, 'sold');
    assert.equal(b.watcher.state!.leader?.user, bids.at(-1)!.user, 'sold to the last bidder');
  }
  await until(() => ends.length >= 1, 5000, "the seller's notice");
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(ends.length, 1, 'the seller hears of the end once');
});
