import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { IdempotencyCache, type ClaimResult, type EncodedReply } from '../../src/pubsub/idempotency.js';

function run(result: ClaimResult): Extract<ClaimResult, { state: 'run' }> {
  if (result.state !== 'run') assert.fail(`expected run, got ${result.state}`);
  return result;
}

void describe('IdempotencyCache', () => {
  void test('first claim runs; a repeat after settling replays the same reply', () => {
    const cache = new IdempotencyCache();
    const first = run(cache.claim('u', 'id1', 'pub t', () => assert.fail('no replay for the first')));
    first.claim.settle('{"t":"ok","id":"id1","offset":7}');
    const replies: EncodedReply[] = [];
    assert.equal(cache.claim('u', 'id1', 'pub t', (r) => replies.push(r)).state, 'replayed');
    assert.deepEqual(replies, ['{"t":"ok","id":"id1","offset":7}']);
  });

  void test('a repeat while the first runs waits for its outcome', () => {
    const cache = new IdempotencyCache();
    const first = run(cache.claim('u', 1, 'req m', () => {}));
    const replies: EncodedReply[] = [];
    assert.equal(cache.claim('u', 1, 'req m', (r) => replies.push(r)).state, 'waiting');
    assert.deepEqual(replies, []);
    first.claim.settle('done');
    assert.deepEqual(replies, ['done']);
  });

  void test('ids are per user, "1" is not 1, and a different request with a used id is a conflict', () => {
    const cache = new IdempotencyCache();
    run(cache.claim('u', 1, 'pub a', () => {})).claim.settle('x');
    run(cache.claim('v', 1, 'pub a', () => {}));
    run(cache.claim('u', '1', 'pub a', () => {}));
    assert.equal(cache.claim('u', 1, 'pub b', () => {}).state, 'conflict');
    assert.equal(cache.claim('u', 1, 'req a', () => {}).state, 'conflict');
  });

  void test('outcomes expire after the ttl; at most maxPerUser ids per user are kept', () => {
    let now = 0;
    const cache = new IdempotencyCache({ ttl: 100, maxPerUser: 3, now: () => now });
    run(cache.claim('u', 'a', 'f', () => {})).claim.settle('A');
    now = 101;
    run(cache.claim('u', 'a', 'f', () => {}));
    for (const id of ['b', 'c', 'd']) run(cache.claim('u', id, 'f', () => {})).claim.settle(id);
    run(cache.claim('u', 'a', 'f', () => {}));
    assert.equal(cache.claim('u', 'd', 'f', () => {}).state, 'replayed');
  });

  void test('sweep forgets expired outcomes and empty users', () => {
    let now = 0;
    const cache = new IdempotencyCache({ ttl: 10, now: () => now });
    run(cache.claim('u', 'a', 'f', () => {})).claim.settle('A');
    run(cache.claim('v', 'a', 'f', () => {})).claim.settle('A');
    assert.equal(cache.users, 2);
    now = 11;
    cache.sweep();
    assert.equal(cache.users, 0);
  });
});
