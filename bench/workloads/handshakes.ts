/**
 * Handshake churn: about 50 lanes each open a connection (101 and accept value checked), run the
 * close handshake and wait for the server to drop TCP, then start over. Figure: complete
 * open+close cycles per second.
 */
import { measureAlternating } from './measure-window.js';
import { cpuMicrosPerMessage, mapOutcomes, toRunRecord } from './record.js';
import { splitEvenly } from './split.js';
import type { FigureDef, Workload } from './types.js';

const CONCURRENCY = 50;

const FIGURE: FigureDef = {
  key: 'handshakes.per-s',
  label: `handshakes, open+close, ${CONCURRENCY} in flight (/s)`,
  unit: 'handshakes/s',
  better: 'higher',
};

/** The handshake churn workload. */
export const handshakeWorkload: Workload = {
  name: 'handshakes',
  title: `open, close-handshake and drop connections with ${CONCURRENCY} in flight`,
  figures: [FIGURE],
  async run(context, order) {
    const outcomes = await measureAlternating(context, {
      workload: 'handshakes',
      mode: 'echo',
      // The handshake rate climbs for ~3 s before it levels off, and a fresh generator against an
      // already warm server climbs the same way: the generator's own connect path warms up.
      minWarmupSeconds: context.quick ? 1 : 3,
      jobs: (port) =>
        splitEvenly(CONCURRENCY, context.workers).map((concurrency) => ({
          kind: 'handshakes',
          host: context.host,
          port,
          concurrency,
        })),
    }, order);
    return mapOutcomes(outcomes, (impl, measurement) =>
      toRunRecord(impl, measurement, { [FIGURE.key]: measurement.medianSliceRate }, {
        concurrency: CONCURRENCY,
        serverCpuMicrosPerHandshake: cpuMicrosPerMessage(measurement),
      }),
    );
  },
};
