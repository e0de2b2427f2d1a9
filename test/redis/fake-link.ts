/**
 * A Redis link the test drives by hand, and the context the adapter's parts share, for unit
 * tests of feeds.ts, history-reads.ts and local-epochs.ts without a Redis: every script call is
 * recorded and answered by the test, every channel listener can be fed entries.
 */
import { Buffer } from 'node:buffer';
import type { AdapterNode, Delivery } from '../../src/pubsub/adapter.js';
import { TopicMessage } from '../../src/pubsub/message.js';
import type { PresenceMember } from '../../src/wire/envelope.js';
import type { AdapterContext } from '../../src/redis/adapter-context.js';
import { encodeBody } from '../../src/redis/codec.js';
import { newCounters } from '../../src/redis/health.js';
import type { HealthListener } from '../../src/redis/health.js';
import { Keys } from '../../src/redis/keys.js';
import type { ChannelListener, Link } from '../../src/redis/link.js';
import { SCRIPTS, type Script } from '../../src/redis/scripts.js';

/** One script run, with a way to answer it. */
export interface Run {
  readonly script: Script;
  readonly keys: readonly string[];
  readonly args: ReadonlyArray<string | Buffer>;
  readonly resolve: (reply: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** A link whose scripts wait for the test's answer. */
export class FakeLink implements Link {
  healthy = true;
  commandsUp = true;
  reason = 'ok';
  readonly runs: Run[] = [];
  readonly subscribes: string[] = [];
  readonly unsubscribes: string[] = [];
  readonly listeners = new Map<string, ChannelListener>();
  /** What each SUBSCRIBE returns (default: confirmed at once). */
  subscribeResult: () => Promise<void> = () => Promise.resolve();

  onHealth(_listener: HealthListener): () => void {
    return () => {};
  }

  connect(): Promise<void> {
    return Promise.resolve();
  }

  run(script: Script, keys: readonly string[], args: ReadonlyArray<string | Buffer>): Promise<unknown> {
    return new Promise((resolve, reject) => this.runs.push({ script, keys, args, resolve, reject }));
  }

  command(): Promise<unknown> {
    return Promise.reject(new Error('not in this fake'));
  }

  subscribe(channel: string, listener: ChannelListener): Promise<void> {
    this.subscribes.push(channel);
    this.listeners.set(channel, listener);
    return this.subscribeResult();
  }

  unsubscribe(channel: string): Promise<void> {
    this.unsubscribes.push(channel);
    this.listeners.delete(channel);
    return Promise.resolve();
  }

  close(): void {}

  /** Feeds an entry to the channel's listener, as Redis would. */
  send(channel: string, entry: Buffer | string): void {
    const listener = this.listeners.get(channel);
    if (listener === undefined) throw new Error(`not subscribed to ${channel}`);
    listener(Buffer.from(entry), Buffer.from(channel, 'latin1'));
  }
}

/** An engine that records what it is given. */
export class FakeNode implements AdapterNode {
  readonly delivered: TopicMessage[] = [];
  readonly gaps: string[] = [];
  readonly presence: string[] = [];

  deliver(message: TopicMessage): Delivery {
    this.delivered.push(message);
    return { delivered: 1, dropped: 0, held: 0, closed: 0, conflated: 0 };
  }

  presenceChanged(topic: string, event: 'join' | 'leave', member: PresenceMember): void {
    this.presence.push(`${topic} ${event} ${member.user}`);
  }

  gap(topic: string): void {
    this.gaps.push(topic);
  }

  /** The data of what was delivered, as strings. */
  get data(): string[] {
    return this.delivered.map((m) => m.string ?? '');
  }
}

/** A context around a fake link and one fake engine. */
export function fakeContext(): { ctx: AdapterContext; link: FakeLink; node: FakeNode; logs: string[] } {
  const link = new FakeLink();
  const node = new FakeNode();
  const logs: string[] = [];
  const ctx: AdapterContext = {
    nodeId: 'n1',
    link,
    keys: new Keys('t:', false),
    scripts: SCRIPTS,
    counters: newCounters(),
    log: (level, message) => logs.push(`${level}: ${message}`),
    nodes: [node],
    topicTtl: 60_000,
    // Long enough never to fire in a test: the tests settle every SUBSCRIBE themselves.
    commandTimeout: 60_000,
  };
  return { ctx, link, node, logs };
}

/** A message entry as the publish script writes it (channel and history). */
export function messageEntry(topic: string, epoch: string, offset: number, data: string, publishId = `other:${offset}`): Buffer {
  return Buffer.concat([Buffer.from(`m\n${epoch}\n${offset}\n${1000 + offset}\n`), encodeBody(new TopicMessage(topic, data), publishId)]);
}

/** Lets pending promise callbacks and one setImmediate run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
