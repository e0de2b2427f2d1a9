/**
 * The operator's guide and the examples stay true to the code: every setting is documented with
 * its default, variable and flag; every metric the server exports is listed; the sample config
 * loads without a single problem; the systemd unit runs `serve` and waits longer than the drain.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SETTINGS, loadConfig } from '../../src/server/config.js';
import { request, serve } from './helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const guide = readFileSync(`${root}docs/operations.md`, 'utf8');

void test('docs/operations.md lists every setting with its default, environment variable and flag', () => {
  for (const s of SETTINGS) {
    const row = guide.split('\n').find((line) => line.startsWith(`| \`${s.path}\` |`));
    assert.ok(row !== undefined, `no row for ${s.path}`);
    const cells = row.split(' | ').map((c) => c.replace(/^\| /, '').replace(/ \|$/, ''));
    assert.equal(cells[2], `\`${s.env}\``, `${s.path}: environment variable`);
    assert.equal(cells[3], `\`--${s.flag}\``, `${s.path}: flag`);
    if (s.path !== 'apps') {
      const d = Array.isArray(s.default) ? (s.default.length > 0 ? s.default.join(',') : '(empty)') : s.default === '' ? '(empty)' : String(s.default);
      assert.equal(cells[1], `\`${d}\``, `${s.path}: default`);
    }
  }
});

void test('docs/operations.md\'s settings table is the schema: no row without a setting, in the schema\'s order, and every secret named as one', () => {
  const table = guide.slice(guide.indexOf('### Every setting'));
  const lines = table.split('\n');
  const first = lines.findIndex((line) => line.startsWith('| setting |'));
  const end = lines.findIndex((line, i) => i > first && !line.startsWith('|'));
  const rows = lines.slice(first + 2, end);
  const documented = rows.map((line) => /^\| `([a-zA-Z.]+)` \|/.exec(line)![1]!);
  assert.deepEqual(documented, SETTINGS.map((s) => s.path));
  const secrets = /^Secrets \(([^)]*)\)/m.exec(table)?.[1] ?? '';
  const named = [...secrets.matchAll(/`([a-zA-Z.]+)`/g)].map((m) => m[1]!).sort();
  assert.deepEqual(named, SETTINGS.filter((s) => s.secret === true).map((s) => s.path).sort());
});

void test('docs/operations.md lists every parley_ metric the server exports', async (t) => {
  const s = await serve(t);
  const text = (await request(s.port, 'GET', '/metrics')).text;
  const names = new Set([...text.matchAll(/^# TYPE (parley_\w+)/gm)].map((m) => m[1]!));
  assert.ok(names.size >= 15);
  for (const name of names) assert.ok(guide.includes(`\`${name}\``), `${name} is not documented`);
});

void test('examples/parley.config.json is a valid configuration', () => {
  const data = JSON.parse(readFileSync(`${root}examples/parley.config.json`, 'utf8')) as unknown;
  const { config, sources } = loadConfig({ file: { path: 'examples/parley.config.json', data } });
  assert.equal(config.cluster.adapter, 'memory');
  assert.equal(sources['limits.maxConnections'], 'file examples/parley.config.json');
});

void test('examples/parley.service runs serve, stops with SIGTERM and waits longer than the drain', () => {
  const unit = readFileSync(`${root}examples/parley.service`, 'utf8');
  const value = (key: string): string | undefined => unit.split('\n').find((l) => l.startsWith(`${key}=`))?.slice(key.length + 1);
  assert.match(value('ExecStart') ?? '', /dist\/src\/cli\/main\.js serve$/);
  assert.equal(value('KillSignal'), 'SIGTERM');
  const sample = JSON.parse(readFileSync(`${root}examples/parley.config.json`, 'utf8')) as { shutdown: { timeoutMs: number } };
  assert.ok(Number(value('TimeoutStopSec')) * 1000 > sample.shutdown.timeoutMs + 5000);
  assert.match(value('EnvironmentFile') ?? '', /parley\.env$/);
});
