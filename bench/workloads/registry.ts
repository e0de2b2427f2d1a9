/** Every workload, in the order a full run takes them. */
import { broadcastWorkload } from './broadcast.js';
import { echoWorkload } from './echo.js';
import { handshakeWorkload } from './handshakes.js';
import { idleMemoryWorkload } from './idle-memory.js';
import { largeEchoWorkload } from './large-echo.js';
import { latencyWorkload } from './latency.js';
import type { Workload } from './types.js';

/** All workloads. Names are what --only takes; a prefix before '-' selects a family ('echo'). */
export const WORKLOADS: readonly Workload[] = [
  echoWorkload('echo-32', 32, '32 B', true),
  echoWorkload('echo-1k', 1024, '1 KiB', false),
  echoWorkload('echo-64k', 64 * 1024, '64 KiB', false),
  broadcastWorkload(100),
  broadcastWorkload(1000),
  broadcastWorkload(100, true),
  broadcastWorkload(1000, true),
  handshakeWorkload,
  idleMemoryWorkload,
  largeEchoWorkload,
  latencyWorkload,
];

/**
 * Selects workloads by name or family prefix.
 * @param names - from --only; empty selects all (all but those marked `notInQuick` in a quick run)
 * @param quick - the run is `--quick`
 * @returns the selected workloads in run order
 * @throws Error naming any name that matches nothing
 */
export function selectWorkloads(names: readonly string[], quick = false): Workload[] {
  if (names.length === 0) return WORKLOADS.filter((workload) => !quick || workload.notInQuick !== true);
  const matches = (workload: Workload, name: string): boolean =>
    workload.name === name || workload.name.startsWith(`${name}-`);
  const unknown = names.filter((name) => !WORKLOADS.some((w) => matches(w, name)));
  if (unknown.length > 0) {
    throw new Error(`unknown workload ${unknown.join(', ')}; known: ${WORKLOADS.map((w) => w.name).join(', ')}`);
  }
  return WORKLOADS.filter((workload) => names.some((name) => matches(workload, name)));
}
