/** Turns window measurements into the run records the reports use. */
import type { SideOutcome, WindowMeasurement } from './measure-window.js';
import type { Impl, RunOutcome, RunRecord } from './types.js';

/**
 * Builds a run record.
 * @param impl - the slot
 * @param measurement - what the windows measured
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
    details: {
      slices: measurement.slices,
      pooledRate: measurement.verifiedPerSecond,
      sliceRates: measurement.sliceRates.map((rate) => rate.toFixed(1)).join(' '),
      undrainedSlices: measurement.undrainedSlices,
      serverCpuSource: measurement.serverCpuSource,
      ...details,
    },
  };
}

/**
 * Maps both sides' outcomes through a record builder, keeping errors as they are.
 * @param outcomes - each side's measurement or error
 * @param build - makes the record from a measurement
 * @returns each side's record or error
 */
export function mapOutcomes(
  outcomes: Record<Impl, SideOutcome>,
  build: (impl: Impl, measurement: WindowMeasurement) => RunRecord,
): Record<Impl, RunOutcome> {
  const one = (impl: Impl): RunOutcome => {
    const outcome = outcomes[impl];
    return outcome.ok ? { ok: true, record: build(impl, outcome.measurement) } : outcome;
  };
  return { parley: one('parley'), ws: one('ws') };
}

/**
 * Server CPU microseconds per verified message, from the CPU deltas of the windows.
 * @param measurement - the windows
 * @returns µs per message, NaN when nothing was verified or CPU could not be read
 */
export function cpuMicrosPerMessage(measurement: WindowMeasurement): number {
  return measurement.verified > 0 ? (measurement.serverCpuSeconds * 1e6) / measurement.verified : Number.NaN;
}
