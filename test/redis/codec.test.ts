import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { decodeEntry, encodeBody, encodePresence } from '../../src/redis/codec.js';
import { TopicMessage } from '../../src/pubsub/message.js';

/** What the publish script prepends, done here by hand. */
function entry(epoch: string, offset: number, time: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`m\n${epoch}\n${offset}\n${time}\n`), body]);
}

function roundTrip(data: unknown, options: { key?: string; binary?: boolean } = {}): TopicMessage {
  const original = new TopicMessage('room:1', data, options);
  const decoded = decodeEntry('room:1', entry('E1', 7, 1234, encodeBody(original, 'node:1')));
  assert.equal(decoded.kind, 'm');
  if (decoded.kind !== 'm') throw new Error('unreachable');
  assert.equal(decoded.publishId, 'node:1');
  const m = decoded.message();
  assert.equal(m.epoch, 'E1');
  assert.equal(m.offset, 7);
  assert.equal(m.time, 1234);
  assert.equal(m.key, options.key);
  assert.deepEqual(m.rawFrame().payload, original.rawFrame().payload, 'plain subscribers get the same frame');
  assert.equal(m.rawFrame().binary, original.rawFrame().binary);
  return m;
}

void describe('redis codec', () => {
  void test('a string, with newlines and non-ASCII, survives as a string', () => {
    const m = roundTrip('line 1\nline 2 — é ☃');
    assert.equal(m.string, 'line 1\nline 2 — é ☃');
  });

  void test('JSON data survives as the same JSON text', () => {
    const m = roundTrip({ a: [1, 2, { b: 'x\ny' }], n: null });
    assert.equal(m.json, '{"a":[1,2,{"b":"x\\ny"}],"n":null}');
  });

  void test('bytes survive byte for byte, including newlines and zeros', () => {
    const bytes = Buffer.from([0, 10, 255, 10, 109, 10, 0]);
    const m = roundTrip(bytes);
    assert.deepEqual(Buffer.from(m.bytes!), bytes);
  });

  void test('a conflation key (with a newline in it) and the binary flag survive', () => {
    roundTrip('text sent as binary', { key: 'k\ney', binary: true });
    roundTrip(Buffer.from('bytes as text'), { key: '', binary: false });
  });

  void test('presence entries carry the member', () => {
    const decoded = decodeEntry('t', Buffer.from(encodePresence('leave', { user: 'u\n1', conn: 'c.1', info: { name: 'Ann' } })));
    assert.deepEqual(decoded, { kind: 'p', event: 'leave', member: { user: 'u\n1', conn: 'c.1', info: { name: 'Ann' } } });
  });

  void test('gap entries (as the RESET script publishes them) carry the new epoch and the node', () => {
    assert.deepEqual(decodeEntry('t', Buffer.from('g\nE2\nnode-1')), { kind: 'g', epoch: 'E2', node: 'node-1' });
  });

  void test('bytes that are not an entry are rejected, not mis-delivered', () => {
    for (const bad of ['', 'hello', 'g\n', 'g\n\nnode', 'm\nE\n', 'm\nE\nx\n1\nid\nj-\nnull', 'm\nE\n0\n1\nid\nj-\nnull', 'm\nE\n1\n1\nid\nq-\nnull', 'm\nE\n1\n1\nid\nt-99\nshort', 'p\nwave\n{}', 'p\njoin\n{"user":1}']) {
      assert.throws(() => decodeEntry('t', Buffer.from(bad)), TypeError, JSON.stringify(bad));
    }
  });
});
