/**
 * The profile summary puts each sample's self time in the bucket of the code it ran in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketOf, summarize } from '../../bench/profile-summary.js';

void test('bucketOf tells library code, Node areas, native functions and V8 pseudo-frames apart', () => {
  assert.equal(bucketOf('(idle)', ''), 'idle');
  assert.equal(bucketOf('(garbage collector)', ''), 'garbage collector');
  assert.match(bucketOf('(program)', ''), /^\(program\)/);
  assert.match(bucketOf('writeBuffer', ''), /^native functions/);
  assert.equal(bucketOf('receive', 'file:///work/main/dist/src/protocol/receiver.js'), 'library: parley');
  assert.equal(bucketOf('getInfo', 'file:///work/main/node_modules/ws/lib/receiver.js'), 'library: ws');
  assert.equal(bucketOf('receive', 'file:///work/main/dist/bench/servers/floor-connection.js'), 'library: floor');
  assert.equal(bucketOf('collectStats', 'file:///work/main/dist/bench/servers/echo-server.js'), 'bench server harness');
  assert.equal(bucketOf('addChunk', 'node:internal/streams/readable'), 'node: streams');
  assert.equal(bucketOf('onStreamRead', 'node:internal/stream_base_commons'), 'node: net, stream_base');
  assert.equal(bucketOf('Socket._writeGeneric', 'node:net'), 'node: net, stream_base');
  assert.equal(bucketOf('parserOnIncoming', 'node:_http_server'), 'node: http');
  assert.equal(bucketOf('emit', 'node:events'), 'node: events, timers, ticks');
  assert.equal(bucketOf('FastBuffer', 'node:internal/buffer'), 'node: other');
});

void test('summarize charges each time delta to the sample it precedes and sums per bucket', () => {
  const profile = {
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '' } },
      { id: 2, callFrame: { functionName: 'writeBuffer', url: '' } },
      { id: 3, callFrame: { functionName: 'receive', url: 'file:///x/dist/src/protocol/receiver.js' } },
      { id: 4, callFrame: { functionName: '(idle)', url: '' } },
    ],
    samples: [2, 3, 2, 4, 3],
    timeDeltas: [100, 40, 60, 500, -5],
  };
  const totals = summarize(profile);
  assert.equal(totals.get('native functions (socket reads and writes, system calls)'), 160);
  assert.equal(totals.get('library: parley'), 40, 'a negative delta (clock step) counts as 0');
  assert.equal(totals.get('idle'), 500);
});
