/**
 * Hosting apps: each configured app is created with its context (prefix, its own data directory,
 * its own adapter, its web root under the package's dist/web, a log sink), gets the requests
 * and upgrades under its prefix, and is closed with the shutdown code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InMemoryAdapter } from '../../src/index.js';
import type { AppContext, AppFactory, ParleyApp } from '../../src/server/app.js';
import { defaultConfig } from '../../src/server/config.js';
import { startServer } from '../../src/server/serve.js';
import { LogCapture, request, serve, upgradeRequest } from './helpers.js';

/** A recording app: answers GET <prefix>/hello, refuses upgrades, remembers how it was closed. */
function recordingApp(contexts: AppContext[], closes: Array<number | undefined>): AppFactory {
  return (context) => {
    contexts.push(context);
    context.log('info', { msg: 'app started', where: context.basePath });
    const app: ParleyApp = {
      name: context.basePath.slice(1),
      title: 'Test app',
      description: 'records what the host does',
      handleRequest(req, res) {
        if (req.url !== `${context.basePath}/hello`) return false;
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`hello from ${context.basePath}`);
        return true;
      },
      handleUpgrade: () => false,
      close(code) {
        closes.push(code);
        return Promise.resolve();
      },
    };
    return app;
  };
}

void test('apps are mounted at /<name> with their own data directory, their own adapter and a web root', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-apps-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const contexts: AppContext[] = [];
  const closes: Array<number | undefined> = [];
  const adapter = new InMemoryAdapter();
  const factories = new Map([['alpha', recordingApp(contexts, closes)], ['beta', recordingApp(contexts, closes)]]);
  const s = await serve(t, { apps: ['alpha', 'beta'], dataDir: join(dataDir, 'state') }, { apps: factories, adapter });

  assert.deepEqual(contexts.map((c) => c.basePath), ['/alpha', '/beta']);
  assert.notEqual(contexts[0]!.adapter, contexts[1]!.adapter);
  for (const c of contexts) {
    assert.equal(c.dataDir, join(dataDir, 'state', c.basePath.slice(1)));
    assert.ok(existsSync(c.dataDir), 'data directory created');
    // Not the server's adapter: an app's topics are out of reach of /ws and the HTTP API.
    assert.notEqual(c.adapter, adapter);
    assert.ok(c.adapter instanceof InMemoryAdapter);
    assert.ok(c.sockets !== undefined, 'the host gives its pipeline');
    // Relative to the package (dist/web/<name>), not to the working directory.
    assert.equal(c.webRoot, fileURLToPath(new URL(`../../web${c.basePath}`, import.meta.url)));
  }
  assert.equal((await request(s.port, 'GET', '/alpha/hello')).text, 'hello from /alpha');
  assert.equal((await request(s.port, 'GET', '/beta/hello')).text, 'hello from /beta');
  assert.equal((await request(s.port, 'GET', '/beta/nothing')).status, 404);
  assert.equal((await upgradeRequest(s.port, '/alpha/ws')).status, 404);
  const index = await request(s.port, 'GET', '/');
  assert.match(index.text, /href="\/alpha\/"/);
  assert.ok(s.logs.lines.some((l) => l.app === 'alpha' && l.msg === 'app started'));

  await s.handle.close({ code: 1001 });
  assert.deepEqual(closes, [1001, 1001]);
});

void test('an unknown app name fails the start with the names available', async () => {
  const config = defaultConfig({ port: 0, apps: ['nope'], log: { level: 'silent' } });
  await assert.rejects(startServer(config, { apps: new Map(), logDestination: new LogCapture() }), /apps: unknown app 'nope' \(available: none\)/);
});

void test('an app that fails to start fails the start, and the apps already started are closed', async () => {
  const contexts: AppContext[] = [];
  const closes: Array<number | undefined> = [];
  const factories = new Map<string, AppFactory>([
    ['good', recordingApp(contexts, closes)],
    ['bad', () => { throw new Error('no database'); }],
  ]);
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-apps-'));
  try {
    const config = defaultConfig({ port: 0, apps: ['good', 'bad'], dataDir, log: { level: 'silent' } });
    await assert.rejects(startServer(config, { apps: factories, logDestination: new LogCapture() }), /no database/);
    assert.deepEqual(closes, [1001]);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
