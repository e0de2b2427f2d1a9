/**
 * What the primary and the workers of `parley serve --workers` say to each other over the cluster
 * IPC channel (node:cluster with `serialization: 'advanced'`, so message bytes travel as bytes, not
 * as JSON or base64). Every message carries `parley: 1`, which tells ours from any other message
 * on the channel. Requests carry an `id`; the answer is a `reply` with the same id.
 * @packageDocumentation
 */
import type { HistoryLimits, MessageRecord, PresenceMember, StreamPosition } from '../../index.js';

/** One thing a worker asks the primary's sequencer (see ipc-adapter.ts and sequencer.ts). */
export type WorkerCall =
  /** This worker has (or no longer has) subscribers for `topic`: send it the topic's messages. */
  | { parley: 1; t: 'watch'; topic: string; active: boolean }
  /** Sequence a message: offset, history, delivery to every watching worker. `pid` names it for its sender. */
  | { parley: 1; t: 'publish'; id: number; pid: string; record: MessageRecord; limits: HistoryLimits; idempotency?: { key: string; ttl: number } }
  | { parley: 1; t: 'position'; id: number; topic: string; limits: HistoryLimits }
  | { parley: 1; t: 'since'; id: number; topic: string; from: StreamPosition; limits: HistoryLimits }
  | { parley: 1; t: 'join'; topic: string; member: PresenceMember }
  | { parley: 1; t: 'leave'; topic: string; member: PresenceMember }
  | { parley: 1; t: 'members'; id: number; topic: string };

/**
 * What a worker sends the primary: one call, or several in one message (the subscribes of one
 * turn of the worker's event loop), handled in their order as if sent one by one.
 */
export type WorkerRequest = WorkerCall | { parley: 1; t: 'batch'; calls: WorkerCall[] };

/** One thing the primary's sequencer sends a worker. */
export type SequencerEvent =
  /** A sequenced message for a topic the worker watches; `pid` is the sender's publish id. */
  | { parley: 1; t: 'deliver'; record: MessageRecord; pid: string }
  | { parley: 1; t: 'presence'; topic: string; event: 'join' | 'leave'; member: PresenceMember }
  /** The answer to a request: `value` or `error` (a message for the worker's log and the client). */
  | { parley: 1; t: 'reply'; id: number; value?: unknown; error?: string };

/**
 * What the primary sends a worker: one event, or everything its answer to a batch produced for
 * that worker (the replies, in order), in one message.
 */
export type SequencerMessage = SequencerEvent | { parley: 1; t: 'batch'; events: SequencerEvent[] };

/** The supervisor's part of the conversation (supervisor.ts and worker.ts). */
export type ControlMessage =
  /** Worker to primary: listening on `port` (`url`, `wsUrl`: as `parley serve` prints them). */
  | { parley: 1; t: 'listening'; port: number; url: string; wsUrl: string }
  /** Primary to worker: drain and exit (a reload or a shutdown); `code` is the close code. */
  | { parley: 1; t: 'shutdown'; code: number };

/** Any message of ours on the channel. */
export type IpcMessage = WorkerRequest | SequencerMessage | ControlMessage;

/** Whether `value` is one of our messages (the channel may carry others, Node's own included). */
export function isIpcMessage(value: unknown): value is IpcMessage {
  return typeof value === 'object' && value !== null && (value as { parley?: unknown }).parley === 1 && typeof (value as { t?: unknown }).t === 'string';
}
