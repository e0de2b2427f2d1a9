/**
 * Broadcast: N clients; each round every client sends one 32-byte message and the server relays
 * each message to all N clients (N² deliveries per round). A round starts when every client has
 * received every message of the previous one. Figure: verified deliveries per second.
 */
import { measureAlternating } from './measure-window.js';
import { cpuMicrosPerMessage, mapOutcomes, toRunRecord } from './record.js';
import type { FigureDef, Workload } from './types.js';
import type { BroadcastJob } from '../load/messages.js';
import { splitEvenly } from './split.js';

const PAYLOAD = 32;
/** Above this many clients a round is too long to drain between alternating slices. */
const ROUND_DRAINS_QUICKLY = 200;

/**
 * A broadcast workload for a number of clients.
 * @param clients - connected clients, each sending once per round
 * @param clientLoop - both servers relay with the loop over `wss.clients` from ws's README
 *   (`broadcast-loop-N`): the speed a ws program gets by changing only its import
 * @returns the workload
 */
export function broadcastWorkload(clients: number, clientLoop = false): Workload {
  const name = clientLoop ? `broadcast-loop-${clients}` : `broadcast-${clients}`;
  const figure: FigureDef = {
    key: `${name}.deliveries-per-s`,
    label: `${clientLoop ? 'ws-loop broadcast' : 'broadcast'}, ${clients.toLocaleString('en-US')} clients (deliveries/s)`,
    unit: 'deliveries/s',
    better: 'higher',
  };
  return {
    name,
    title: `every one of ${clients} clients sends once per round; the server relays to all${clientLoop ? ' with the wss.clients loop' : ''}`,
    figures: [figure],
    // At 1,000 clients the ws loop takes seconds per round on both sides; at 100 it runs the same
    // server code, which is what the CI smoke run needs.
    ...(clientLoop && clients > ROUND_DRAINS_QUICKLY ? { notInQuick: true } : {}),
    async run(context, order) {
      const outcomes = await measureAlternating(context, {
        workload: name,
        mode: clientLoop ? 'broadcast-loop' : 'broadcast',
        // A round is N² deliveries: at 100 clients it drains in a fraction of a second, so slices
        // alternate; at 1,000 a round can take seconds, so each side runs once, one after the other.
        ...(clients > ROUND_DRAINS_QUICKLY ? { slices: 1 } : { drainTimeoutMs: 5_000 }),
        jobs: (port) => {
          let firstClient = 0;
          return splitEvenly(clients, context.workers).map((share): BroadcastJob => {
            const job: BroadcastJob = {
              kind: 'broadcast',
              host: context.host,
              port,
              firstClient,
              clients: share,
              totalClients: clients,
              payloadSize: PAYLOAD,
            };
            firstClient += share;
            return job;
          });
        },
      }, order);
      return mapOutcomes(outcomes, (impl, measurement) => {
        const deliveries = measurement.medianSliceRate;
        return toRunRecord(
          impl,
          measurement,
          { [figure.key]: deliveries },
          {
            clients,
            payloadSize: PAYLOAD,
            broadcastStrategy: measurement.broadcastStrategy,
            roundsPerSecond: deliveries / (clients * clients),
            roundsCompletedIncludingWarmup: measurement.rounds,
            serverCpuMicrosPerDelivery: cpuMicrosPerMessage(measurement),
          },
        );
      });
    },
  };
}
