import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { httpModule, httpsModule } from '../../src/node/node-http.js';

/** Runs `code` as an ES module in a fresh Node process and returns whether undici got loaded. */
function loadsUndici(code: string): boolean {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', `${code}\nprocess.stdout.write(String(process.moduleLoadList.some((m) => m.includes('undici'))));`], { encoding: 'utf8' });
  assert.match(out, /^(true|false)$/);
  return out === 'true';
}

void describe('node-http: node:http and node:https without undici', () => {
  void test('the modules are Node\'s own', () => {
    const load = createRequire(import.meta.url);
    assert.equal(httpModule, load('node:http'));
    assert.equal(httpsModule, load('node:https'));
    assert.equal(typeof httpModule.createServer, 'function');
    assert.equal(typeof httpsModule.request, 'function');
  });

  void test('importing parley, parley/node, the pub/sub engine, the real-time binding or the server behind `parley serve` does not load undici (an ES import of node:http does on Node 22+)', () => {
    const esmImportLoads = loadsUndici("await import('node:http');");
    // The check itself: on the Node versions with the lazy getters it sees undici come in.
    if (Number(process.versions.node.split('.')[0]) >= 24) assert.equal(esmImportLoads, true, 'the probe did not see undici load from an ES import of node:http');
    for (const entry of ['../../src/index.js', '../../src/node/index.js', '../../src/pubsub/index.js', '../../src/realtime/index.js', '../../src/server/serve.js']) {
      const url = new URL(entry, import.meta.url).href;
      assert.equal(loadsUndici(`await import(${JSON.stringify(url)});`), false, `${entry} loaded undici`);
    }
  });
});
