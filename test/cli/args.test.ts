/**
 * The CLI's argument helpers: "did you mean", negative numbers taken as values, and parseArgs'
 * errors in the CLI's own words.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError, closestFlag, joinNegativeValues, parse, usageErrorFrom } from '../../src/cli/args.js';

void test('closestFlag suggests a flag one typo away (a swap included) or a unique prefix, nothing for a stranger', () => {
  const known = ['port', 'host', 'max-payload', 'deflate', 'help'];
  assert.equal(closestFlag('prot', known), 'port');
  assert.equal(closestFlag('pot', known), 'port');
  assert.equal(closestFlag('hots', known), 'host');
  assert.equal(closestFlag('max-paylod', known), 'max-payload');
  assert.equal(closestFlag('max', known), 'max-payload');
  assert.equal(closestFlag('verbose', known), undefined);
  assert.equal(closestFlag('x', known), undefined);
});

void test('joinNegativeValues joins --flag -N for string flags only', () => {
  const strings = new Set(['port']);
  assert.deepEqual(joinNegativeValues(['--port', '-1'], strings), ['--port=-1']);
  assert.deepEqual(joinNegativeValues(['--port', '-h'], strings), ['--port', '-h']);
  assert.deepEqual(joinNegativeValues(['--echo', '-1'], strings), ['--echo', '-1']);
  assert.deepEqual(joinNegativeValues(['--port=3', '-1'], strings), ['--port=3', '-1']);
});

void test('parse reports unknown options in lower case with a suggestion, and takes --port -1 as a value', () => {
  const options = { port: { type: 'string' }, deflate: { type: 'boolean' } } as const;
  assert.throws(() => parse(['--prot', '1'], options, false), (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.equal(error.message, "unknown option '--prot' (did you mean --port?)");
    return true;
  });
  assert.equal(parse(['--port', '-1'], options, false).values.port, '-1');
  assert.throws(() => parse(['stray'], options, false), { message: "unexpected argument 'stray'" });
});

void test('usageErrorFrom keeps other messages, lower-cased', () => {
  assert.equal(usageErrorFrom(new Error('Something odd'), []).message, 'something odd');
});
