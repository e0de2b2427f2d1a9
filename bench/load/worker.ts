/**
 * Entry point of a generator worker thread. It runs one job through the phases the orchestrator
 * sends (run → ready, then start, mark, pause, drain → drained as often as asked, report → result,
 * close → closed), so the load is produced on a thread of its own, apart from the orchestrator.
 */
import { parentPort } from 'node:worker_threads';
import { errorMessage } from '../error-message.js';
import { Counters } from './counters.js';
import { createScenario } from './create-scenario.js';
import type { MainToWorker, WorkerToMain } from './messages.js';
import type { Scenario } from './scenario.js';

const port = parentPort;
if (port === null) throw new Error('bench/load/worker.js runs only as a worker thread');

const post = (message: WorkerToMain): void => {
  const latencies = message.type === 'result' ? message.result.latenciesMs : undefined;
  port.postMessage(message, latencies === undefined ? [] : [latencies.buffer]);
};

const counters = new Counters();
let scenario: Scenario | undefined;

/** Polls until no reply is outstanding: the next slice must not share the CPU with this one's tail. */
async function drain(timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while ((scenario?.outstanding() ?? 0) > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  post({ type: 'drained', complete: (scenario?.outstanding() ?? 0) === 0 });
}

port.on('message', (raw: unknown) => {
  // Only the orchestrator talks to this port; its messages are MainToWorker by construction.
  const message = raw as MainToWorker;
  switch (message.type) {
    case 'run':
      scenario = createScenario(message.job, counters, () => post({ type: 'round-done' }));
      scenario.open().then(
        () => post({ type: 'ready' }),
        (error: unknown) => post({ type: 'fatal', message: errorMessage(error) }),
      );
      break;
    case 'start':
      scenario?.start();
      break;
    case 'mark':
      counters.beginWindow();
      break;
    case 'pause':
      counters.endWindow();
      scenario?.pause();
      break;
    case 'drain':
      void drain(message.timeoutMs);
      break;
    case 'report':
      if (scenario !== undefined) post({ type: 'result', result: scenario.result() });
      break;
    case 'next-round':
      scenario?.nextRound();
      break;
    case 'close':
      scenario?.close();
      post({ type: 'closed' });
      break;
  }
});
