/**
 * Hosted apps: unknown names fail before anything starts; apps start in order with their own
 * context; closing closes each (a failing close is logged, not thrown).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directSockets, type AppContext, type AppFactory } from '../../src/server/app.js';
import { defaultConfig } from '../../src/server/config.js';
import { checkAppNames, hostedApps } from '../../src/server/hosted-apps.js';
import { createLogger } from '../../src/server/logger.js';
import { LogCapture } from './helpers.js';

const app = (name: string, closes: Array<[string, number | undefined]>, failClose = false): AppFactory => () => ({
  name,
  title: name,
  description: name,
  handleRequest: () => false,
  handleUpgrade: () => false,
  close: (code) => {
    closes.push([name, code]);
    return failClose ? Promise.reject(new Error(`${name} cannot close`)) : Promise.resolve();
  },
});

void test('checkAppNames names the unknown app and the available ones', () => {
  const factories = new Map([['a', app('a', [])]]);
  checkAppNames(['a'], factories);
  assert.throws(() => checkAppNames(['a', 'b'], factories), /apps: unknown app 'b' \(available: a\)/);
});

void test('start creates the apps in order under /<name>; close closes each with the code and logs a failure', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-hosted-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const closes: Array<[string, number | undefined]> = [];
  const logs = new LogCapture();
  const apps = hostedApps({
    names: ['b', 'a'],
    factories: new Map([['a', app('a', closes)], ['b', app('b', closes, true)]]),
    dataDir,
    cluster: defaultConfig().cluster,
    log: createLogger('info', logs),
    clientAddress: () => '127.0.0.1',
    sockets: directSockets,
  });
  assert.equal(apps.apps.size, 0, 'nothing before start');
  await apps.start();
  assert.deepEqual([...apps.apps.keys()], ['/b', '/a']);
  await apps.close(1012);
  assert.deepEqual(closes.sort(), [['a', 1012], ['b', 1012]]);
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(logs.lines.some((l) => l.msg === 'app failed to close'));
});

void test('each app gets its own settings and database URL from the server\'s config, and nothing of another app\'s', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-hosted-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const contexts = new Map<string, AppContext>();
  const recording = (name: string): AppFactory => (context) => {
    contexts.set(name, context);
    return app(name, [])(context);
  };
  const apps = hostedApps({
    names: ['auction', 'poker'],
    factories: new Map([['auction', recording('auction')], ['poker', recording('poker')]]),
    databaseUrls: { auction: 'postgres://db/auction' },
    settings: { auction: { antiSnipeMs: 5000 } },
    dataDir,
    cluster: defaultConfig().cluster,
    log: createLogger('silent', new LogCapture()),
    clientAddress: () => '127.0.0.1',
    sockets: directSockets,
  });
  await apps.start();
  t.after(() => apps.close(1001));
  assert.deepEqual(contexts.get('auction')!.settings, { antiSnipeMs: 5000 });
  assert.equal(contexts.get('auction')!.databaseUrl, 'postgres://db/auction');
  assert.equal('settings' in contexts.get('poker')!, false);
  assert.equal('databaseUrl' in contexts.get('poker')!, false);
});
