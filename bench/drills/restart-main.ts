/**
 * `npm run drill:redis-restart`: the Redis-restart drill (bench/drills/restart.ts) in every
 * rejoin order of the three nodes, with local delivery and with refusal, at a larger scale than
 * the test suite's.
 *
 *     npm run drill:redis-restart -- [--subscribers 20] [--every 10] [--outage 1500] [--step 1000]
 * @packageDocumentation
 */
import { parseArgs } from 'node:util';
import { restartDrill } from './restart.js';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '20' },
    every: { type: 'string', default: '10' },
    outage: { type: 'string', default: '1500' },
    step: { type: 'string', default: '1000' },
  },
});
const orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
let failed = false;
console.log('| mode | rejoin order | acknowledged | refused | deliveries due | received | covered by a reset | silent | duplicates | out of order | resets |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const mode of ['local', 'refuse'] as const) {
  for (const order of orders) {
    const r = await restartDrill({ order, mode, subscribers: Number(values.subscribers), publishEveryMs: Number(values.every), outageMs: Number(values.outage), stepMs: Number(values.step) });
    const t = r.total;
    console.log(`| ${mode} | ${order.join(' ')} | ${r.acknowledged} | ${r.refused} | ${t.expected} | ${t.received} | ${t.covered} | ${t.silent} | ${t.duplicates} | ${t.outOfOrder} | ${t.resets} |`);
    if (t.silent > 0 || t.duplicates > 0 || t.outOfOrder > 0) failed = true;
  }
}
process.exitCode = failed ? 1 : 0;
