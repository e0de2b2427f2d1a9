/** Fuzz (CI budget): the permessage-deflate inflate path. See test/fuzz/properties/inflate.ts. */
import { test } from 'node:test';
import { inflateProperties } from './properties/inflate.js';
import { runInTest } from './property.js';

for (const p of inflateProperties) {
  void test(`${p.name}: ${p.description}`, { timeout: 120_000 }, () => runInTest(p));
}
