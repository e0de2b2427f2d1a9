/**
 * The `ws` types that mention the connection (ws-types.ts), bound to the Node layer's
 * `WebSocket`: `Event`, `MessageEvent`, `FinishRequestCallback`, … as `ws` programs name them.
 * Types only.
 * @packageDocumentation
 */
import type { WebSocket } from './websocket.js';
import type * as ws from './ws-types.js';

/** @see ws.FinishRequestCallback */
export type FinishRequestCallback = ws.FinishRequestCallback<WebSocket>;
/** @see ws.Event */
export type Event = ws.Event<WebSocket>;
/** @see ws.ErrorEvent */
export type ErrorEvent = ws.ErrorEvent<WebSocket>;
/** @see ws.CloseEvent */
export type CloseEvent = ws.CloseEvent<WebSocket>;
/** @see ws.MessageEvent */
export type MessageEvent = ws.MessageEvent<WebSocket>;
/** @see ws.WebSocketEventMap */
export type WebSocketEventMap = ws.WebSocketEventMap<WebSocket>;
/** @see ws.WebSocketEventListener */
export type WebSocketEventListener<K extends keyof WebSocketEventMap> = ws.WebSocketEventListener<WebSocket, K>;
