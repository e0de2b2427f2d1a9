/**
 * resolvePerMessageDeflate: `ws`'s `perMessageDeflate` option (true, false, or options) checked
 * at construction into the settings every connection shares.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CONCURRENCY_LIMIT, DEFAULT_THRESHOLD, resolvePerMessageDeflate, type PerMessageDeflateOptions } from '../../src/node/deflate-options.js';

void describe('resolvePerMessageDeflate', () => {
  void test('off (undefined or false) gives no settings', () => {
    assert.equal(resolvePerMessageDeflate(undefined), undefined);
    assert.equal(resolvePerMessageDeflate(false), undefined);
  });

  void test("true takes ws's defaults: threshold 1024, concurrencyLimit 10, nothing asked in the negotiation", () => {
    const s = resolvePerMessageDeflate(true)!;
    assert.equal(DEFAULT_THRESHOLD, 1024);
    assert.equal(DEFAULT_CONCURRENCY_LIMIT, 10);
    assert.equal(s.threshold, DEFAULT_THRESHOLD);
    assert.equal(s.concurrencyLimit, DEFAULT_CONCURRENCY_LIMIT);
    assert.deepEqual(s.negotiation, { serverNoContextTakeover: undefined, clientNoContextTakeover: undefined, serverMaxWindowBits: undefined, clientMaxWindowBits: undefined });
    assert.deepEqual(s.zlibDeflateOptions, {});
    assert.deepEqual(s.zlibInflateOptions, {});
  });

  void test('options are kept, negotiation fields apart, zlib options copied so later edits do not leak in', () => {
    const zlibDeflateOptions = { level: 3 };
    const o: PerMessageDeflateOptions = { serverNoContextTakeover: true, clientMaxWindowBits: 10, threshold: 0, concurrencyLimit: 2, zlibDeflateOptions };
    const s = resolvePerMessageDeflate(o)!;
    assert.equal(s.negotiation.serverNoContextTakeover, true);
    assert.equal(s.negotiation.clientMaxWindowBits, 10);
    assert.equal(s.threshold, 0);
    assert.equal(s.concurrencyLimit, 2);
    assert.notEqual(s.zlibDeflateOptions, zlibDeflateOptions);
    zlibDeflateOptions.level = 9;
    assert.equal(s.zlibDeflateOptions.level, 3);
  });

  void test('bad values throw at construction: TypeError for the wrong kind, RangeError out of range', () => {
    assert.throws(() => resolvePerMessageDeflate('yes' as unknown as boolean), TypeError);
    assert.throws(() => resolvePerMessageDeflate(null as unknown as boolean), TypeError);
    assert.throws(() => resolvePerMessageDeflate({ serverNoContextTakeover: 1 as unknown as boolean }), TypeError);
    assert.throws(() => resolvePerMessageDeflate({ serverMaxWindowBits: 16 }), RangeError);
    assert.throws(() => resolvePerMessageDeflate({ threshold: -1 }), /threshold must be a non-negative number, got -1/);
    assert.throws(() => resolvePerMessageDeflate({ threshold: Number.NaN }), RangeError);
    assert.throws(() => resolvePerMessageDeflate({ concurrencyLimit: 0 }), /concurrencyLimit must be an integer of at least 1, got 0/);
    assert.throws(() => resolvePerMessageDeflate({ concurrencyLimit: 2.5 }), RangeError);
  });
});
