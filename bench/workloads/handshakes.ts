/**
 * Handshake churn: about 50 lanes each open a connection (101 and accept value checked), run the
 * close handshake and wait for the server to drop TCP, then start over. Figure: complete
 * open+close cycles per second.
 */
import { measureWindow } from './measure-window.js';
import { toRunRecord } from './record.js';
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
  async run(context, impl) {
    const measurement = await measureWindow(context, {
      workload: 'handshakes',
      impl,
      mode: 'echo',
      jobs: (port) =>
        splitEvenly(CONCURRENCY, context.workers).map((concurrency) => ({
          kind: 'handshakes',
          host: context.host,
          port,
          concurrency,
        })),
    });
    return toRunRecord(impl, measurement, { [FIGURE.key]: measurement.verifiedPerSecond }, {
      concurrency: CONCURRENCY,
      serverCpuMicrosPerHandshake:
        measurement.verified > 0 ? (measurement.serverCpuSeconds * 1e6) / measurement.verified : Number.NaN,
    });
  },
};
