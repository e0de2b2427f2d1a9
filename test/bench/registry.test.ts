/**
 * The workload registry (bench/workloads/registry.ts): names and family prefixes select
 * workloads, and a `--quick` run leaves out the ones marked too slow for CI unless named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectWorkloads } from '../../bench/workloads/registry.js';

const names = (list: ReadonlyArray<{ name: string }>): string[] => list.map((w) => w.name);

void test('the ws-loop broadcast workloads are registered and selected by their family', () => {
  assert.deepEqual(names(selectWorkloads(['broadcast-loop'])), ['broadcast-loop-100', 'broadcast-loop-1000']);
  assert.ok(names(selectWorkloads([])).includes('broadcast-loop-1000'));
});

void test('--quick leaves out broadcast-loop-1000 unless it is named', () => {
  const quick = names(selectWorkloads([], true));
  assert.ok(quick.includes('broadcast-loop-100'));
  assert.ok(!quick.includes('broadcast-loop-1000'));
  assert.ok(quick.includes('broadcast-1000'), 'the existing workloads all stay');
  assert.deepEqual(names(selectWorkloads(['broadcast-loop-1000'], true)), ['broadcast-loop-1000']);
});
