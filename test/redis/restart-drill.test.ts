/**
 * The Redis-restart hole (issue 17): three node processes, clients on every node, redis-server
 * killed and restarted, the nodes reaching it again at different moments while all publish.
 * Every acknowledged message must reach every subscriber or be covered by a reset given to it
 * after the message was sent; nothing twice, each publisher's messages in order.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { restartDrill, type RestartDrillReport } from '../../bench/drills/restart.js';
import { needRedisServer } from './support.js';

function explain(report: RestartDrillReport): string {
  return JSON.stringify({ total: report.total, subscribers: report.subscribers, logs: report.logs.map((l) => l.slice(-12)) }, null, 1);
}

void describe('Redis killed and restarted, nodes rejoining one by one', () => {
  for (const order of [[1, 2, 0], [0, 1, 2]]) {
    void test(`local delivery meanwhile, rejoin order ${order.join(', ')}: no silent loss on any node`, async (t) => {
      if (!(await needRedisServer(t))) return;
      const report = await restartDrill({ order, mode: 'local' });
      assert.equal(report.total.silent, 0, `silent loss:\n${explain(report)}`);
      assert.equal(report.total.duplicates, 0, explain(report));
      assert.equal(report.total.outOfOrder, 0, explain(report));
      assert.ok(report.total.covered > 0, 'the drill did make clients miss messages (else it tests nothing)');
      // The nodes that published locally told the others.
      assert.ok(report.logs.some((lines) => lines.some((l) => l.includes('announced a gap to every node'))), 'the announcement is logged');
    });
  }

  void test('publishes refused while Redis is unreachable: every acknowledged message delivered or covered', async (t) => {
    if (!(await needRedisServer(t))) return;
    const report = await restartDrill({ order: [2, 0, 1], mode: 'refuse' });
    assert.equal(report.total.silent, 0, `silent loss:\n${explain(report)}`);
    assert.equal(report.total.duplicates, 0, explain(report));
    assert.equal(report.total.outOfOrder, 0, explain(report));
    assert.ok(report.refused > 0, 'publishes were refused during the outage');
  });
});
