/** Maps a job to the scenario that runs it. */
import type { Counters } from './counters.js';
import type { Job } from './messages.js';
import type { Scenario } from './scenario.js';
import { BroadcastScenario } from './scenarios/broadcast.js';
import { EchoScenario } from './scenarios/echo.js';
import { HandshakeScenario } from './scenarios/handshakes.js';
import { IdleScenario } from './scenarios/idle.js';
import { LatencyScenario } from './scenarios/latency.js';

/**
 * Creates the scenario for a job.
 * @param job - what to run
 * @param counters - the worker's counters
 * @param roundDone - called when this worker's broadcast clients finished a round
 * @returns the scenario, not yet opened
 */
export function createScenario(job: Job, counters: Counters, roundDone: () => void): Scenario {
  switch (job.kind) {
    case 'echo':
      return new EchoScenario(job, counters);
    case 'broadcast':
      return new BroadcastScenario(job, counters, roundDone);
    case 'handshakes':
      return new HandshakeScenario(job, counters);
    case 'idle':
      return new IdleScenario(job, counters);
    case 'latency':
      return new LatencyScenario(job, counters);
  }
}
