// ws's exported types named directly, as helpers in application code use them.
import type {
  AddressInfo, CertMeta, ClientOptions, CloseEvent, Data, ErrorEvent, Event, EventListenerOptions, FinishRequestCallback,
  MessageEvent, PerMessageDeflateOptions, RawData, ServerOptions, VerifyClientCallbackAsync, VerifyClientCallbackSync,
} from 'ws';
import WebSocket, { WebSocketServer } from 'ws';

export function decode(data: RawData, isBinary: boolean): string | Buffer {
  if (isBinary) return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
  return data.toString();
}

export function toText(data: Data): string {
  if (typeof data === 'string') return data;
  if (Array.isArray(data)) return Buffer.concat(data).toString();
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return Buffer.from(data).toString('utf8');
}

export function describe(event: Event | ErrorEvent | CloseEvent | MessageEvent): string {
  return event.type;
}

export function port(address: AddressInfo | string | null): number {
  return typeof address === 'object' && address !== null ? address.port : 0;
}

export type Everything = [
  CertMeta, ClientOptions, EventListenerOptions, FinishRequestCallback, PerMessageDeflateOptions, ServerOptions,
  VerifyClientCallbackAsync, VerifyClientCallbackSync,
];

export function attach(wss: WebSocketServer, onMessage: (ws: WebSocket, data: RawData) => void): void {
  wss.on('connection', (ws) => ws.on('message', (data) => onMessage(ws, data)));
}

export function serverPort(wss: WebSocketServer): number {
  return port(wss.address());
}
