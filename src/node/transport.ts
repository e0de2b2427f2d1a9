/**
 * Binding the upgraded socket to a `WebSocket` (websocket.ts): once attached, frames flow. The
 * socket's listeners are functions shared by every connection, which find theirs through the
 * socket: an idle connection holds no closures (memory per idle connection is a headline figure,
 * docs/benchmarks.md). They read and write the connection's fields (internal.ts) directly.
 * @packageDocumentation
 */
import type { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { handshakeDone, stateOf, transportErrored } from '../protocol/connection.js';
import { ConnectionFlag, kDeflate, kFlags, kInbound, kSender, kSettings, kSocket, kState } from './internal.js';
import { applyStep, transportClose, transportEnd } from './close.js';
import { receiveSide, type ReceiveHost } from './receive.js';
import { takeDeflateSetup } from './handshake-record.js';
import { PerMessageDeflate } from './deflate-codec.js';
import type { ConnectionSettings } from './settings.js';

/** What attaching needs of the connection: the receive side's, with the socket and codec to set. */
export interface TransportHost extends ReceiveHost {
  [kSocket]: Duplex | undefined;
  [kSettings]: ConnectionSettings;
  [kDeflate]: PerMessageDeflate | undefined;
}

/** The owning connection is kept on its socket under this key, for the shared listeners. */
const kOwner = Symbol('parley.owner');
type OwnedSocket = Duplex & { [kOwner]: TransportHost };

/**
 * Binds the upgraded socket (`settings`, on the server, are the server's) and emits 'open'.
 * `head` is what came with the upgrade response or request, the first bytes of the stream.
 */
export function attach(ws: TransportHost, socket: Duplex, head: Buffer, settings: ConnectionSettings | undefined): void {
  if (settings !== undefined) ws[kSettings] = settings;
  const deflateSetup = takeDeflateSetup(ws);
  ws[kSocket] = socket;
  // zlib streams are created on the first compressed message, not here (deflate-codec.ts).
  if (deflateSetup !== undefined) ws[kDeflate] = new PerMessageDeflate(deflateSetup, (ws[kFlags] & ConnectionFlag.IS_SERVER) !== 0, ws[kSettings].maxPayload);
  const net = socket as Duplex & { setNoDelay?(v: boolean): void; setTimeout?(ms: number): void };
  net.setTimeout?.(0);
  net.setNoDelay?.(true);
  // Bytes that came with the upgrade go first, and are read only after the application has
  // had the 'open'/'connection' event to attach its listeners (bad-input guide §7).
  if (head.length > 0) socket.unshift(head);
  (socket as OwnedSocket)[kOwner] = ws;
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('close', onClose);
  socket.on('error', onError);
  socket.on('drain', onDrain);
  ws[kState] = stateOf(handshakeDone(ws[kState]));
  ws.emit('open');
}

function onData(this: OwnedSocket, chunk: Buffer): void {
  const ws = this[kOwner];
  ws[kFlags] |= ConnectionFlag.RECEIVED;
  (ws[kInbound] ?? receiveSide(ws)).push(chunk);
  // What the handlers of this chunk's messages sent back on this connection (an echo, a reply,
  // pongs) leaves now, in one write, rather than at the end of the turn: a reply does not wait
  // for the rest of the turn's I/O, and sends to other connections still batch per turn.
  const sender = ws[kSender];
  if (sender?.batched === true) sender.flush();
}

/** The peer ended its side; the end waits behind a received message being inflated. */
function onEnd(this: OwnedSocket): void {
  const ws = this[kOwner];
  if (ws[kInbound]?.deferEnd() !== true) transportEnd(ws);
}

/** The socket closed; the close waits behind a received message being inflated. */
function onClose(this: OwnedSocket): void {
  const ws = this[kOwner];
  if (ws[kInbound]?.deferClose() !== true) transportClose(ws);
}

function onError(this: OwnedSocket): void {
  const ws = this[kOwner];
  applyStep(ws, transportErrored(ws[kState]));
}

function onDrain(this: OwnedSocket): void {
  this[kOwner][kSender]?.emitDrain();
}
