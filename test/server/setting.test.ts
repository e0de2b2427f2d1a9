/**
 * The kinds of setting: each parses text (environment, flags) and JSON (the file) into its type,
 * and refuses a bad value with a reason the loader completes with the setting and its source.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSetting, setting } from '../../src/server/setting.js';

const meta = ['PARLEY_X', 'x', 'doc'] as const;

void test('numbers: text and JSON, integers, minimums and maximums, auto or an integer, ports and close codes', () => {
  const int = setting.int(5, ...meta, { min: 1 });
  assert.deepEqual(int.parse('12', true), { value: 12 });
  assert.deepEqual(int.parse(12, false), { value: 12 });
  assert.deepEqual(int.parse('12', false), { error: 'must be an integer' });
  assert.deepEqual(int.parse('1.5', true), { error: 'must be an integer' });
  assert.deepEqual(int.parse('0', true), { error: 'must be at least 1' });
  assert.deepEqual(int.parse(' ', true), { error: 'must be an integer' });
  assert.deepEqual(setting.number(1, ...meta).parse('0.5', true), { value: 0.5 });
  const bounded = setting.int(5, ...meta, { min: 0, max: 10 });
  assert.deepEqual(bounded.parse('10', true), { value: 10 });
  assert.deepEqual(bounded.parse(11, false), { error: 'must be at most 10' });
  assert.deepEqual(setting.number(1, ...meta, { max: 0.5 }).parse('0.75', true), { error: 'must be at most 0.5' });
  const port = setting.port(8080, ...meta);
  assert.deepEqual(port.parse('0', true), { value: 0 });
  assert.deepEqual(port.parse(65536, false), { error: 'must be an integer from 0 to 65535' });
  const workers = setting.intOrAuto(1, ...meta, { min: 1 });
  assert.deepEqual(workers.parse('auto', true), { value: 'auto' });
  assert.deepEqual(workers.parse('auto', false), { value: 'auto' });
  assert.deepEqual(workers.parse('4', true), { value: 4 });
  assert.deepEqual(workers.parse('0', true), { error: 'must be at least 1' });
  assert.deepEqual(workers.parse('many', true), { error: 'must be auto or an integer' });
  assert.equal(workers.kind, 'int-or-auto');
  const code = setting.closeCode(1012, ...meta);
  assert.deepEqual(code.parse('1001', true), { value: 1001 });
  assert.deepEqual(code.parse(1000, false), { error: 'must be 1001 or 1012' });
});

void test('booleans, auto, proxy hops, lists, strings and enums', () => {
  const bool = setting.boolean(true, ...meta);
  assert.deepEqual(bool.parse('off', true), { value: false });
  assert.deepEqual(bool.parse('YES', true), { value: true });
  assert.deepEqual(bool.parse('yes', false), { error: 'must be true or false' });
  assert.deepEqual(setting.autoBoolean('auto', ...meta).parse('auto', true), { value: 'auto' });
  const hops = setting.hops(false, ...meta);
  assert.deepEqual(hops.parse('2', true), { value: 2 });
  assert.deepEqual(hops.parse('true', true), { value: true });
  assert.deepEqual(hops.parse(33, false), { error: 'must be true, false or a number of proxies from 0 to 32' });
  const list = setting.list([], ...meta);
  assert.deepEqual(list.parse(' a, b ,,c', true), { value: ['a', 'b', 'c'] });
  assert.deepEqual(list.parse(['a'], false), { value: ['a'] });
  assert.deepEqual(list.parse('a,b', false), { error: 'must be a list of strings' });
  assert.deepEqual(setting.string('', ...meta).parse(5, false), { error: 'must be a string' });
  const level = setting.oneOf(['info', 'debug'], 'info', ...meta);
  assert.deepEqual(level.parse('debug', true), { value: 'debug' });
  assert.deepEqual(level.parse('loud', true), { error: 'must be one of info, debug' });
  assert.equal(level.kind, 'enum');
});

void test('a setting carries its metadata; isSetting tells a setting from a group', () => {
  const s = setting.list(['k'], 'PARLEY_KEYS', 'keys', 'the keys', { secret: true });
  assert.deepEqual([s.kind, s.default, s.env, s.flag, s.doc, s.secret], ['list', ['k'], 'PARLEY_KEYS', 'keys', 'the keys', true]);
  assert.equal(isSetting(s), true);
  assert.equal(isSetting({ keys: s }), false);
});
