/**
 * The shared zlib concurrency limit: at most `limit` jobs at once, the rest in order, a slot
 * freed exactly once per job, and no stack growth however many jobs finish at once.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Limiter, limiterFor, limiterTotals } from '../../src/node/zlib-limiter.js';

void describe('Limiter', () => {
  void test('runs at most limit jobs; the rest start in the order queued as slots free', () => {
    const l = new Limiter(2);
    const started: number[] = [];
    const finishers: Array<() => void> = [];
    for (let i = 0; i < 5; i++) l.run((done) => { started.push(i); finishers.push(done); });
    assert.deepEqual(started, [0, 1]);
    assert.equal(l.running, 2);
    assert.equal(l.queued, 3);
    finishers[1]!();
    assert.deepEqual(started, [0, 1, 2]);
    finishers[0]!();
    assert.deepEqual(started, [0, 1, 2, 3]);
    assert.equal(l.running, 2);
    assert.equal(l.queued, 1);
  });

  void test('a second done() of the same job frees nothing more', () => {
    const l = new Limiter(1);
    let first: (() => void) | undefined;
    let started = 0;
    l.run((done) => { first = done; started++; });
    l.run(() => { started++; });
    l.run(() => { started++; });
    first!();
    first!();
    assert.equal(started, 2, 'only the next job started');
    assert.equal(l.running, 1);
    assert.equal(l.queued, 1);
  });

  void test('100,000 queued jobs that finish at once run without deepening the stack', () => {
    const l = new Limiter(1);
    let hold: (() => void) | undefined;
    l.run((done) => { hold = done; });
    let ran = 0;
    for (let i = 0; i < 100_000; i++) l.run((done) => { ran++; done(); });
    assert.equal(l.queued, 100_000);
    hold!();
    assert.equal(ran, 100_000);
    assert.equal(l.running, 0);
    assert.equal(l.queued, 0);
  });
});

void describe('limiterFor and limiterTotals', () => {
  void test('one shared limiter per limit value; the totals count every one of them', () => {
    // Limits no other test file uses, so this file's counts are its own.
    const a = limiterFor(97);
    assert.equal(limiterFor(97), a);
    const b = limiterFor(98);
    assert.notEqual(b, a);
    assert.equal(a.limit, 97);
    const before = limiterTotals();
    const finishers: Array<() => void> = [];
    for (let i = 0; i < 99; i++) a.run((done) => finishers.push(done));
    b.run((done) => finishers.push(done));
    const during = limiterTotals();
    assert.equal(during.running - before.running, 98);
    assert.equal(during.queued - before.queued, 2);
    for (const f of [...finishers]) f();
    for (const f of finishers) f();
    assert.deepEqual(limiterTotals(), before);
  });
});
