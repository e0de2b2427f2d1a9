/**
 * The auction server over real WebSocket connections (the browser client in Node): bids
 * broadcast to every watcher, one order under concurrent bids, private outbid notices,
 * anti-sniping and lot ends, idempotent retries, every illegal bid refused with its reason and
 * nothing changed, slow and reconnecting watchers, and a restart that keeps every accepted bid.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ParleyClient } from '../../../src/client/index.js';
import type { BidReceipt } from '../../../src/apps/auction/engine.js';
import type { LotView } from '../../../src/apps/auction/rules.js';
import { InMemoryAdapter, WebSocket } from '../../../src/index.js';
import type { AppContext } from '../../../src/server/app.js';
import { createAuction, type AuctionAppOptions } from '../../../src/apps/auction/index.js';
import { LotWatcher, WEB_ROOT, connect, lotInput, person, startAuction, tempDataDir, until, type Running } from './helpers.js';

const T = { timeout: 30_000 };

/** The error code a request is refused with (fails if it is accepted). */
async function refusedWith(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return { code: (error as { code: string }).code, message: (error as Error).message };
  }
  assert.fail('the request was accepted');
}

let keys = 0;
function key(): string {
  return `test-key-${++keys}-${Math.random().toString(36).slice(2, 8)}`;
}

function bid(client: ParleyClient, lot: number, amount: unknown, k: unknown = key()): Promise<BidReceipt> {
  return client.request<BidReceipt>('bid', { lot, amount, key: k });
}

async function createLot(client: ParleyClient, input: Record<string, unknown>): Promise<LotView> {
  return client.request<LotView>('createLot', input);
}

/** Collects the private notices of a signed-in client. */
function notices(client: ParleyClient, user: string): unknown[] {
  const got: unknown[] = [];
  client.subscribe(`user:${user}`, (data) => got.push(data));
  return got;
}

async function setup(t: Parameters<typeof startAuction>[0], options: Parameters<typeof startAuction>[1] = {}): Promise<{ running: Running; seller: Awaited<ReturnType<typeof person>>; lot: LotView }> {
  const running = await startAuction(t, options);
  const seller = await person(t, running, 'Sam Seller');
  const lot = await createLot(seller.client, lotInput(600_000, { reserve: 5000 }));
  return { running, seller, lot };
}

