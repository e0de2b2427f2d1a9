import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TopicStream } from '../../src/client/topic-stream.js';

void test('verdicts: next delivers, seen is a duplicate, a skip or a new epoch is a gap, not live is ignored', () => {
  const s = new TopicStream('t', undefined);
  assert.equal(s.accept('e1', 1), 'ignore');
  assert.equal(s.subscribed('e1', 5, undefined), 'fresh');
  assert.deepEqual(s.position, { epoch: 'e1', offset: 5 });
  assert.equal(s.accept('e1', 5), 'duplicate');
  assert.equal(s.accept('e1', 6), 'deliver');
  assert.equal(s.accept('e1', 6), 'duplicate');
  assert.equal(s.accept('e1', 3), 'duplicate');
  assert.equal(s.accept('e1', 8), 'gap');
  assert.deepEqual(s.position, { epoch: 'e1', offset: 6 }, 'a gap does not move the position');
  assert.equal(s.accept('e2', 7), 'gap');
  assert.equal(s.accept('e1', 7), 'deliver');
});

void test('subok after since: recovered keeps the position, not recovered moves it to the server', () => {
  const s = new TopicStream('t', undefined);
  s.subscribed('e1', 10, undefined);
  s.accept('e1', 11);
  s.disconnected();
  assert.equal(s.live, false);
  s.pendingSince = true;
  assert.equal(s.subscribed('e1', 20, true), 'recovered');
  assert.deepEqual(s.position, { epoch: 'e1', offset: 11 });
  s.pendingSince = true;
  assert.equal(s.subscribed('e2', 3, false), 'reset');
  assert.deepEqual(s.position, { epoch: 'e2', offset: 3 });
  s.pendingSince = true;
  assert.equal(s.subscribed('e3', 0, undefined), 'reset', 'no "recovered" after since counts as not recovered');
});
