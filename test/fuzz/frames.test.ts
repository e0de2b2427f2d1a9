/** Fuzz (CI budget): the frame parser against a reference decoder. See test/fuzz/properties/frames.ts. */
import { test } from 'node:test';
import { frameProperties } from './properties/frames.js';
import { runInTest } from './property.js';

for (const p of frameProperties) {
  void test(`${p.name}: ${p.description}`, { timeout: 120_000 }, () => runInTest(p));
}
