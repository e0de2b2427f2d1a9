/**
 * How each implementation relays one message to every connected client in broadcast mode.
 * Kept apart so Parley's entry can switch to its own publish once that exists.
 */
import { OPEN, type WsData, type WsLikeServer } from './ws-api.js';

/** Relays one received message to every client of a server. */
export type Broadcast = (server: WsLikeServer, data: WsData, isBinary: boolean) => void;

/**
 * `ws`: the loop over `wss.clients` from the ws README — each send frames the message again.
 * @param server - the server whose clients receive the message
 * @param data - the message as received
 * @param isBinary - its type, kept
 */
export function broadcastWithClientLoop(server: WsLikeServer, data: WsData, isBinary: boolean): void {
  for (const client of server.clients) {
    if (client.readyState === OPEN) client.send(data, { binary: isBinary });
  }
}

/**
 * Parley: its topics/publish API does not exist yet, so this is the same client loop as ws.
 * When Parley's publish lands (frame once, same bytes to every subscriber), switch this function
 * to it — subscribe each connection on 'connection' and publish here — and nothing else changes.
 * @param server - the server whose clients receive the message
 * @param data - the message as received
 * @param isBinary - its type, kept
 */
export function broadcastParley(server: WsLikeServer, data: WsData, isBinary: boolean): void {
  broadcastWithClientLoop(server, data, isBinary);
}

/**
 * Picks the broadcast for an implementation.
 * @param impl - which slot the server fills
 * @returns the function and a name for the report
 */
export function chooseBroadcast(impl: 'parley' | 'ws'): { readonly broadcast: Broadcast; readonly name: string } {
  return impl === 'parley'
    ? { broadcast: broadcastParley, name: 'client loop (Parley publish not available yet)' }
    : { broadcast: broadcastWithClientLoop, name: 'client loop (ws README)' };
}
