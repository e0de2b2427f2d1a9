/** Fuzz (CI budget): handshake and extension header parsers against reference grammars. See test/fuzz/properties/handshake.ts. */
import { test } from 'node:test';
import { handshakeProperties } from './properties/handshake.js';
import { runInTest } from './property.js';

for (const p of handshakeProperties) {
  void test(`${p.name}: ${p.description}`, { timeout: 120_000 }, () => runInTest(p));
}