void describe('bidding', () => {
  void test('a bid is acknowledged and every watcher, signed in or not, sees the new price', T, async (t) => {
    const { running, lot } = await setup(t);
    const ann = await person(t, running, 'Ann');
    const bob = await person(t, running, 'Bob');
    const anonymous = connect(t, running);
    const watchers = await Promise.all([ann.client, bob.client, anonymous].map((c) => new LotWatcher(c, lot.id).ready()));
    for (const w of watchers) assert.equal(w.state!.price, 1000);

    const receipt = await bid(ann.client, lot.id, 1000);
    assert.equal(receipt.replayed, false);
    assert.equal(receipt.bid.amount, 1000);
    assert.equal(receipt.lot.price, 1000);
    assert.deepEqual(receipt.lot.leader, { user: ann.user, name: 'Ann' });
    await until(() => watchers.every((w) => w.state!.bidCount === 1), 5000, 'the first bid everywhere');

    await bid(bob.client, lot.id, 1500);
    await until(() => watchers.every((w) => w.state!.price === 1500), 5000, 'the second bid everywhere');
    for (const w of watchers) {
      assert.deepEqual(w.state!.leader, { user: bob.user, name: 'Bob' });
      assert.equal(w.state!.minimumBid, 1600);
      assert.deepEqual(w.state!.recentBids.map((b) => [b.name, b.amount]), [['Bob', 1500], ['Ann', 1000]]);
      assert.equal(w.state!.reserveMet, false);
      assert.equal(JSON.stringify(w.state).includes('5000'), false, 'the reserve stays private');
    }

    // The lobby lists the lot with its new price.
    const res = await fetch(`${running.base}/api/lots`);
    const body = (await res.json()) as { lots: { id: number; price: number; bidCount: number }[] };
    assert.deepEqual(body.lots.map((l) => [l.id, l.price, l.bidCount]), [[lot.id, 1500, 2]]);
  });

  void test('concurrent bids from five clients are applied in one order that every watcher sees', T, async (t) => {
    const { running, lot } = await setup(t);
    const bidders = await Promise.all(['A', 'B', 'C', 'D', 'E'].map((n) => person(t, running, n)));
    const watchers = await Promise.all(bidders.map((b) => new LotWatcher(b.client, lot.id).ready()));
    // Every bidder fires 12 bids at once, at amounts that collide with the others'.
    const attempts = bidders.flatMap((b, i) => Array.from({ length: 12 }, (_, j) => ({ b, amount: 1000 + (j * 5 + i) * 100 })));
    const outcomes = await Promise.all(attempts.map(({ b, amount }) => bid(b.client, lot.id, amount).then(
      (r) => ({ ok: true as const, r, user: b.user }),
      (e: { code: string }) => ({ ok: false as const, code: e.code }),
    )));
    const accepted = outcomes.flatMap((o) => (o.ok ? [o] : [])).sort((x, y) => x.r.bid.id - y.r.bid.id);
    const refused = outcomes.flatMap((o) => (o.ok ? [] : [o.code]));
    assert.ok(accepted.length >= 1);
    assert.equal(accepted.length + refused.length, 60);
    for (const code of refused) assert.ok(['BID_TOO_LOW', 'ALREADY_LEADING'].includes(code), code);
    // In the order the server applied them, each accepted bid beats the one before by the increment
    // and comes from someone other than the leader.
    for (let i = 1; i < accepted.length; i++) {
      assert.ok(accepted[i]!.r.bid.amount >= accepted[i - 1]!.r.bid.amount + 100);
      assert.notEqual(accepted[i]!.user, accepted[i - 1]!.user);
    }
    const final = accepted.at(-1)!;
    await until(() => watchers.every((w) => w.state!.bidCount === accepted.length), 5000, 'the final state everywhere');
    for (const w of watchers) {
      assert.equal(w.state!.price, final.r.bid.amount);
      assert.equal(w.state!.leader!.user, final.user);
      // Each watcher saw the states in order, never an older one after a newer.
      assert.deepEqual(w.revs, [...w.revs].sort((a, b) => a - b));
    }
  });

  void test('only the previous leader gets the private outbid notice', T, async (t) => {
    const { running, lot, seller } = await setup(t);
    const [ann, bob, cat] = await Promise.all(['Ann', 'Bob', 'Cat'].map((n) => person(t, running, n)));
    const inbox = { ann: notices(ann!.client, ann!.user), bob: notices(bob!.client, bob!.user), cat: notices(cat!.client, cat!.user), seller: notices(seller.client, seller.user) };
    await new LotWatcher(cat!.client, lot.id).ready();
    await bid(ann!.client, lot.id, 1000);
    await bid(bob!.client, lot.id, 1200);
    await until(() => inbox.ann.length === 1, 5000, "ann's notice");
    assert.deepEqual(inbox.ann[0], { type: 'outbid', lot: lot.id, title: 'Pocket watch', price: 1200, minimumBid: 1300 });
    await bid(ann!.client, lot.id, 1300);
    await until(() => inbox.bob.length === 1, 5000, "bob's notice");
    // Give any stray notice time to arrive before checking there is none.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(inbox.ann.length, 1);
    assert.equal(inbox.cat.length, 0);
    assert.equal(inbox.seller.length, 0);

    // A lot has one topic name; other spellings of its id are refused.
    const oddSpelling = cat!.client.subscribe(`lot:0${lot.id}`, () => undefined);
    await assert.rejects(oddSpelling.ready(), (e: { code: string }) => e.code === 'FORBIDDEN');
    // Nobody can listen to someone else's notices.
    const spy = cat!.client.subscribe(`user:${ann!.user}`, () => assert.fail('read another user\'s notice'));
    await assert.rejects(spy.ready(), (e: { code: string }) => e.code === 'FORBIDDEN');
  });

  void test('a bid in the last seconds extends the end; the lot then ends and the winner and seller are told', T, async (t) => {
    const { running, seller } = await setup(t, { antiSnipe: { windowMs: 1000, extendMs: 1500 } });
    const lot = await createLot(seller.client, lotInput(600));
    const ann = await person(t, running, 'Ann');
    const won = notices(ann.client, ann.user);
    const sold = notices(seller.client, seller.user);
    const watcher = await new LotWatcher(ann.client, lot.id).ready();
    const receipt = await bid(ann.client, lot.id, 1000);
    assert.ok(receipt.lot.endsAt > lot.endsAt, 'the end moved');
    assert.equal(receipt.lot.endsAt, receipt.bid.at + 1500);
    // Still open past the original end…
    await new Promise((r) => setTimeout(r, Math.max(0, lot.endsAt - Date.now() + 100)));
    assert.equal(watcher.state!.status, 'open');
    assert.equal(running.app.auction.view(lot.id)!.status, 'open');
    // …and sold after the new one.
    await until(() => watcher.state!.status === 'sold', 5000, 'the end');
    assert.ok(Date.now() >= receipt.lot.endsAt);
    await until(() => won.length === 1 && sold.length === 1, 5000, 'the end notices');
    assert.deepEqual(won[0], { type: 'ended', lot: lot.id, title: 'Pocket watch', status: 'sold', price: 1000, won: true });
    assert.deepEqual(sold[0], { type: 'ended', lot: lot.id, title: 'Pocket watch', status: 'sold', price: 1000, seller: true });
    const late = await refusedWith(bid((await person(t, running, 'Late')).client, lot.id, 5000));
    assert.equal(late.code, 'LOT_CLOSED');
  });

  void test('a lot whose best bid is below the reserve ends unsold', T, async (t) => {
    const { running, seller } = await setup(t);
    const lot = await createLot(seller.client, lotInput(300, { reserve: 2000 }));
    const ann = await person(t, running, 'Ann');
    const watcher = await new LotWatcher(ann.client, lot.id).ready();
    await bid(ann.client, lot.id, 1000);
    await until(() => watcher.state!.status !== 'open', 5000, 'the end');
    assert.equal(watcher.state!.status, 'unsold');
    assert.equal(watcher.state!.reserveMet, false);
  });

  void test('a retried bid (same idempotency key) is applied once; the key cannot be reused for another bid', T, async (t) => {
    const { running, lot } = await setup(t);
    const ann = await person(t, running, 'Ann');
    const k = key();
    const first = await bid(ann.client, lot.id, 1000, k);
    const again = await bid(ann.client, lot.id, 1000, k);
    assert.equal(again.replayed, true);
    assert.deepEqual(again.bid, first.bid);
    assert.equal(again.lot.bidCount, 1);
    // A retry from another connection of the same user (a reconnect) is recognised too.
    const second = connect(t, running, ann.token);
    const third = await bid(second, lot.id, 1000, k);
    assert.equal(third.replayed, true);
    assert.equal(running.app.auction.view(lot.id)!.bidCount, 1);
    assert.equal((await refusedWith(bid(ann.client, lot.id, 2000, k))).code, 'KEY_REUSED');
  });

  void test('seller-only data: the seller sees the reserve in the lot snapshot, nobody else does', T, async (t) => {
    const { running, lot, seller } = await setup(t);
    const ann = await person(t, running, 'Ann');
    const mine = await seller.client.request<{ reserve?: number }>('lot', { lot: lot.id });
    const theirs = await ann.client.request<{ reserve?: number }>('lot', { lot: lot.id });
    assert.equal(mine.reserve, 5000);
    assert.equal('reserve' in theirs, false);
  });
});

