/**
 * Latency at a fixed rate both servers sustain: 5,000 messages/s in all over 100 connections,
 * open loop (sends do not wait for echoes). Each round trip is timed from the write of its frame
 * to the verification of its echo. Figures: p50 and p99 in ms, and the server's CPU time per
 * message — at the same load for both, so it compares efficiency rather than saturation.
 */
import { measureAlternating } from './measure-window.js';
import { percentile } from './statistics.js';
import { cpuMicrosPerMessage, mapOutcomes, toRunRecord } from './record.js';
import { splitEvenly } from './split.js';
import type { FigureDef, Workload } from './types.js';

const CONNECTIONS = 100;
const RATE = 5_000;
const PAYLOAD = 32;
/** Below this share of the target rate the rate was not sustained and the figures say so. */
const SUSTAINED_SHARE = 0.97;

const P50: FigureDef = { key: 'latency.p50-ms', label: `latency p50 @ ${RATE} msg/s (ms)`, unit: 'ms', better: 'lower' };
const P99: FigureDef = { key: 'latency.p99-ms', label: `latency p99 @ ${RATE} msg/s (ms)`, unit: 'ms', better: 'lower' };
const CPU: FigureDef = {
  key: 'latency.server-cpu-us-per-msg',
  label: `server CPU per msg @ ${RATE} msg/s (µs)`,
  unit: 'µs/msg',
  better: 'lower',
};

/** The fixed-rate latency workload. */
export const latencyWorkload: Workload = {
  name: 'latency',
  title: `${RATE} msg/s of ${PAYLOAD} B over ${CONNECTIONS} connections, open loop`,
  figures: [P50, P99, CPU],
  async run(context, order) {
    const outcomes = await measureAlternating(context, {
      workload: 'latency',
      mode: 'echo',
      jobs: (port) =>
        splitEvenly(CONNECTIONS, context.workers).map((connections) => ({
          kind: 'latency',
          host: context.host,
          port,
          connections,
          ratePerSecond: (RATE * connections) / CONNECTIONS,
          payloadSize: PAYLOAD,
        })),
    }, order);
    return mapOutcomes(outcomes, (impl, measurement) => {
      const sorted = measurement.latenciesMs.slice().sort();
      const achieved = measurement.verifiedPerSecond;
      return toRunRecord(
        impl,
        measurement,
        { [P50.key]: percentile(sorted, 50), [P99.key]: percentile(sorted, 99), [CPU.key]: cpuMicrosPerMessage(measurement) },
        {
          targetRate: RATE,
          achievedRate: achieved,
          sustained: achieved >= SUSTAINED_SHARE * RATE,
          samples: sorted.length,
          p999Ms: percentile(sorted, 99.9),
          maxMs: sorted.length > 0 ? (sorted[sorted.length - 1] ?? Number.NaN) : Number.NaN,
        },
      );
    });
  },
};
