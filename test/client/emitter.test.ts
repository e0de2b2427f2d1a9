import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Emitter } from '../../src/client/index.js';

type Events = { tick: [n: number]; pair: [a: string, b: boolean] };

void test('on/emit pass typed arguments in registration order; off and the returned remover stop them', () => {
  const e = new Emitter<Events>();
  const seen: string[] = [];
  const a = (n: number): void => void seen.push(`a${n}`);
  const removeB = e.on('tick', (n) => seen.push(`b${n}`));
  e.on('tick', a);
  e.on('pair', (x, y) => seen.push(`${x}${String(y)}`));
  e.emit('tick', 1);
  e.emit('pair', 'p', true);
  removeB();
  e.off('tick', a);
  e.emit('tick', 2);
  assert.deepEqual(seen, ['b1', 'a1', 'ptrue']);
  assert.equal(e.listenerCount('tick'), 0);
});

void test('once fires a single time; a listener removed during emit still runs this time only', () => {
  const e = new Emitter<Events>();
  let once = 0;
  let later = 0;
  e.once('tick', () => once++);
  const offLater = e.on('tick', () => later++);
  e.on('tick', () => offLater());
  e.emit('tick', 1);
  e.emit('tick', 2);
  assert.equal(once, 1);
  assert.equal(later, 1);
});

void test('a throwing listener does not stop the others; its error is rethrown from a microtask', () => {
  const e = new Emitter<Events>();
  let ran = false;
  e.on('tick', () => {
    throw new Error('boom');
  });
  e.on('tick', () => (ran = true));
  const queued: Array<() => void> = [];
  const original = globalThis.queueMicrotask;
  globalThis.queueMicrotask = (callback) => void queued.push(callback);
  try {
    e.emit('tick', 1);
  } finally {
    globalThis.queueMicrotask = original;
  }
  assert.equal(ran, true);
  assert.equal(queued.length, 1);
  assert.throws(() => queued[0]!(), { message: 'boom' });
});
