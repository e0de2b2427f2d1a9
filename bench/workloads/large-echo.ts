/**
 * Large-message throughput: one connection echoes 16 MiB binary messages, one at a time; every
 * echo is checked byte for byte as it streams in. Figure: verified payload MB (10^6 bytes) per
 * second in one direction.
 */
import { measureWindow } from './measure-window.js';
import { toRunRecord } from './record.js';
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
  async run(context, impl) {
    const measurement = await measureWindow(context, {
      workload: 'large-16m',
      impl,
      mode: 'echo',
      jobs: (port) => [{ kind: 'echo', host: context.host, port, connections: 1, payloadSize: PAYLOAD }],
    });
    const seconds = measurement.windowSeconds;
    const mbPerSecond = seconds > 0 ? measurement.bytes / 1e6 / seconds : Number.NaN;
    return toRunRecord(impl, measurement, { [FIGURE.key]: mbPerSecond }, { payloadSize: PAYLOAD });
  },
};
