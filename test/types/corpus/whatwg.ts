// Browser-style code on ws: addEventListener, on* attributes, event objects.
import WebSocket from 'ws';

const ws = new WebSocket('ws://localhost:8080');

ws.onopen = (event: WebSocket.Event) => {
  console.log(event.type, event.target.url);
  ws.send('hi');
};
ws.onmessage = (event) => {
  const data: WebSocket.Data = event.data;
  if (typeof data === 'string') console.log(data.toUpperCase());
};
ws.onclose = (event: WebSocket.CloseEvent) => console.log(event.code, event.reason, event.wasClean);
ws.onerror = (event) => console.log(event.message, event.error);

function onMessage(event: WebSocket.MessageEvent): void {
  console.log(event.data, event.target.readyState);
}
ws.addEventListener('message', onMessage);
ws.addEventListener('message', onMessage, { once: true });
ws.removeEventListener('message', onMessage);
ws.addEventListener('close', (event) => console.log(event.code));
ws.addEventListener('error', (event) => console.log(event.message));
ws.addEventListener('open', { handleEvent: (event: WebSocket.Event) => console.log(event.type) });

const options: WebSocket.EventListenerOptions = { once: true };
ws.addEventListener('open', () => {}, options);

if (ws.onmessage !== null) ws.onmessage = null;
ws.onopen = null;