void describe('illegal input', () => {
  void test('every illegal bid is refused with a reason, the lot is unchanged and nobody else hears of it', T, async (t) => {
    const { running, lot, seller } = await setup(t);
    const ann = await person(t, running, 'Ann');
    const bob = await person(t, running, 'Bob');
    const anonymous = connect(t, running);
    const watcher = await new LotWatcher(bob.client, lot.id).ready();
    const bobInbox = notices(bob.client, bob.user);
    await bid(ann.client, lot.id, 1000);
    await until(() => watcher.state!.bidCount === 1);
    const before = JSON.stringify(running.app.auction.view(lot.id));
    const seen = watcher.messages;

    const ended = await createLot(seller.client, lotInput(50));
    await until(() => running.app.auction.view(ended.id)!.status !== 'open', 5000, 'the short lot to end');

    const cases: [string, () => Promise<unknown>, RegExp?][] = [
      ['NOT_SIGNED_IN', () => bid(anonymous, lot.id, 5000)],
      ['NO_SUCH_LOT', () => bid(bob.client, 999_999, 5000)],
      ['BID_TOO_LOW', () => bid(bob.client, lot.id, 1099), /\$11\.00/],
      ['BID_TOO_LOW', () => bid(bob.client, lot.id, 1000)],
      ['ALREADY_LEADING', () => bid(ann.client, lot.id, 9000)],
      ['OWN_LOT', () => bid(seller.client, lot.id, 9000)],
      ['BID_TOO_HIGH', () => bid(bob.client, lot.id, 1e12)],
      ['LOT_CLOSED', () => bid(bob.client, ended.id, 9000)],
      ['BAD_REQUEST', () => bid(bob.client, lot.id, 10.5)],
      ['BAD_REQUEST', () => bid(bob.client, lot.id, '5000')],
      ['BAD_REQUEST', () => bid(bob.client, lot.id, -100)],
      ['BAD_REQUEST', () => bid(bob.client, lot.id, 5000, 'short')],
      ['BAD_REQUEST', () => bid(bob.client, lot.id, 5000, null)],
      ['BAD_REQUEST', () => bid(bob.client, String(lot.id) as unknown as number, 5000)],
      ['BAD_REQUEST', () => bob.client.request('bid', 'not an object')],
      ['BAD_REQUEST', () => bob.client.request('bid', { lot: lot.id, amount: 5000, key: '<script>alert(1)</script>' })],
      ['BAD_REQUEST', () => bob.client.request('bid', { __proto__: { lot: lot.id, amount: 5000, key: 'abcdefghij' } })],
      ['UNKNOWN_METHOD', () => bob.client.request('setPrice', { lot: lot.id, price: 1 })],
      ['BAD_LOT', () => createLot(bob.client, lotInput(60_000, { image: 'javascript:alert(1)' })), /^image/],
      ['BAD_LOT', () => createLot(bob.client, lotInput(60_000, { startingPrice: -1 })), /^startingPrice/],
      ['BAD_LOT', () => createLot(bob.client, lotInput(-1000)), /^endsAt/],
      ['NOT_SIGNED_IN', () => createLot(anonymous, lotInput(60_000))],
      ['FORBIDDEN', () => bob.client.publish(`lot:${lot.id}`, { type: 'lot', lot: { price: 1 } }, { ack: true })],
      ['FORBIDDEN', () => bob.client.publish('lobby', { type: 'lot' }, { ack: true })],
    ];
    for (const [code, attempt, message] of cases) {
      const refusal = await refusedWith(attempt());
      assert.equal(refusal.code, code, `${code}: ${attempt.toString()}`);
      if (message !== undefined) assert.match(refusal.message, message);
      // Nothing private in a reason: no reserve, no other user's id or token.
      assert.equal(/5000|5,000|50\.00/.test(refusal.message) && code !== 'BID_TOO_HIGH', false, refusal.message);
      assert.equal(refusal.message.includes(ann.user) || refusal.message.includes(ann.token), false);
    }
    assert.equal(JSON.stringify(running.app.auction.view(lot.id)), before, 'the lot is unchanged');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(watcher.messages, seen, 'watchers heard nothing of the refused bids');
    assert.equal(bobInbox.length, 0);
    const created = running.app.auction.lobby().map((l) => l.id);
    assert.deepEqual(created.sort(), [lot.id, ended.id].sort(), 'no refused lot was created');
  });

  void test('sessions and pages over HTTP: bad names are refused, unknown tokens watch anonymously', T, async (t) => {
    const running = await startAuction(t);
    for (const body of ['{"name":""}', '{"name":"' + 'x'.repeat(40) + '"}', 'not json', '{}', 'x'.repeat(10_000)]) {
      const res = await fetch(`${running.base}/api/session`, { method: 'POST', body });
      assert.equal(res.status, 400, body.slice(0, 20));
      assert.equal(((await res.json()) as { code: string }).code, 'BAD_REQUEST');
    }
    assert.equal((await fetch(`${running.base}/api/session`)).status, 405);
    const stranger = connect(t, running, 'forged-token');
    await until(() => stranger.state === 'open');
    assert.equal(stranger.user, undefined);
    assert.equal((await refusedWith(createLot(stranger, lotInput(60_000)))).code, 'NOT_SIGNED_IN');
    // Page paths serve the app with its security headers; other paths do not exist.
    for (const path of ['/', '/sell', '/lots/12']) {
      const res = await fetch(`${running.base}${path}`);
      assert.equal(res.status, 200, path);
      const csp = res.headers.get('content-security-policy') ?? '';
      for (const directive of ["script-src 'self'", "connect-src 'self'", "style-src 'self'", "object-src 'none'", "base-uri 'self'", "frame-ancestors 'none'"]) {
        assert.ok(csp.split(/;\s*/).includes(directive), `${path}: ${directive} in ${csp}`);
      }
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.match(await res.text(), /<base href="\/auction\/">/);
    }
    assert.equal((await fetch(`${running.base}/lots/abc`)).status, 404);
    assert.equal((await fetch(`${running.base}/..%2f..%2fpackage.json`)).status, 404);
    assert.equal((await fetch(`${running.base}`, { redirect: 'manual' })).status, 308);
    // A WebSocket from another site's page is refused before the upgrade.
    const foreign = new WebSocket(running.wsUrl, 'parley.v1', { origin: 'https://evil.example' });
    const status = await new Promise<number>((resolve) => foreign.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    assert.equal(status, 403);
  });
});

void describe('rate limits', () => {
  void test('sessions per client address: past the burst 429 with Retry-After and RATE_LIMITED; each address its own bucket', T, async (t) => {
    // The host's view of the address (here a test header) decides, as trustProxy would.
    const running = await startAuction(t, { sessionRate: { perMinute: 1, burst: 2 }, clientAddress: (req) => String(req.headers['x-test-address'] ?? 'none') });
    const post = (address: string): Promise<Response> => fetch(`${running.base}/api/session`, { method: 'POST', headers: { 'X-Test-Address': address }, body: JSON.stringify({ name: 'Ann' }) });
    assert.equal((await post('10.0.0.1')).status, 201);
    assert.equal((await post('10.0.0.1')).status, 201);
    const refused = await post('10.0.0.1');
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '60', 'one session a minute: the next in 60 s');
    const body = (await refused.json()) as { code: string; message: string };
    assert.equal(body.code, 'RATE_LIMITED');
    assert.match(body.message, /try again in 60 s/);
    assert.equal((await post('10.0.0.2')).status, 201, 'another address is not held back');
  });

  void test('lots per seller over the real-time API: past the burst createLot is refused with RATE_LIMITED and nothing is announced', T, async (t) => {
    const running = await startAuction(t, { lotRate: { perMinute: 1, burst: 1 } });
    const seller = await person(t, running, 'Sam');
    const other = await person(t, running, 'Ann');
    await createLot(seller.client, lotInput(60_000));
    const refusal = await refusedWith(createLot(seller.client, lotInput(60_000)));
    assert.equal(refusal.code, 'RATE_LIMITED');
    assert.match(refusal.message, /try again in \d+ s/);
    await createLot(other.client, lotInput(60_000));
    assert.equal(running.app.auction.lobby().length, 2, 'the refused lot does not exist');
  });
});

