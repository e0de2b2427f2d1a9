/** Fuzz (CI budget): permessage-deflate negotiation, both roles. See test/fuzz/properties/negotiation.ts. */
import { test } from 'node:test';
import { negotiationProperties } from './properties/negotiation.js';
import { runInTest } from './property.js';

for (const p of negotiationProperties) {
  void test(`${p.name}: ${p.description}`, { timeout: 120_000 }, () => runInTest(p));
}
