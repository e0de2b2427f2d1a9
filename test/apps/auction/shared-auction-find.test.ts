/**
 * SharedAuction.find: a lot this node has not heard of yet (its creation's notification still on
 * the way) is read from PostgreSQL, so a page opened on a new lot's link on another node may
 * subscribe; a lot that does not exist stays unknown. Real PostgreSQL; skipped without it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PgAuctionStore } from '../../../src/apps/auction/pg-store.js';
import { SharedAuction } from '../../../src/apps/auction/shared-auction.js';
import { needDatabase } from './cluster-helpers.js';

void test('find reads a lot the notification has not brought yet; an unknown id stays unknown', { timeout: 30_000 }, async (t) => {
  const database = await needDatabase(t, false);
  if (database === undefined) return;
  const store = await PgAuctionStore.open(database.url, { node: 'find-node' });
  t.after(() => store.close());
  const published: string[] = [];
  const auction = await SharedAuction.start(store, (topic) => { published.push(topic); });
  t.after(() => auction.stop());
  const now = Date.now();
  // Written without pg_notify: as this node sees a lot whose notification has not arrived.
  const { rows } = await database.db.query<{ id: number }>(
    `INSERT INTO auction_lots (seller, seller_name, title, description, image, starting_price, increment, reserve, created_at, ends_at)
     VALUES ('s1', 'Sam', 'Pocket watch', '', 'illustration:camera', 1000, 100, 0, $1, $2) RETURNING id`,
    [now, now + 60_000],
  );
  const id = Number(rows[0]!.id);
  assert.equal(auction.has(id), false, 'not heard of yet');
  assert.equal(await auction.find(id), true);
  assert.equal(auction.has(id), true, 'kept once found');
  assert.equal(auction.view(id)?.title, 'Pocket watch');
  assert.ok(published.includes('lobby'), 'announced to the lobby as a notification would have');
  assert.equal(await auction.find(id + 1000), false);
});
