/**
 * `PubSub.gap` (AdapterNode): an adapter reports that a topic's messages may be lost on this
 * node; every `parley.v1` subscriber must hear `gap` (to resubscribe with `since`), including one
 * whose subscription is still starting, which hears it right after its `subok`.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PubSub } from '../../src/pubsub/pubsub.js';
import { FakeSubscriber } from './fakes.js';

void describe('PubSub.gap', () => {
  void test('live parley.v1 subscribers get one gap envelope; plain ones and other topics get nothing', () => {
    const engine = new PubSub();
    const v1 = new FakeSubscriber(true);
    const plain = new FakeSubscriber(false);
    const elsewhere = new FakeSubscriber(true);
    engine.subscribe(v1, 'room');
    engine.subscribe(plain, 'room');
    engine.subscribe(elsewhere, 'other');
    engine.gap('room');
    assert.deepEqual(v1.envelopesReceived(), [{ t: 'gap', topic: 'room' }]);
    assert.equal(plain.frames.length, 0);
    assert.equal(elsewhere.frames.length, 0);
    engine.gap('unknown-topic');
    assert.equal(v1.frames.length, 1);
    engine.close();
  });

  void test('a subscription still held hears the gap when it goes live, after what it was sent first', () => {
    const engine = new PubSub();
    const sub = new FakeSubscriber(true);
    engine.subscribe(sub, 'room', { hold: true });
    engine.gap('room');
    assert.equal(sub.frames.length, 0, 'nothing before activation');
    engine.activate(sub, 'room');
    assert.deepEqual(sub.envelopesReceived(), [{ t: 'gap', topic: 'room' }]);
    engine.close();
  });
});
