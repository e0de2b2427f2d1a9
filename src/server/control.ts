/**
 * Commands between the servers of a cluster, carried by the cluster adapter itself: each server
 * subscribes an in-process subscriber (no socket) to the reserved topic `parley:control`, so a
 * command published on one server reaches every server — through the shared in-memory adapter or
 * through Redis. Used by `POST /api/users/{user}/disconnect`, whose user may be connected to any
 * server. Clients can neither subscribe nor publish to `parley:` topics.
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import type { Subscriber, WebSocketServer } from '../index.js';

/** The reserved topic. */
export const CONTROL_TOPIC = 'parley:control';

/** A command every server carries out. */
export interface DisconnectCommand {
  op: 'disconnect';
  user: string;
  code: number;
  reason: string;
  /** The server that sent it (it has already acted). */
  from: string;
}

/** What a server does on a command. */
export interface ControlHandlers {
  disconnect(user: string, code: number, reason: string): number;
}

function isDisconnect(value: unknown): value is DisconnectCommand {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return c.op === 'disconnect' && typeof c.user === 'string' && typeof c.code === 'number' && typeof c.reason === 'string' && typeof c.from === 'string';
}

/** One server's end of the control channel. */
export class ControlChannel {
  readonly #wss: WebSocketServer;
  readonly #id = randomBytes(6).toString('base64url');
  readonly #subscriber: Subscriber;

  /**
   * @param wss - the server whose engine carries the channel
   * @param handlers - what to do on commands from other servers
   * @param onError - a command that could not be read
   */
  constructor(wss: WebSocketServer, handlers: ControlHandlers, onError: (error: unknown) => void) {
    this.#wss = wss;
    const self = this.#id;
    this.#subscriber = {
      id: `control.${self}`,
      envelopes: false,
      bufferedAmount: 0,
      send(frame) {
        try {
          const command = JSON.parse(frame.payload.toString('utf8')) as unknown;
          if (isDisconnect(command) && command.from !== self) handlers.disconnect(command.user, command.code, command.reason);
        } catch (error) {
          onError(error);
        }
      },
      close() {},
    };
    wss.pubsub.subscribe(this.#subscriber, CONTROL_TOPIC);
  }

  /** Tells every other server to disconnect `user` (this server acts on its own). */
  disconnect(user: string, code: number, reason: string): void {
    const command: DisconnectCommand = { op: 'disconnect', user, code, reason, from: this.#id };
    this.#wss.publish(CONTROL_TOPIC, command);
  }

  /** Leaves the channel. */
  close(): void {
    this.#wss.pubsub.unsubscribe(this.#subscriber, CONTROL_TOPIC);
  }
}
