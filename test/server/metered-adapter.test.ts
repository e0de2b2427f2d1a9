/**
 * The metered adapter counts what the engine did with each delivery, conflation included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PubSub } from '../../src/pubsub/pubsub.js';
import { InMemoryAdapter } from '../../src/pubsub/adapter.js';
import { MeteredAdapter } from '../../src/server/metered-adapter.js';
import { Totals } from '../../src/server/metrics.js';
import { FakeSubscriber } from '../pubsub/fakes.js';

void test('publishes, deliveries, holds and conflation replacements are counted', (t) => {
  const totals = new Totals();
  const ps = new PubSub({ adapter: new MeteredAdapter(new InMemoryAdapter(), totals), topics: () => ({ policy: 'conflate', maxQueuedBytes: 100 }) });
  t.after(() => ps.close());
  const fast = new FakeSubscriber();
  const slow = new FakeSubscriber();
  ps.subscribe(fast, 'prices');
  ps.subscribe(slow, 'prices');
  void ps.publish('prices', 1, { key: 'a' });
  slow.bufferedAmount = 1000;
  void ps.publish('prices', 2, { key: 'a' }); // held for slow
  void ps.publish('prices', 3, { key: 'b' }); // held for slow
  void ps.publish('prices', 4, { key: 'a' }); // replaces 2 for slow
  void ps.publish('prices', 5, { key: 'a' }); // replaces 4 for slow
  assert.equal(totals.publishes, 5);
  assert.equal(totals.deliveries, 6, 'five to the fast subscriber, one to the slow one');
  assert.equal(totals.held, 4);
  assert.equal(totals.conflated, 2);
  assert.equal(totals.dropped, 0);
  assert.equal(ps.topicStats('prices').conflated, totals.conflated);
});
