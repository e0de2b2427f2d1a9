/**
 * The health bookkeeping both Redis links share, with a check the test drives by hand: no Redis,
 * no timers waited on.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newCounters, type RedisAdapterCounters } from '../../src/redis/health.js';
import { LinkHealth } from '../../src/redis/link-health.js';

interface Rig {
  health: LinkHealth;
  counters: RedisAdapterCounters;
  logs: string[];
  heard: string[];
  /** How many checks started. */
  checks: () => number;
  /** Ends the check in flight. */
  finish: () => void;
}

function rig(onCheck: (health: LinkHealth) => void = () => {}): Rig {
  const counters = newCounters();
  const logs: string[] = [];
  const heard: string[] = [];
  let started = 0;
  let finish = (): void => {};
  const health: LinkHealth = new LinkHealth({
    check: () => {
      started++;
      return new Promise<void>((resolve) => {
        finish = () => {
          onCheck(health);
          resolve();
        };
      });
    },
    healthCheckIntervalMs: 1000,
    reconnect: { minMs: 100, maxMs: 400 },
    log: (level, message, fields) => logs.push(`${level}: ${message} ${JSON.stringify(fields ?? {})}`),
    counters,
    messages: { up: 'up line', down: 'down line' },
  });
  health.onHealth((healthy, reason) => heard.push(`${healthy} ${reason}`));
  return { health, counters, logs, heard, checks: () => started, finish: () => finish() };
}

void describe('LinkHealth', () => {
  void test('starts unhealthy; tells listeners of each change of healthy once, with the reason', () => {
    const { health, counters, logs, heard } = rig();
    assert.equal(health.healthy, false);
    assert.equal(health.commandsUp, false);
    assert.equal(health.reason, 'not connected');
    health.update(true, true, undefined);
    assert.deepEqual([health.healthy, health.commandsUp, health.reason], [true, true, 'ok']);
    health.update(true, true, undefined);
    assert.deepEqual(heard, ['true ok'], 'no second report without a change');
    assert.match(logs[0]!, /^info: up line \{"previously":"not connected"\}/);
    health.update(false, false, 'PING failed');
    health.update(false, false, 'still down');
    assert.deepEqual(heard, ['true ok', 'false PING failed']);
    assert.equal(health.reason, 'still down', 'the reason follows the latest check');
    assert.equal(counters.outages, 1, 'one outage, however many checks find it');
    assert.match(logs[1]!, /^warn: down line \{"reason":"PING failed"\}/);
    health.update(true, true, undefined);
    assert.match(logs[2]!, /^info: up line \{"previously":"still down"\}/);
  });

  void test('commands can be up while not healthy; a part coming back keeps the reason recorded', () => {
    const { health, heard } = rig();
    health.update(false, false, 'subscriber connection ended');
    health.update(true, false, undefined);
    assert.equal(health.commandsUp, true);
    assert.equal(health.healthy, false);
    assert.equal(health.reason, 'subscriber connection ended');
    assert.deepEqual(heard, [], 'unhealthy from the start: no change to report');
  });

  void test('a listener that throws is logged and does not stop the others; a removed one hears nothing', () => {
    const { health, logs, heard } = rig();
    health.onHealth(() => {
      throw new Error('boom');
    });
    const late: boolean[] = [];
    const stop = health.onHealth((healthy) => late.push(healthy));
    health.update(true, true, undefined);
    stop();
    health.update(false, false, 'gone');
    assert.deepEqual(heard, ['true ok', 'false gone']);
    assert.deepEqual(late, [true]);
    assert.ok(logs.some((l) => l.startsWith('error: a health listener threw') && l.includes('boom')));
  });

  void test('probes share the check in flight; the next probe runs a new one', async () => {
    const r = rig((health) => health.update(true, true, undefined));
    const first = r.health.probe();
    const second = r.health.probe();
    assert.equal(first, second);
    assert.equal(r.checks(), 1);
    r.finish();
    await first;
    assert.equal(r.health.healthy, true);
    const third = r.health.probe();
    assert.notEqual(third, first);
    assert.equal(r.checks(), 2);
    r.finish();
    await third;
  });

  void test('closed: unhealthy and commands down without a report; later updates and probes are ignored', async () => {
    const r = rig();
    r.health.update(true, true, undefined);
    r.health.startProbing();
    r.health.close();
    assert.equal(r.health.closed, true);
    assert.equal(r.health.healthy, false);
    assert.equal(r.health.commandsUp, false);
    r.health.update(true, true, undefined);
    assert.equal(r.health.healthy, false);
    await r.health.probe();
    assert.equal(r.checks(), 0);
    assert.deepEqual(r.heard, ['true ok']);
    r.health.close();
  });

  void test('the reconnect strategy counts attempts and waits within the backoff bounds', () => {
    const { health, counters } = rig();
    const strategy = health.reconnectStrategy();
    const delays = [0, 1, 2, 10].map((n) => strategy(n));
    assert.equal(counters.reconnectAttempts, 4);
    assert.ok(delays[0]! >= 50 && delays[0]! <= 100, `first attempt 50–100 ms, got ${delays[0]}`);
    assert.ok(delays[3]! >= 200 && delays[3]! <= 400, `capped at 400 ms, got ${delays[3]}`);
    // A bad delay fails when the link is made, not later when it first connects.
    assert.throws(() => new LinkHealth({ check: () => Promise.resolve(), healthCheckIntervalMs: 1000, reconnect: { minMs: 0 }, log: () => {}, counters, messages: { up: '', down: '' } }), RangeError);
  });
});