void describe('slow and reconnecting watchers', () => {
  void test('a watcher that stops reading ends up at the current price (lot topics conflate)', T, async (t) => {
    const { running, lot } = await setup(t, { maxQueuedBytes: 1024 });
    const [ann, bob] = await Promise.all([person(t, running, 'Ann'), person(t, running, 'Bob')]);
    const slow = new WebSocket(running.wsUrl, 'parley.v1');
    t.after(() => slow.terminate());
    const got: { t: string; data?: { lot: LotView }; conflated?: boolean }[] = [];
    slow.on('message', (data) => got.push(JSON.parse((data as Buffer).toString()) as (typeof got)[number]));
    await new Promise((resolve) => slow.once('open', resolve));
    slow.send(JSON.stringify({ t: 'sub', id: 1, topic: `lot:${lot.id}` }));
    await until(() => got.some((e) => e.t === 'subok'));
    slow.pause();
    let amount = 1000;
    for (let i = 0; i < 150; i++) {
      await bid(i % 2 === 0 ? ann.client : bob.client, lot.id, amount);
      amount += 100;
    }
    const final = running.app.auction.view(lot.id)!;
    slow.resume();
    await until(() => got.filter((e) => e.t === 'msg').at(-1)?.data?.lot.rev === final.rev, 10_000, 'the slow watcher to catch up');
    const msgs = got.filter((e) => e.t === 'msg');
    assert.equal(msgs.at(-1)!.data!.lot.price, final.price);
    assert.equal(running.app.realtime.topicStats(`lot:${lot.id}`).policy, 'conflate');
    // Conflation (when the socket's queue passed the cap) only ever skips states, never reorders them.
    const revs = msgs.map((m) => m.data!.lot.rev);
    assert.deepEqual(revs, [...revs].sort((a, b) => a - b));
  });

  void test('a watcher whose connection is cut while bids continue reconnects to the current price', T, async (t) => {
    const { running, lot } = await setup(t);
    const [ann, bob] = await Promise.all([person(t, running, 'Ann'), person(t, running, 'Bob')]);
    const viewer = connect(t, running);
    const watcher = await new LotWatcher(viewer, lot.id).ready();
    await bid(ann.client, lot.id, 1000);
    await until(() => watcher.state!.bidCount === 1);
    for (const ws of running.app.realtime.clients ?? []) {
      if (ws.connectionId === viewer.connectionId) ws.terminate();
    }
    await bid(bob.client, lot.id, 1100);
    await bid(ann.client, lot.id, 1200);
    await until(() => watcher.state!.bidCount === 3, 5000, 'the reconnected watcher to catch up');
    assert.equal(watcher.state!.price, 1200);
    assert.ok(viewer.stats.reconnects >= 1);
  });
});

