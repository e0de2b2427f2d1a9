// Mistakes the type check must catch with ws and with Parley alike: each line marked with
// an error comment must be reported, and no other.
import WebSocket, { WebSocketServer } from 'ws';

const wss = new WebSocketServer({ port: '8080' }); // error: port is a number
const ws = new WebSocket('ws://localhost:8080');

ws.readyState = WebSocket.OPEN; // error: readonly
ws.send('data', 'binary'); // error: options are an object
const url: number = ws.url; // error: url is a string
wss.clients.add('someone'); // error: clients holds WebSockets
ws.close('normal'); // error: the code is a number
ws.addEventListener('message', (event: { data: number }) => console.log(event.data)); // error: data is not a number
ws.on('message', (data: WebSocket.RawData) => data.toUpperCase()); // error: RawData is bytes
ws.binaryType = 'text'; // error: not a binaryType
void url;
