/**
 * Connection settings: documented defaults, the checks that turn bad values into
 * TypeError/RangeError, and the settings' effect on live connections (maxPayload, autoPong,
 * skipUTF8Validation).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import { DEFAULT_SETTINGS, resolveHeartbeat, resolveSettings } from '../../src/node/settings.js';
import { collect, openClient, quietFor, startServer, until, waitFor } from './helpers.js';

void describe('defaults and validation', () => {
  void test('documented defaults, frozen', () => {
    assert.equal(DEFAULT_SETTINGS.maxPayload, 100 * 1024 * 1024);
    assert.equal(DEFAULT_SETTINGS.skipUTF8Validation, false);
    assert.equal(DEFAULT_SETTINGS.autoPong, true);
    assert.equal(DEFAULT_SETTINGS.maxBufferedAmount, 64 * 1024 * 1024);
    assert.equal(DEFAULT_SETTINGS.bufferOverflow, 'close');
    assert.equal(DEFAULT_SETTINGS.closeTimeout, 30_000);
    assert.ok(DEFAULT_SETTINGS.maxFragments > 0);
    assert.equal(Object.isFrozen(DEFAULT_SETTINGS), true);
    assert.deepEqual(resolveSettings({}), { ...DEFAULT_SETTINGS });
  });

  void test('given values pass through, 0 included', () => {
    const s = resolveSettings({ maxPayload: 0, maxFragments: 3, skipUTF8Validation: true, autoPong: false, maxBufferedAmount: 0, bufferOverflow: 'refuse', closeTimeout: 5 });
    assert.deepEqual(s, { maxPayload: 0, maxFragments: 3, skipUTF8Validation: true, autoPong: false, maxBufferedAmount: 0, bufferOverflow: 'refuse', closeTimeout: 5 });
  });

  void test('negative, NaN, infinite or non-number sizes → RangeError naming the option', () => {
    for (const name of ['maxPayload', 'maxFragments', 'maxBufferedAmount', 'closeTimeout'] as const) {
      for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
        assert.throws(() => resolveSettings({ [name]: bad }), (e: unknown) => e instanceof RangeError && e.message.includes(name), `${name} = ${String(bad)}`);
      }
    }
  });

  void test("bufferOverflow other than 'close'/'refuse' → TypeError", () => {
    assert.throws(() => resolveSettings({ bufferOverflow: 'x' as 'close' }), TypeError);
    assert.throws(() => resolveSettings({ bufferOverflow: '' as 'close' }), TypeError);
  });

  void test('heartbeat: timeout defaults to interval; interval must be above 0', () => {
    assert.equal(resolveHeartbeat(undefined), undefined);
    assert.deepEqual(resolveHeartbeat({ interval: 250 }), { interval: 250, timeout: 250 });
    assert.deepEqual(resolveHeartbeat({ interval: 250, timeout: 10 }), { interval: 250, timeout: 10 });
    assert.throws(() => resolveHeartbeat({ interval: 0 }), RangeError);
    assert.throws(() => resolveHeartbeat({ interval: -5 }), RangeError);
    assert.throws(() => resolveHeartbeat({ interval: 10, timeout: Number.NaN }), RangeError);
  });

  void test('the constructors check settings before doing any I/O', async (t) => {
    const { wss, url } = await startServer(t);
    let connections = 0;
    wss.on('connection', () => { connections++; });
    assert.throws(() => new WebSocket(url, { maxPayload: -1 }), RangeError);
    assert.throws(() => new WebSocket(url, { closeTimeout: -1 }), RangeError);
    assert.throws(() => new WebSocket(url, { bufferOverflow: 'later' as 'close' }), TypeError);
    assert.throws(() => new WebSocketServer({ noServer: true, closeTimeout: Number.NaN }), RangeError);
    assert.equal(await quietFor(wss, 'connection', 100), true);
    assert.equal(connections, 0);
  });
});

void describe('settings on live connections', () => {
  void test('server maxPayload: a message one byte over is refused with 1009; one at the limit passes', async (t) => {
    const { wss, url } = await startServer(t, { maxPayload: 16 });
    const connected = waitFor<[WebSocket]>(wss, 'connection');
    const client = await openClient(t, url);
    const got = collect((await connected)[0]);
    client.send(Buffer.alloc(16));
    await until(() => got.length === 1);
    const closed = waitFor<[number]>(client, 'close');
    client.send('x'.repeat(17));
    assert.equal((await closed)[0], 1009);
    assert.equal(got.length, 1);
  });

  void test('client maxPayload: a too-large message from the server closes with 1009', async (t) => {
    const { wss, url } = await startServer(t);
    const connected = waitFor<[WebSocket]>(wss, 'connection');
    const client = await openClient(t, url, undefined, { maxPayload: 1000 });
    const [server] = await connected;
    const errors: Error[] = [];
    client.on('error', (e) => errors.push(e));
    const closed = waitFor<[number]>(server, 'close');
    server.send(Buffer.alloc(1001));
    assert.equal((await closed)[0], 1009);
    assert.equal((errors[0] as { code?: string } | undefined)?.code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
  });

  void test('maxPayload 0 means no limit', async (t) => {
    const { wss, url } = await startServer(t, { maxPayload: 0 });
    const connected = waitFor<[WebSocket]>(wss, 'connection');
    const client = await openClient(t, url);
    const got = collect((await connected)[0]);
    client.send(Buffer.alloc(2 * 1024 * 1024, 1));
    await until(() => got.length === 1, 5000);
    assert.equal((got[0]?.[0] as Buffer).length, 2 * 1024 * 1024);
  });

  void test('autoPong false: pings are reported but not answered', async (t) => {
    const { wss, url } = await startServer(t);
    const connected = waitFor<[WebSocket]>(wss, 'connection');
    const client = await openClient(t, url, undefined, { autoPong: false });
    const [server] = await connected;
    const pinged = waitFor<[Buffer]>(client, 'ping');
    const noPong = quietFor(server, 'pong', 200);
    server.ping('are you there');
    assert.equal((await pinged)[0].toString(), 'are you there');
    assert.equal(await noPong, true);
  });

  void test('autoPong false with a server heartbeat: the silent client is terminated', async (t) => {
    const { url } = await startServer(t, { heartbeat: { interval: 100, timeout: 100 } });
    const client = await openClient(t, url, undefined, { autoPong: false });
    const [code] = await waitFor<[number]>(client, 'close', 1500);
    assert.equal(code, 1006);
  });

  void test('invalid UTF-8 text: closed with 1007 by default, delivered with skipUTF8Validation', async (t) => {
    const strict = await startServer(t);
    const client = await openClient(t, strict.url);
    const closed = waitFor<[number]>(client, 'close');
    client.send(Buffer.from([0x68, 0xff, 0x69]), { binary: false });
    assert.equal((await closed)[0], 1007);

    const lax = await startServer(t, { skipUTF8Validation: true });
    const connected = waitFor<[WebSocket]>(lax.wss, 'connection');
    const client2 = await openClient(t, lax.url);
    const got = collect((await connected)[0]);
    client2.send(Buffer.from([0x68, 0xff, 0x69]), { binary: false });
    await until(() => got.length === 1);
    assert.deepEqual([...(got[0]?.[0] as Buffer)], [0x68, 0xff, 0x69]);
    assert.equal(got[0]?.[1], false);
  });
});
