/** Turns a window measurement into the run record the reports use. */
import type { WindowMeasurement } from './measure-window.js';
import type { Impl, RunRecord } from './types.js';

/**
 * Builds a run record.
 * @param impl - the slot
 * @param measurement - what the window measured
 * @param values - the figures
 * @param details - workload-specific extras for the JSON
 * @returns the record
 */
export function toRunRecord(
  impl: Impl,
  measurement: WindowMeasurement,
  values: Record<string, number>,
  details: Record<string, number | string | boolean> = {},
): RunRecord {
  return {
    impl,
    module: measurement.module,
    serverPid: measurement.serverPid,
    bufferutil: measurement.bufferutil,
    windowSeconds: measurement.windowSeconds,
    verified: measurement.verified,
    sent: measurement.sent,
    bytes: measurement.bytes,
    failures: measurement.failures,
    failureSamples: measurement.failureSamples,
    serverCpuSeconds: measurement.serverCpuSeconds,
    generatorCpuSeconds: measurement.generatorCpuSeconds,
    values,
    details,
  };
}

/**
 * Server CPU microseconds per verified message, from `process.cpuUsage()` deltas.
 * @param measurement - the window
 * @returns µs per message, NaN when nothing was verified
 */
export function cpuMicrosPerMessage(measurement: WindowMeasurement): number {
  return measurement.verified > 0 ? (measurement.serverCpuSeconds * 1e6) / measurement.verified : Number.NaN;
}
