/** Fuzz (CI budget): the streaming UTF-8 validator against TextDecoder. See test/fuzz/properties/utf8.ts. */
import { test } from 'node:test';
import { utf8Properties } from './properties/utf8.js';
import { runInTest } from './property.js';

for (const p of utf8Properties) {
  void test(`${p.name}: ${p.description}`, { timeout: 120_000 }, () => runInTest(p));
}
