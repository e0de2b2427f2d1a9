/**
 * Large-message throughput: one connection echoes 16 MiB binary messages, one at a time; every
 * echo is checked byte for byte as it streams in. Figure: verified payload MB (10^6 bytes) per
 * second in one direction.
 */
import { measureAlternating } from './measure-window.js';
import { mapOutcomes, toRunRecord } from './record.js';
import type { FigureDef, Workload } from './types.js';

const PAYLOAD = 16 * 1024 * 1024;

const FIGURE: FigureDef = {
  key: 'large-16m.mb-per-s',
  label: 'echo 16 MiB, 1 conn (MB/s)',
  unit: 'MB/s',
  better: 'higher',
};

/** The 16 MiB echo workload. */
export const largeEchoWorkload: Workload = {
  name: 'large-16m',
  title: 'closed-loop echo of 16 MiB binary messages on one connection',
  figures: [FIGURE],
  async run(context, order) {
    const outcomes = await measureAlternating(context, {
      workload: 'large-16m',
      mode: 'echo',
      jobs: (port) => [{ kind: 'echo', host: context.host, port, connections: 1, payloadSize: PAYLOAD }],
      // The tail of a slice is at most one 16 MiB round trip.
      drainTimeoutMs: 10_000,
    }, order);
    return mapOutcomes(outcomes, (impl, measurement) => {
      const seconds = measurement.windowSeconds;
      const mbPerSecond = seconds > 0 ? measurement.bytes / 1e6 / seconds : Number.NaN;
      return toRunRecord(impl, measurement, { [FIGURE.key]: mbPerSecond }, { payloadSize: PAYLOAD });
    });
  },
};
