/** Fuzz (CI budget): the parley.v1 envelope decoder. See test/fuzz/properties/envelope.ts. */
import { test } from 'node:test';
import { envelopeProperties } from './properties/envelope.js';
import { runInTest } from './property.js';

for (const p of envelopeProperties) {
  void test(`${p.name}: ${p.description}`, { timeout: 120_000 }, () => runInTest(p));
}
