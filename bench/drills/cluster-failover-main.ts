/**
 * `npm run drill:cluster-failover`: the Redis Cluster failover drill (bench/drills/cluster-failover.ts)
 * with several failovers in a row and more subscribers than the test suite's version.
 *
 *     npm run drill:cluster-failover -- [--rounds 3] [--subscribers 20] [--every 10] [--node-timeout 1000]
 * @packageDocumentation
 */
import { parseArgs } from 'node:util';
import { clusterFailoverDrill } from './cluster-failover.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    subscribers: { type: 'string', default: '20' },
    every: { type: 'string', default: '10' },
    'node-timeout': { type: 'string', default: '1000' },
  },
});
const r = await clusterFailoverDrill({ rounds: Number(values.rounds), subscribers: Number(values.subscribers), publishEveryMs: Number(values.every), nodeTimeoutMs: Number(values['node-timeout']) });
console.log('| round | killed master | first node healthy again (s) | last node healthy again (s) |');
console.log('|---|---|---|---|');
r.rounds.forEach((x, i) => console.log(`| ${i + 1} | :${x.victim} | ${x.firstNodeS.toFixed(2)} | ${x.lastNodeS.toFixed(2)} |`));
console.log(JSON.stringify({ published: r.published, acknowledged: r.acknowledged, total: r.total }, null, 1));
process.exitCode = r.total.silent + r.total.duplicates + r.total.outOfOrder > 0 ? 1 : 0;
