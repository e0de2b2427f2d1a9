/** Fuzz (CI budget): the Node layer's receive path end to end. See test/fuzz/properties/node-receive.ts. */
import { test } from 'node:test';
import { nodeReceiveProperties } from './properties/node-receive.js';
import { runInTest } from './property.js';

for (const p of nodeReceiveProperties) {
  void test(`${p.name}: ${p.description}`, { timeout: 120_000 }, () => runInTest(p));
}
