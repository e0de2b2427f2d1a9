/**
 * The pub/sub engine bound to the Node layer's frames: what 'parley' exports as `PubSub` and what
 * every real-time server runs. The engine itself (src/pubsub) knows no sockets and no `Buffer`;
 * here it gets the Node layer's frame encoder, so every frame it sends is a pooled `Buffer` that
 * `ws.send()` writes as it is (and compresses once per window size where permessage-deflate was
 * agreed: src/node/deflate-codec.ts).
 * @packageDocumentation
 */
import { bufferFrameEncoder, type PreparedMessage } from '../node/prepared-message.js';
import { PubSub as Engine, type PubSubOptions as EngineOptions } from '../pubsub/pubsub.js';
import type { Subscriber as EngineSubscriber } from '../pubsub/subscriber.js';
import type { PreparedFrame } from '../protocol/index.js';

/**
 * One receiver of topic messages (see the engine's `Subscriber`); its `send` gets the Node layer's
 * {@link PreparedMessage}s unless its engine was given another encoder.
 */
export type Subscriber<F extends PreparedFrame = PreparedMessage> = EngineSubscriber<F>;

/** Options of {@link PubSub}: the engine's, with the Node layer's frame encoder by default. */
export type PubSubOptions = EngineOptions<PreparedMessage>;

/**
 * The pub/sub engine (topics, fan-out, recovery, presence) with the Node layer's frames: each
 * message is framed once into a `Buffer` and the same bytes go to every subscriber.
 */
export class PubSub extends Engine<PreparedMessage> {
  /** @param options - as the engine's; `encoder` defaults to the Node layer's */
  constructor(options: PubSubOptions = {}) {
    super({ ...options, encoder: options.encoder ?? bufferFrameEncoder });
  }
}
