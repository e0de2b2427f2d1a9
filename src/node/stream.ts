/**
 * `createWebSocketStream(ws)`: a connection as a Node `Duplex`, as in `ws` 8. Each message read
 * is one chunk; each chunk written is sent as one message. Reading applies backpressure to the
 * peer through {@link WebSocket.pause}; ending the writable side starts the close handshake.
 * @packageDocumentation
 */
import { Duplex, type DuplexOptions } from 'node:stream';
import type { Buffer } from 'node:buffer';
import { WebSocket } from './websocket.js';
import type { RawData } from './ws-types.js';

/**
 * Wraps `ws` in a `Duplex`. Options are passed to the `Duplex`, except that the writable side is
 * never in object mode and the stream neither destroys itself nor emits 'close' on its own (it
 * emits 'close' once the connection has closed). With `readableObjectMode: true` text messages
 * are read as strings, binary ones as Buffers.
 *
 * Destroying the stream terminates the connection unless it is already closing because of an
 * error; an 'error' of the connection destroys the stream with that error.
 */
export function createWebSocketStream(ws: WebSocket, options?: DuplexOptions): Duplex {
  let terminateOnDestroy = true;
  const duplex = new Duplex({
    ...options,
    autoDestroy: false,
    emitClose: false,
    objectMode: false,
    writableObjectMode: false,
  });

  const onMessage = (data: RawData, isBinary: boolean): void => {
    const chunk = !isBinary && duplex.readableObjectMode ? (data as Buffer).toString('utf8') : data;
    // The readable buffer is full: stop reading from the socket until `_read` asks again, so a
    // slow consumer slows the peer down (TCP backpressure) instead of buffering without bound.
    if (!duplex.push(chunk)) ws.pause();
  };
  ws.on('message', onMessage);

  ws.once('error', (error: Error) => {
    if (duplex.destroyed) return;
    // The connection is already failing: closing it is the WebSocket's business now.
    terminateOnDestroy = false;
    duplex.destroy(error);
  });

  ws.once('close', () => {
    if (duplex.destroyed) return;
    duplex.push(null);
  });

  duplex._destroy = (error, callback): void => {
    ws.removeListener('message', onMessage);
    if (ws.readyState === WebSocket.CLOSED) {
      callback(error);
      process.nextTick(() => duplex.emit('close'));
      return;
    }
    let called = false;
    ws.once('error', (e: Error) => {
      called = true;
      callback(e);
    });
    ws.once('close', () => {
      if (!called) callback(error);
      process.nextTick(() => duplex.emit('close'));
    });
    if (terminateOnDestroy) ws.terminate();
  };

  duplex._final = (callback): void => {
    if (ws.readyState === WebSocket.CONNECTING) {
      ws.once('open', () => duplex._final(callback));
      return;
    }
    if (ws.readyState === WebSocket.CLOSED) {
      callback();
      return;
    }
    // The writable side is finished when the connection has closed (close handshake, RFC 6455
    // §7.1.2): by then every message written has been sent.
    ws.once('close', () => callback());
    ws.close();
  };

  duplex._read = (): void => {
    if (ws.isPaused) ws.resume();
  };

  duplex._write = (chunk: Buffer | string, _encoding, callback): void => {
    if (ws.readyState === WebSocket.CONNECTING) {
      ws.once('open', () => duplex._write(chunk, _encoding, callback));
      return;
    }
    ws.send(chunk, callback);
  };

  // Both sides done: the stream is destroyed (it does not destroy itself), which emits 'close'.
  // 'end' and 'finish' may come in either order; whichever is second destroys.
  duplex.on('end', () => {
    if (!duplex.destroyed && duplex.writableFinished) duplex.destroy();
  });
  duplex.on('finish', () => {
    if (!duplex.destroyed && duplex.readableEnded) duplex.destroy();
  });
  duplex.on('error', function onError(this: Duplex, error: Error) {
    // An error destroys the stream (autoDestroy is off). It is emitted again when nothing else
    // listens, so an unhandled stream error still throws as it would on any stream.
    this.removeListener('error', onError);
    this.destroy();
    if (this.listenerCount('error') === 0) this.emit('error', error);
  });

  return duplex;
}
