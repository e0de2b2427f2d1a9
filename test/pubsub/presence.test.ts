import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Presence } from '../../src/pubsub/presence.js';

void describe('Presence', () => {
  void test('join on a user\'s first connection only; leave on their last only (two tabs)', () => {
    const p = new Presence();
    assert.deepEqual(p.join('room', { user: 'alice', conn: 'c1', info: { tab: 1 } }), { event: 'join', member: { user: 'alice', conn: 'c1', info: { tab: 1 } } });
    assert.equal(p.join('room', { user: 'alice', conn: 'c2', info: { tab: 2 } }), undefined, 'second tab: no event');
    assert.deepEqual(p.connections('room', 'alice'), ['c1', 'c2']);
    assert.equal(p.leave('room', 'alice', 'c1'), undefined, 'one tab left: still present');
    assert.deepEqual(p.members('room'), [{ user: 'alice', conn: 'c2', info: { tab: 2 } }]);
    assert.deepEqual(p.leave('room', 'alice', 'c2'), { event: 'leave', member: { user: 'alice', conn: 'c2', info: { tab: 2 } } });
    assert.deepEqual(p.members('room'), []);
    assert.equal(p.count('room'), 0);
  });

  void test('members: one per user, earliest connection first; topics are independent', () => {
    const p = new Presence();
    p.join('a', { user: 'u1', conn: 'x', info: 1 });
    p.join('a', { user: 'u2', conn: 'y', info: 2 });
    p.join('a', { user: 'u1', conn: 'z', info: 3 });
    p.join('b', { user: 'u3', conn: 'w' });
    assert.deepEqual(p.members('a'), [{ user: 'u1', conn: 'x', info: 1 }, { user: 'u2', conn: 'y', info: 2 }]);
    assert.deepEqual(p.members('b'), [{ user: 'u3', conn: 'w', info: undefined }]);
    assert.equal(p.count('a'), 2);
    assert.deepEqual(p.members('none'), []);
  });

  void test('joining again with the same connection updates its info without an event', () => {
    const p = new Presence();
    p.join('a', { user: 'u', conn: 'c', info: 'old' });
    assert.equal(p.join('a', { user: 'u', conn: 'c', info: 'new' }), undefined);
    assert.deepEqual(p.members('a'), [{ user: 'u', conn: 'c', info: 'new' }]);
  });

  void test('leaving what was never joined is not an event', () => {
    const p = new Presence();
    assert.equal(p.leave('a', 'u', 'c'), undefined);
    p.join('a', { user: 'u', conn: 'c' });
    assert.equal(p.leave('a', 'u', 'other'), undefined);
    assert.equal(p.leave('a', 'v', 'c'), undefined);
    assert.equal(p.count('a'), 1);
  });
});