void describe('restart', () => {
  void test('a restart keeps every accepted bid, resumes the lots, and still recognises retried keys', T, async (t) => {
    const first = await startAuction(t);
    const seller = await person(t, first, 'Sam');
    const lot = await createLot(seller.client, lotInput(600_000));
    const short = await createLot(seller.client, lotInput(1500));
    const [ann, bob] = await Promise.all([person(t, first, 'Ann'), person(t, first, 'Bob')]);
    const watcher = await new LotWatcher(bob.client, lot.id).ready();
    const accepted: BidReceipt[] = [];
    const keysUsed: string[] = [];
    for (let i = 0; i < 10; i++) {
      const k = key();
      keysUsed.push(k);
      accepted.push(await bid(i % 2 === 0 ? ann.client : bob.client, lot.id, 1000 + i * 100, k));
    }
    await bid(ann.client, short.id, 1000);
    const before = first.app.auction.view(lot.id)!;
    await first.stop();

    // The same data directory, the same port, a fresh adapter: as after a process restart.
    const second = await startAuction(t, { dataDir: first.dataDir, port: first.port });
    const after = second.app.auction.view(lot.id)!;
    assert.deepEqual(after, before, 'every accepted bid is back');
    assert.deepEqual(after.recentBids.map((b) => b.id).reverse(), accepted.map((r) => r.bid.id));
    // The connected clients come back by themselves; the watcher gets the state again.
    await until(() => bob.client.state === 'open' && bob.client.stats.reconnects >= 1, 10_000, 'the reconnect');
    await until(() => watcher.state!.bidCount === 10, 5000);
    // A bid retried after the restart with its original key is not applied twice.
    const retry = await bid(bob.client, lot.id, 1900, keysUsed[9]);
    assert.equal(retry.replayed, true);
    assert.equal(retry.bid.id, accepted[9]!.bid.id);
    // The lots run on: new bids, and the short lot ends on its stored end time.
    await bid(ann.client, lot.id, 2000);
    await until(() => watcher.state!.bidCount === 11, 5000, 'a bid after the restart');
    await until(() => second.app.auction.view(short.id)!.status === 'sold', 5000, 'the short lot to end after the restart');
  });

  void test('a lot that ended while the server was down is closed at start', T, async (t) => {
    const first = await startAuction(t);
    const seller = await person(t, first, 'Sam');
    // Long enough for the sign-in and bid on a loaded machine; the wait below is to its end.
    const lot = await createLot(seller.client, lotInput(1500));
    const ann = await person(t, first, 'Ann');
    await bid(ann.client, lot.id, 1000);
    first.app.auction.stop(); // no timer ends it while "down"
    await first.stop();
    await new Promise((r) => setTimeout(r, Math.max(0, lot.endsAt - Date.now()) + 100));
    const second = await startAuction(t, { dataDir: first.dataDir });
    assert.equal(second.app.auction.view(lot.id)!.status, 'sold');
  });
});

