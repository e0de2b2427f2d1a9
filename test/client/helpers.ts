/** Shared set-up for the client unit tests. */
import { ParleyClient, type ParleyClientOptions } from '../../src/client/index.js';
import type { ServerEnvelope } from '../../src/wire/envelope.js';
import { FakeClock, fakeWebSocket, type FakeSocket } from './fakes.js';

/** A client on a fake WebSocket and a fake clock, with no jitter unless `random` is given. */
export function setup(options: ParleyClientOptions = {}): { client: ParleyClient; clock: FakeClock; sockets: FakeSocket[]; latest: () => FakeSocket } {
  const fake = fakeWebSocket();
  const clock = new FakeClock();
  const client = new ParleyClient('ws://example.test/rt', { WebSocket: fake.WebSocket, clock, random: () => 0, ...options });
  return { client, clock, sockets: fake.sockets, latest: fake.latest };
}

/** Answers the last `sub` for `topic` with a `subok`. @returns the `sub` it answered */
export function subok(socket: FakeSocket, topic: string, epoch: string, offset: number, extra: { recovered?: boolean; snapshot?: unknown } = {}): Record<string, unknown> {
  const sub = socket.sentOf('sub').filter((e) => e.topic === topic).pop();
  if (sub === undefined) throw new Error(`no sub for ${topic}`);
  socket.deliver({ t: 'subok', id: sub.id as string, topic, epoch, offset, ...extra });
  return sub;
}

/** A `msg` envelope. */
export function msg(topic: string, epoch: string, offset: number, data: unknown = offset): ServerEnvelope {
  return { t: 'msg', topic, epoch, offset, data };
}
