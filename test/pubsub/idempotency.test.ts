import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENTRY_OVERHEAD, IdempotencyCache, type ClaimResult, type EncodedReply } from '../../src/pubsub/idempotency.js';

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

  void test('bounded in total: past maxEntries or maxBytes the oldest outcomes of any user go first', () => {
    const cache = new IdempotencyCache({ maxEntries: 10 });
    for (let u = 0; u < 20; u++) for (let i = 0; i < 5; i++) run(cache.claim(`u${u}`, i, 'f', () => {})).claim.settle('ok');
    assert.equal(cache.size, 10);
    assert.equal(cache.users, 2, 'the two newest users');
    assert.equal(cache.claim('u19', 4, 'f', () => {}).state, 'replayed');
    run(cache.claim('u0', 0, 'f', () => {}));
    const reply = 'r'.repeat(1000);
    const small = new IdempotencyCache({ maxBytes: 10 * (ENTRY_OVERHEAD + 1000 + 10) });
    for (let i = 0; i < 100; i++) run(small.claim(`c${i}`, 1, 'f', () => {})).claim.settle(reply);
    assert.ok(small.bytes <= 10 * (ENTRY_OVERHEAD + 1000 + 10), `bytes ${small.bytes}`);
    assert.ok(small.size >= 9 && small.size <= 10, `size ${small.size}`);
    assert.throws(() => new IdempotencyCache({ maxEntries: 0 }), RangeError);
  });

  void test('release answers the waiters and forgets the id; forget drops a user', () => {
    const cache = new IdempotencyCache();
    const first = run(cache.claim('u', 1, 'f', () => {}));
    const replies: EncodedReply[] = [];
    assert.equal(cache.claim('u', 1, 'f', (r) => replies.push(r)).state, 'waiting');
    first.claim.release('err');
    assert.deepEqual(replies, ['err']);
    assert.equal(cache.size, 0);
    assert.equal(cache.bytes, 0);
    run(cache.claim('u', 1, 'f', () => {})).claim.settle('ok');
    run(cache.claim('v', 1, 'f', () => {})).claim.settle('ok');
    cache.forget('u');
    assert.equal(cache.size, 1);
    assert.equal(cache.users, 1);
    run(cache.claim('u', 1, 'f', () => {}));
  });
});
