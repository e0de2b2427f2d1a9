/**
 * What the auction server sends the page: the wire shapes of ../wire.ts, which the server modules
 * use too.
 */
export type { BidReceipt, LotStatus, LotSummary, LotView, Notice, PublicBid } from '../wire.js';
