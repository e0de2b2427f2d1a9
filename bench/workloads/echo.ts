/**
 * Echo throughput: 100 connections, each sends one binary message and waits for its verified echo
 * before the next (closed loop). Figure: verified echoes per second; optionally the server's CPU
 * time per echoed message.
 */
import { measureAlternating } from './measure-window.js';
import { cpuMicrosPerMessage, mapOutcomes, toRunRecord } from './record.js';
import { splitEvenly } from './split.js';
import type { FigureDef, Workload } from './types.js';

/** Connections of every echo workload. */
const CONNECTIONS = 100;

/**
 * An echo workload for one payload size.
 * @param name - its --only name
 * @param payloadSize - bytes per message
 * @param sizeLabel - the size as the table shows it
 * @param withCpuFigure - also report server CPU per message
 * @returns the workload
 */
export function echoWorkload(name: string, payloadSize: number, sizeLabel: string, withCpuFigure: boolean): Workload {
  const rate: FigureDef = {
    key: `${name}.msgs-per-s`,
    label: `echo ${sizeLabel}, ${CONNECTIONS} conns (msg/s)`,
    unit: 'msg/s',
    better: 'higher',
  };
  const cpu: FigureDef = {
    key: `${name}.server-cpu-us-per-msg`,
    label: `server CPU per msg, echo ${sizeLabel} (µs)`,
    unit: 'µs/msg',
    better: 'lower',
  };
  return {
    name,
    title: `closed-loop echo of ${sizeLabel} binary messages on ${CONNECTIONS} connections`,
    figures: withCpuFigure ? [rate, cpu] : [rate],
    async run(context, order) {
      const outcomes = await measureAlternating(context, {
        workload: name,
        mode: 'echo',
        jobs: (port) =>
          splitEvenly(CONNECTIONS, context.workers).map((connections) => ({
            kind: 'echo',
            host: context.host,
            port,
            connections,
            payloadSize,
          })),
      }, order);
      return mapOutcomes(outcomes, (impl, measurement) => {
        const values: Record<string, number> = { [rate.key]: measurement.medianSliceRate };
        if (withCpuFigure) values[cpu.key] = cpuMicrosPerMessage(measurement);
        return toRunRecord(impl, measurement, values, { payloadSize, connections: CONNECTIONS });
      });
    },
  };
}
