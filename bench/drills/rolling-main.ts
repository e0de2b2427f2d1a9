/**
 * `npm run drill:rolling`: the rolling-deploy drill (bench/drills/rolling.ts) at a larger scale
 * than the test suite's.
 *
 *     npm run drill:rolling -- [--subscribers 300] [--every 20] [--settle 1000]
 * @packageDocumentation
 */
import { parseArgs } from 'node:util';
import { rollingDrill } from './rolling.js';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '300' },
    every: { type: 'string', default: '20' },
    settle: { type: 'string', default: '1000' },
  },
});
const r = await rollingDrill({ subscribers: Number(values.subscribers), publishEveryMs: Number(values.every), settleMs: Number(values.settle) });
const { subscribers: _, ...rest } = r;
console.log(JSON.stringify(rest, null, 1));
process.exitCode = r.total.silent + r.total.duplicates + r.total.outOfOrder + r.neverReconnected > 0 || r.total.received !== r.total.expected ? 1 : 0;
