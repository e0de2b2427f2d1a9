/**
 * The SQLite store: sessions by token (only a hash kept), lots and bids that survive reopening
 * the file, a bid and its lot's new end time written together, and the idempotency key unique
 * per user.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { AuctionStore } from '../../../src/apps/auction/store.js';
import type { LotSpec } from '../../../src/apps/auction/rules.js';

const T0 = 1_800_000_000_000;
const SPEC: LotSpec = { title: 'Clock', description: 'Ticks', image: 'illustration:camera', startingPrice: 100, increment: 10, reserve: 500, endsAt: T0 + 60_000 };

function tempFile(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'auction-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'auction.sqlite');
}

void test('sessions: a token maps to its user and name; the file holds only its hash', (t) => {
  const file = tempFile(t);
  const store = new AuctionStore(file);
  const ann = store.createSession('Ann', T0);
  const bob = store.createSession('Bob', T0);
  assert.notEqual(ann.user, bob.user);
  assert.notEqual(ann.token, bob.token);
  assert.match(ann.user, /^[A-Za-z0-9_-]+$/, 'user ids are valid in topic names');
  assert.deepEqual(store.session(ann.token), { user: ann.user, name: 'Ann' });
  assert.equal(store.session('not-a-token'), undefined);
  store.close();
  assert.equal(readFileSync(file).includes(Buffer.from(ann.token)), false);
  const again = new AuctionStore(file);
  assert.deepEqual(again.session(bob.token), { user: bob.user, name: 'Bob' });
  again.close();
});

void test('lots and bids survive closing and reopening the file, in bid order', (t) => {
  const file = tempFile(t);
  const store = new AuctionStore(file);
  const lot = store.createLot(SPEC, { user: 'u1', name: 'Sam' }, T0);
  const other = store.createLot({ ...SPEC, title: 'Lamp' }, { user: 'u1', name: 'Sam' }, T0);
  assert.equal(lot.status, 'open');
  const b1 = store.recordBid({ lot: lot.id, user: 'u2', name: 'Ann', amount: 100, at: T0 + 1, key: 'key-0001' }, SPEC.endsAt);
  const b2 = store.recordBid({ lot: other.id, user: 'u2', name: 'Ann', amount: 100, at: T0 + 2, key: 'key-0002' }, SPEC.endsAt);
  const b3 = store.recordBid({ lot: lot.id, user: 'u3', name: 'Bob', amount: 110, at: T0 + 3, key: 'key-0001' }, SPEC.endsAt + 5000);
  assert.ok(b1.id < b2.id && b2.id < b3.id);
  store.setStatus(other.id, 'sold');
  store.close();

  const reopened = new AuctionStore(file);
  const lots = reopened.loadLots();
  assert.deepEqual(lots.map((l) => [l.id, l.title, l.status]), [[lot.id, 'Clock', 'open'], [other.id, 'Lamp', 'sold']]);
  assert.deepEqual(lots[0]!.bids, [b1, b3]);
  assert.equal(lots[0]!.endsAt, SPEC.endsAt + 5000, 'the extension is stored with the bid');
  assert.equal(lots[0]!.reserve, 500);
  assert.deepEqual(lots[1]!.bids, [b2]);
  assert.deepEqual(reopened.bidByKey('u3', 'key-0001'), b3);
  assert.equal(reopened.bidByKey('u3', 'key-0002'), undefined);
  reopened.close();
});

void test('a repeated (user, key) is refused and the transaction leaves nothing behind', (t) => {
  const store = new AuctionStore(tempFile(t));
  const lot = store.createLot(SPEC, { user: 'u1', name: 'Sam' }, T0);
  store.recordBid({ lot: lot.id, user: 'u2', name: 'Ann', amount: 100, at: T0, key: 'same-key' }, SPEC.endsAt);
  assert.throws(() => store.recordBid({ lot: lot.id, user: 'u2', name: 'Ann', amount: 200, at: T0, key: 'same-key' }, SPEC.endsAt + 99_000));
  const [loaded] = store.loadLots();
  assert.equal(loaded!.bids.length, 1);
  assert.equal(loaded!.endsAt, SPEC.endsAt, 'the end time of the failed bid was rolled back');
  // The store is still usable after the rollback.
  store.recordBid({ lot: lot.id, user: 'u3', name: 'Bob', amount: 110, at: T0, key: 'same-key' }, SPEC.endsAt);
  assert.equal(store.loadLots()[0]!.bids.length, 2);
  store.close();
});

void test('a bid for a lot that does not exist is refused by the foreign key', (t) => {
  const store = new AuctionStore(tempFile(t));
  assert.throws(() => store.recordBid({ lot: 99, user: 'u2', name: 'Ann', amount: 100, at: T0, key: 'k-000001' }, T0));
  assert.deepEqual(store.loadLots(), []);
  store.close();
});

void test('a process killed (SIGKILL) right after its commits loses none of them', (t) => {
  const file = tempFile(t);
  const storeModule = new URL('../../../src/apps/auction/store.js', import.meta.url).href;
  // The child acknowledges each bid on stdout after recordBid returns, as the server would,
  // then dies without closing anything: the write-ahead log is all that is left.
  const child = `
    const { AuctionStore } = await import(${JSON.stringify(storeModule)});
    const store = new AuctionStore(${JSON.stringify(file)});
    const lot = store.createLot(${JSON.stringify(SPEC)}, { user: 'u1', name: 'Sam' }, 0);
    for (let i = 0; i < 25; i++) {
      const bid = store.recordBid({ lot: lot.id, user: 'u' + (2 + (i % 2)), name: 'x', amount: 100 + i * 10, at: i, key: 'kill-key-' + i }, 0);
      process.stdout.write('acked ' + bid.id + '\\n');
    }
    process.kill(process.pid, 'SIGKILL');
  `;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', child], { encoding: 'utf8' });
  assert.equal(result.signal, 'SIGKILL', result.stderr);
  const acked = result.stdout.trim().split('\n').map((line) => Number(line.split(' ')[1]));
  assert.equal(acked.length, 25);
  const store = new AuctionStore(file);
  const [lot] = store.loadLots();
  assert.deepEqual(lot!.bids.map((b) => b.id), acked);
  assert.equal(lot!.bids.at(-1)!.amount, 340);
  store.close();
});

void test('a database another live process holds is refused; one held by a dead process is taken over', (t) => {
  const file = tempFile(t);
  new AuctionStore(file).close();
  // A lock left by a process that still runs (this test's parent, say) is respected…
  mkdirSync(`${file}.lock`);
  writeFileSync(`${file}.owner`, String(process.ppid));
  assert.throws(() => new AuctionStore(file), /in use by process/);
  // …and one whose owner is gone is stale.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeFileSync(`${file}.owner`, dead.stdout);
  const store = new AuctionStore(file);
  assert.throws(() => new AuctionStore(file), /already open in this process/);
  store.close();
});