void test('the host\'s settings.antiSnipeMs is the anti-sniping rule, an antiSnipe option wins over it, and a bad one is refused naming the setting', async (t) => {
  const now = 1_000_000;
  const seller = { user: 'sam', name: 'Sam' };
  const ann = { user: 'ann', name: 'Ann' };
  /** Where a lot with 2 s left ends after a bid, on an app made with `settings` and `options`. */
  const endAfterBid = async (settings: AppContext['settings'], options: AuctionAppOptions = {}): Promise<number> => {
    const app = createAuction(
      { basePath: '/auction', dataDir: tempDataDir(t), adapter: new InMemoryAdapter(), webRoot: WEB_ROOT, log: () => {}, ...(settings !== undefined ? { settings } : {}) },
      { now: () => now, lotLimits: { minDurationMs: 0, maxDurationMs: 86_400_000 }, ...options },
    );
    try {
      const lot = await app.auction.createLot(seller, { ...lotInput(0), endsAt: now + 2000 });
      return (await app.auction.bid(ann, lot.id, 1000, key())).lot.endsAt;
    } finally {
      await app.close();
    }
  };
  assert.equal(await endAfterBid(undefined), now + 30_000, 'the rules\' default without the setting');
  assert.equal(await endAfterBid({ antiSnipeMs: 5000 }), now + 5000);
  assert.equal(await endAfterBid({ antiSnipeMs: 1000 }), now + 2000, 'more than the window left: not extended');
  assert.equal(await endAfterBid({ antiSnipeMs: 0 }), now + 2000, '0: off');
  assert.equal(await endAfterBid({ antiSnipeMs: 5000 }, { antiSnipe: { windowMs: 0, extendMs: 0 } }), now + 2000, 'the option wins');
  for (const bad of [-1, 1.5, 3_600_001, '5000']) {
    await assert.rejects(endAfterBid({ antiSnipeMs: bad }), (e: unknown) => e instanceof RangeError && e.message.startsWith('auction.antiSnipeMs must be a whole number of ms from 0 to 3600000, got ') && e.message.endsWith('(from the host\'s app settings)'), String(bad));
  }
});
