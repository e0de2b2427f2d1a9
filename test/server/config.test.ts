/**
 * The configuration: defaults < file < environment < flags, errors that name the setting and
 * where the bad value came from, unknown keys in the file, checks across settings, secrets kept
 * out of `--print-config`; and the CLI reading it all (`parley serve --print-config`, errors on
 * stderr with exit status 2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, SCHEMA, SETTINGS, defaultConfig, loadConfig, readConfigFile, redactConfig, type ServerConfig } from '../../src/server/config.js';
import { configFrom } from '../../src/cli/serve.js';
import { runCli } from '../cli/helpers.js';

void test('the embedded defaults: port 8080 on 127.0.0.1, memory adapter, API off, anonymous auto', () => {
  const { config, sources } = loadConfig();
  assert.equal(config.port, 8080);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.cluster.adapter, 'memory');
  assert.deepEqual(config.api.keys, []);
  assert.equal(config.auth.anonymous, 'auto');
  assert.deepEqual(config.auth.publicSubscribe, ['public:*']);
  assert.equal(config.shutdown.closeCode, 1012);
  assert.ok(Object.values(sources).every((s) => s === 'default'));
});

void test('precedence: file over defaults, environment over file, flags over environment', () => {
  const { config, sources } = loadConfig({
    file: { path: 'parley.json', data: { port: 9000, host: '0.0.0.0', limits: { maxConnections: 5, slowConsumerPolicy: 'close' }, api: { keys: ['from-the-file-0123456'] } } },
    env: { PARLEY_PORT: '9001', PARLEY_MAX_CONNECTIONS: '6', PARLEY_TRUST_PROXY: 'yes' },
    flags: { port: '9002', apps: 'auction, poker' },
  });
  assert.equal(config.port, 9002);
  assert.equal(sources.port, 'flag --port');
  assert.equal(config.limits.maxConnections, 6);
  assert.equal(sources['limits.maxConnections'], 'environment PARLEY_MAX_CONNECTIONS');
  assert.equal(config.host, '0.0.0.0');
  assert.equal(sources.host, 'file parley.json');
  assert.equal(config.limits.slowConsumerPolicy, 'close');
  assert.equal(config.trustProxy, true);
  assert.deepEqual(config.apps, ['auction', 'poker']);
  assert.deepEqual(config.api.keys, ['from-the-file-0123456']);
  assert.equal(config.limits.messageBurst, 2000); // untouched: still the default
});

void test('every error names the setting and its source, and all are reported at once', () => {
  assert.throws(() => loadConfig({
    file: { path: '/etc/parley.json', data: { port: 'eighty', limts: { maxConnections: 1 }, metrics: { enabled: 'yes' } } },
    env: { PARLEY_MAX_CONNECTIONS: '0', PARLEY_SHUTDOWN_CLOSE_CODE: '1000' },
    flags: { 'slow-consumer-policy': 'fast', 'messages-per-second': 'lots' },
  }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.deepEqual(error.problems, [
      "unknown setting 'limts' in /etc/parley.json",
      'port must be an integer from 0 to 65535, got "eighty" (from file /etc/parley.json)',
      'limits.maxConnections must be at least 1, got "0" (from environment PARLEY_MAX_CONNECTIONS)',
      'limits.messagesPerSecond must be a number, got "lots" (from flag --messages-per-second)',
      'limits.slowConsumerPolicy must be one of drop, conflate, close, got "fast" (from flag --slow-consumer-policy)',
      'metrics.enabled must be true or false, got "yes" (from file /etc/parley.json)',
      'shutdown.closeCode must be 1001 or 1012, got "1000" (from environment PARLEY_SHUTDOWN_CLOSE_CODE)',
    ]);
    return true;
  });
});

void test('auction.antiSnipeMs: 30 s by default; a bad value from any source is refused naming the setting and the source', () => {
  assert.equal(loadConfig().config.auction.antiSnipeMs, 30_000);
  const { config, sources } = loadConfig({ env: { PARLEY_AUCTION_ANTI_SNIPE_MS: '0' } });
  assert.equal(config.auction.antiSnipeMs, 0, '0 turns anti-sniping off');
  assert.equal(sources['auction.antiSnipeMs'], 'environment PARLEY_AUCTION_ANTI_SNIPE_MS');
  assert.equal(loadConfig({ flags: { 'auction-anti-snipe-ms': '3600000' } }).config.auction.antiSnipeMs, 3_600_000);
  const problems = (inputs: Parameters<typeof loadConfig>[0]): readonly string[] => {
    try {
      loadConfig(inputs);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  };
  assert.deepEqual(problems({ env: { PARLEY_AUCTION_ANTI_SNIPE_MS: '30s' } }), ['auction.antiSnipeMs must be an integer, got "30s" (from environment PARLEY_AUCTION_ANTI_SNIPE_MS)']);
  assert.deepEqual(problems({ flags: { 'auction-anti-snipe-ms': '-1' } }), ['auction.antiSnipeMs must be at least 0, got "-1" (from flag --auction-anti-snipe-ms)']);
  assert.deepEqual(problems({ flags: { 'auction-anti-snipe-ms': '3600001' } }), ['auction.antiSnipeMs must be at most 3600000, got "3600001" (from flag --auction-anti-snipe-ms)']);
  assert.deepEqual(problems({ file: { path: 'parley.json', data: { auction: { antiSnipeMs: 1.5 } } } }), ['auction.antiSnipeMs must be an integer, got 1.5 (from file parley.json)']);
});

void test('checks across settings: short secrets, both key sources, bad algorithms, app names, patterns', () => {
  assert.throws(() => loadConfig({
    env: { PARLEY_JWT_SECRET: 'short', PARLEY_JWT_PUBLIC_KEY: 'x', PARLEY_JWT_PUBLIC_KEY_FILE: '/k.pem', PARLEY_JWT_ALGORITHMS: 'none', PARLEY_API_KEYS: 'tiny', PARLEY_APPS: 'Auction' },
    flags: { 'public-subscribe': 'a*b' },
  }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    const text = error.problems.join('\n');
    for (const expected of ['auth.jwtPublicKey', 'auth.jwtSecret must be at least 32 characters', "unsupported algorithm 'none'", 'api.keys[0] must be at least 16', "'Auction' is not an app name", "topic pattern 'a*b'"]) {
      assert.ok(text.includes(expected), `missing: ${expected}\n${text}`);
    }
    // A secret's value is never echoed in an error.
    assert.ok(!text.includes('tiny') && !text.includes('short'));
    return true;
  });
});

void test('a secret with a wrong type is not printed in the error', () => {
  assert.throws(() => loadConfig({ file: { path: 'f.json', data: { api: { keys: 'do-not-print-me' } } } }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /api\.keys must be a list of strings, got \(a secret value\) \(from file f\.json\)/);
    assert.ok(!error.message.includes('do-not-print-me'));
    return true;
  });
});

void test('config files: unreadable and invalid JSON are errors naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-config-'));
  try {
    assert.throws(() => readConfigFile(join(dir, 'missing.json')), /cannot read config file .*missing\.json: ENOENT/);
    writeFileSync(join(dir, 'bad.json'), '{ port: 1 }');
    assert.throws(() => readConfigFile(join(dir, 'bad.json')), /bad\.json is not valid JSON/);
    writeFileSync(join(dir, 'ok.json'), JSON.stringify({ port: 1234 }));
    assert.equal(configFrom(['--config', join(dir, 'ok.json')], {}).config.port, 1234);
    assert.equal(configFrom([], { PARLEY_CONFIG: join(dir, 'ok.json') }).config.port, 1234);
    assert.throws(() => loadConfig({ file: { path: 'x', data: [1] } }), /must hold a JSON object/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('bare boolean flags and the redacted view', () => {
  const { config } = configFrom(['--trust-proxy', '--metrics=false', '--api-keys', 'k1-0123456789abcdef,k2-0123456789abcdef'], {});
  assert.equal(config.trustProxy, true);
  assert.equal(config.metrics.enabled, false);
  // trustProxy also takes a number of proxies.
  assert.equal(configFrom(['--trust-proxy', '2'], {}).config.trustProxy, 2);
  assert.equal(configFrom([], { PARLEY_TRUST_PROXY: '3' }).config.trustProxy, 3);
  assert.equal(configFrom([], { PARLEY_TRUST_PROXY: 'false' }).config.trustProxy, false);
  assert.throws(() => configFrom(['--trust-proxy=-1'], {}), /trustProxy must be true, false or a number/);
  const shown = redactConfig(config) as { api: { keys: string[]; hmacSecrets: string[] } };
  assert.deepEqual(shown.api.keys, ['[redacted]', '[redacted]']);
  assert.deepEqual(shown.api.hmacSecrets, []);
  assert.deepEqual(config.api.keys, ['k1-0123456789abcdef', 'k2-0123456789abcdef']);
});

void test('the redacted view keeps a Redis URL but its credentials', () => {
  const plain = redactConfig(defaultConfig()) as { cluster: { redisUrl: string } };
  assert.equal(plain.cluster.redisUrl, 'redis://127.0.0.1:6379');
  const { config } = configFrom(['--redis-url', 'rediss://app:hunter2-secret@cache.internal:6380/2'], {});
  const shown = redactConfig(config) as { cluster: { redisUrl: string } };
  assert.equal(shown.cluster.redisUrl, 'rediss://[redacted]@cache.internal:6380/2');
  const bare = configFrom(['--redis-url', 'redis://:only-a-password@10.0.0.5:6379'], {}).config;
  assert.equal((redactConfig(bare) as { cluster: { redisUrl: string } }).cluster.redisUrl, 'redis://[redacted]@10.0.0.5:6379');
});

void test('the config type and the loaded config both follow the one table: every setting at its path, with its default', () => {
  // Compile-time half: the derived type carries each kind's value type (a wrong one fails the build).
  const level: ServerConfig['log']['level'] = 'debug';
  // @ts-expect-error -- not a log level: the enum's values are the type
  const notALevel: ServerConfig['log']['level'] = 'loud';
  const anonymous: ServerConfig['auth']['anonymous'] = 'auto';
  // @ts-expect-error -- a port is a number, not text
  const textPort: ServerConfig['port'] = '8080';
  void [level, notALevel, anonymous, textPort];
  // Run-time half: the loader builds exactly the table's shape, nothing more.
  const config = defaultConfig() as unknown as Record<string, Record<string, unknown>>;
  const paths = SETTINGS.map((s) => s.path);
  assert.equal(new Set(paths).size, paths.length);
  for (const s of SETTINGS) {
    const [group, key] = s.path.split('.');
    const value = key === undefined ? config[group!] : config[group!]?.[key];
    if (s.path !== 'apps') assert.deepEqual(value, s.default, s.path);
  }
  const leaves = Object.entries(config).flatMap(([k, v]) => (typeof v === 'object' && !Array.isArray(v) ? Object.keys(v).map((c) => `${k}.${c}`) : [k]));
  assert.deepEqual(leaves.sort(), [...paths].sort());
  assert.equal(SCHEMA.limits.slowConsumerPolicy.values?.join(','), 'drop,conflate,close');
});

void test('every setting has a distinct environment variable and flag', () => {
  assert.equal(new Set(SETTINGS.map((s) => s.env)).size, SETTINGS.length);
  assert.equal(new Set(SETTINGS.map((s) => s.flag)).size, SETTINGS.length);
  assert.ok(SETTINGS.every((s) => s.env.startsWith('PARLEY_')));
  // Every default passes its own validation.
  assert.equal(defaultConfig().port, 8080);
});

void test('parley serve --print-config prints the effective values with secrets redacted; sources on stderr', async (t) => {
  const result = await runCli(t, ['serve', '--print-config', '--port', '9100', '--api-keys', 'a-secret-api-key-0123']);
  assert.equal(result.code, 0, result.stderr);
  const printed = JSON.parse(result.stdout) as { port: number; api: { keys: string[] } };
  assert.equal(printed.port, 9100);
  assert.deepEqual(printed.api.keys, ['[redacted]']);
  assert.ok(!result.stdout.includes('a-secret-api-key-0123'));
  assert.match(result.stderr, /# port: flag --port/);
});

void test('parley serve with a bad setting exits 2 and says which setting and why', async (t) => {
  const result = await runCli(t, ['serve', '--port', '70000']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /port must be an integer from 0 to 65535, got "70000" \(from flag --port\)/);
  const unknown = await runCli(t, ['serve', '--no-such-flag']);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, "parley serve: unknown option '--no-such-flag'\nRun 'parley serve --help' for its options.\n");
  const typo = await runCli(t, ['serve', '--prot', '8080']);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /^parley serve: unknown option '--prot' \(did you mean --port\?\)\n/);
  const negative = await runCli(t, ['serve', '--port', '-1']);
  assert.equal(negative.code, 2);
  assert.match(negative.stderr, /port must be an integer from 0 to 65535, got "-1" \(from flag --port\)/);
  const help = await runCli(t, ['serve', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--max-connections VALUE +WebSocket connections at once; more get HTTP 503 \[PARLEY_MAX_CONNECTIONS\]/);
});
