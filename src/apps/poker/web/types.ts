/**
 * What the poker server sends the page: the wire shapes of ../wire.ts, which the engine's views
 * and the server use too.
 */
export type {
  LegalActions, LobbyTable, PrivateView, PublicEvent as TableEvent, PublicHand, PublicSeat, PublicTable, Session, ShownHand, TableMessage,
} from '../wire.js';
