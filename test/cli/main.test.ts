/**
 * The `parley` entry point: help, unknown commands, exit statuses.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './helpers.js';

void describe('parley (main)', () => {
  void test('--help, -h and help print the usage with every command and exit 0', async (t) => {
    const flags = ['--help', '-h', 'help'];
    const results = await Promise.all(flags.map((flag) => runCli(t, [flag])));
    for (const [k, r] of results.entries()) {
      const flag = flags[k]!;
      assert.equal(r.code, 0, flag);
      assert.match(r.stdout, /^Usage: parley <command>/, flag);
      assert.match(r.stdout, /^ {2}echo /m);
      assert.match(r.stdout, /^ {2}connect /m);
      assert.match(r.stdout, /^ {2}serve /m);
      assert.equal(r.stderr, '');
    }
  });

  void test('no command prints the usage and exits 2', async (t) => {
    const r = await runCli(t, []);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /^Usage: parley <command>/);
  });

  void test('an unknown command exits 2 naming it', async (t) => {
    const [r, typo] = await Promise.all([runCli(t, ['frobnicate']), runCli(t, ['serv'])]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "parley: unknown command 'frobnicate'\nRun 'parley --help' for the commands.\n");
    assert.equal(r.stdout, '');
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /^parley: unknown command 'serv' \(did you mean serve\?\)\n/);
  });

  void test('an unknown top-level flag is not taken for help: exit 2 naming it', async (t) => {
    const r = await runCli(t, ['--verbose']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--verbose/);
  });
});
