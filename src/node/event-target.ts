/**
 * The WHATWG `EventTarget` side of a `WebSocket` (websocket.ts): `addEventListener`,
 * `removeEventListener` and the `on<event>` attributes, laid over the `ws` events of the
 * EventEmitter. A DOM listener is registered as an EventEmitter listener that wraps it and turns
 * the `ws` arguments into an event object (events.ts).
 * @packageDocumentation
 */
import type { EventEmitter } from 'node:events';
import type { Buffer } from 'node:buffer';
import { ReadyState, wasClean } from '../protocol/connection.js';
import { WsCloseEvent, WsErrorEvent, WsEvent, WsMessageEvent, type EventListenerLike } from './events.js';
import { kState } from './internal.js';

const WHATWG_EVENTS = ['open', 'message', 'close', 'error'] as const;
/** The events with a DOM listener form. */
export type WhatwgEvent = (typeof WHATWG_EVENTS)[number];

/**
 * The connection, as this glue sees it: an EventEmitter. It is a `WebSocket`, whose fields
 * (internal.ts) are not part of its public type; the close event reads its state (`wasClean`).
 */
export type EventHost = EventEmitter;

/** A listener registered through `addEventListener` or an `on<event>` attribute. */
interface WrappedListener {
  (...args: unknown[]): void;
  listener: EventListenerLike;
  attribute: boolean;
}

/** Whether `type` is one of the four WHATWG events. */
export function isWhatwgEvent(type: string): type is WhatwgEvent {
  return (WHATWG_EVENTS as readonly string[]).includes(type);
}

/** `addEventListener`: a DOM listener, once per (type, listener) pair (the DOM rule). */
export function addEventListener(ws: EventHost, type: string, listener: EventListenerLike | null, once: boolean): void {
  if (listener === null || !isWhatwgEvent(type)) return;
  if (findListener(ws, type, listener) !== undefined) return;
  const wrapped = wrap(ws, type, listener, false);
  if (once) ws.once(type, wrapped);
  else ws.on(type, wrapped);
}

/** `removeEventListener`. */
export function removeEventListener(ws: EventHost, type: string, listener: EventListenerLike | null): void {
  if (listener === null || !isWhatwgEvent(type)) return;
  const raw = findListener(ws, type, listener);
  if (raw !== undefined) ws.removeListener(type, raw as WrappedListener);
}

/** The raw listener added by `addEventListener(type, listener)`, looking inside `once` wrappers. */
function findListener(ws: EventHost, type: WhatwgEvent, listener: EventListenerLike): unknown {
  for (const raw of ws.rawListeners(type) as Array<WrappedListener | { listener: WrappedListener }>) {
    // EventEmitter wraps `once` listeners; the wrapper's `listener` is ours.
    const wrapped = typeof (raw as WrappedListener).attribute === 'boolean' ? (raw as WrappedListener) : (raw as { listener: WrappedListener }).listener;
    if (wrapped.listener === listener && !wrapped.attribute) return raw;
  }
  return undefined;
}

function wrap(ws: EventHost, type: WhatwgEvent, listener: EventListenerLike, attribute: boolean): WrappedListener {
  const call = (event: WsEvent): void => {
    event.target = ws;
    if (typeof listener === 'function') listener.call(ws, event);
    else listener.handleEvent(event);
  };
  let wrapped: WrappedListener;
  switch (type) {
    case 'open':
      wrapped = (() => call(new WsEvent('open'))) as WrappedListener;
      break;
    case 'message':
      wrapped = ((data: unknown, isBinary: unknown) => call(new WsMessageEvent(isBinary === true ? data : (data as Buffer).toString('utf8')))) as WrappedListener;
      break;
    case 'close':
      // `wasClean`: both close frames passed (RFC 6455 §7.1.1; the state machine keeps that).
      wrapped = ((code: unknown, reason: unknown) => call(new WsCloseEvent(code as number, (reason as Buffer).toString('utf8'), wasClean((ws as EventHost & { readonly [kState]: number })[kState])))) as WrappedListener;
      break;
    default:
      wrapped = ((error: unknown) => call(new WsErrorEvent(error))) as WrappedListener;
  }
  wrapped.listener = listener;
  wrapped.attribute = attribute;
  return wrapped;
}

/** The `on<type>` attribute's handler, or null. */
export function getAttribute(ws: EventHost, type: WhatwgEvent): EventListenerLike | null {
  for (const l of ws.rawListeners(type) as WrappedListener[]) if (l.attribute) return l.listener;
  return null;
}

/** Sets the `on<type>` attribute: replaces its handler (a non-function clears it). */
export function setAttribute(ws: EventHost, type: WhatwgEvent, handler: unknown): void {
  for (const l of ws.rawListeners(type) as WrappedListener[]) {
    if (l.attribute) {
      ws.removeListener(type, l);
      break;
    }
  }
  if (typeof handler === 'function') ws.on(type, wrap(ws, type, handler as EventListenerLike, true));
}

/**
 * Gives `cls` (`WebSocket` or a subclass) the WebIDL attributes browsers and `ws` give it: the
 * ready-state constants are enumerable, read-only, non-configurable data properties of the class
 * and of its prototype, and the attributes are enumerable, configurable accessors of the
 * prototype (copied onto a subclass's own prototype, where code that lists them looks).
 * @internal
 */
export function defineWebIdlAttributes(cls: abstract new (...args: never[]) => EventEmitter): void {
  const prototype = cls.prototype as object;
  for (const [name, value] of Object.entries(ReadyState)) {
    const descriptor = { value, enumerable: true, writable: false, configurable: false };
    Object.defineProperty(cls, name, descriptor);
    Object.defineProperty(prototype, name, descriptor);
  }
  for (const name of ['binaryType', 'bufferedAmount', 'extensions', 'isPaused', 'protocol', 'readyState', 'url', 'onclose', 'onerror', 'onmessage', 'onopen']) {
    let descriptor: PropertyDescriptor | undefined;
    for (let o: object | null = prototype; o !== null && descriptor === undefined; o = Object.getPrototypeOf(o) as object | null) {
      descriptor = Object.getOwnPropertyDescriptor(o, name);
    }
    if (descriptor !== undefined) Object.defineProperty(prototype, name, { ...descriptor, enumerable: true, configurable: true });
  }
}
