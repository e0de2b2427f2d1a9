/**
 * The server's options checked at construction: exactly one mode, values in range, `ws`'s
 * defaults where `ws` exposes them.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { WebSocketServer } from '../../src/index.js';
import { WebSocket } from '../../src/node/websocket.js';
import { DEFAULT_HANDSHAKE_TIMEOUT, resolveServerOptions } from '../../src/node/server-options.js';

void describe('WebSocketServer options validation', () => {
  void test('exactly one of port, server, noServer: none or two → TypeError', () => {
    const server = http.createServer();
    assert.throws(() => new WebSocketServer({}), TypeError);
    assert.throws(() => new WebSocketServer({ noServer: false }), TypeError);
    assert.throws(() => new WebSocketServer({ port: 0, noServer: true }), TypeError);
    assert.throws(() => new WebSocketServer({ port: 0, server }), TypeError);
    assert.throws(() => new WebSocketServer({ server, noServer: true }), TypeError);
    assert.equal(server.listening, false);
  });

  void test('bad values: negative maxPayload → RangeError, bufferOverflow x → TypeError, perMessageDeflate true → TypeError', () => {
    assert.throws(() => new WebSocketServer({ noServer: true, maxPayload: -1 }), RangeError);
    assert.throws(() => new WebSocketServer({ noServer: true, maxBufferedAmount: Number.NaN }), RangeError);
    assert.throws(() => new WebSocketServer({ noServer: true, bufferOverflow: 'x' as 'close' }), TypeError);
    assert.throws(() => new WebSocketServer({ noServer: true, handshakeTimeout: 0 }), RangeError);
    assert.throws(() => new WebSocketServer({ noServer: true, heartbeat: { interval: 0 } }), RangeError);
    // perMessageDeflate: false and a valid set of options are fine.
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 0, bufferOverflow: 'refuse' });
    assert.equal(wss.options.clientTracking, true);
    wss.close();
  });
});

void describe('resolveServerOptions', () => {
  void test("defaults: clientTracking on, no compression, no heartbeat, a 10 s handshake deadline, the Node layer's WebSocket class", () => {
    const given = { noServer: true };
    const setup = resolveServerOptions(given);
    assert.equal(setup.options.clientTracking, true);
    assert.notEqual(setup.options, given, "the caller's object is not changed");
    assert.equal('clientTracking' in given, false);
    assert.equal(setup.deflate, undefined);
    assert.equal(setup.heartbeat, undefined);
    assert.equal(DEFAULT_HANDSHAKE_TIMEOUT, 10_000);
    assert.equal(setup.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT);
    assert.equal(setup.Ctor, WebSocket);
  });

  void test('given values are resolved: compression settings, heartbeat timings, the connection class, clientTracking false kept', () => {
    class Mine extends WebSocket {}
    const setup = resolveServerOptions({ noServer: true, clientTracking: false, perMessageDeflate: { threshold: 0 }, heartbeat: { interval: 500 }, handshakeTimeout: 50, WebSocket: Mine });
    assert.equal(setup.options.clientTracking, false);
    assert.equal(setup.deflate?.threshold, 0);
    assert.deepEqual(setup.heartbeat, { interval: 500, timeout: 500 });
    assert.equal(setup.handshakeTimeout, 50);
    assert.equal(setup.Ctor, Mine);
  });

  void test("the mode is checked first, with ws's message, before any value", () => {
    assert.throws(() => resolveServerOptions({ maxPayload: -1 }), /^TypeError: One and only one of the "port", "server", or "noServer" options must be specified$/);
    assert.throws(() => resolveServerOptions({ noServer: true, perMessageDeflate: { threshold: -1 }, handshakeTimeout: 0 }), /threshold/);
  });
});
