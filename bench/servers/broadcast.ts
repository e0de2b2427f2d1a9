/**
 * How each implementation relays one message to every connected client in broadcast mode.
 * Each library's documented way: ws loops over clients; Parley frames once (wss.broadcast).
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
 * Parley: `wss.broadcast()` frames the message once and writes the same bytes to every client,
 * batched per client until the end of the event-loop turn. A module without it (the ws-vs-ws
 * harness check) falls back to the client loop.
 * @param server - the server whose clients receive the message
 * @param data - the message as received
 * @param isBinary - its type, kept
 */
export function broadcastParley(server: WsLikeServer, data: WsData, isBinary: boolean): void {
  const withBroadcast = server as WsLikeServer & { broadcast?: (data: WsData, options: { binary: boolean }) => number };
  if (typeof withBroadcast.broadcast === 'function') withBroadcast.broadcast(data, { binary: isBinary });
  else broadcastWithClientLoop(server, data, isBinary);
}

/**
 * Picks the broadcast for an implementation.
 * @param impl - which slot the server fills
 * @param clientLoop - both slots use ws's README loop (the broadcast-loop workloads)
 * @returns the function and a name for the report
 */
export function chooseBroadcast(impl: 'parley' | 'ws', clientLoop = false): { readonly broadcast: Broadcast; readonly name: string } {
  return impl === 'parley' && !clientLoop
    ? { broadcast: broadcastParley, name: 'wss.broadcast: framed once, batched per turn' }
    : { broadcast: broadcastWithClientLoop, name: 'client loop (ws README)' };
}
