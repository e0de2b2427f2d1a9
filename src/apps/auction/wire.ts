/**
 * The auction's wire shapes: what the server sends the page (docs/apps.md, "Live auction"). Pure
 * types with no imports, shared by the server modules and the browser code, so the two cannot
 * drift apart: a change here is checked against both by the compiler.
 * @packageDocumentation
 */

/** Where a lot is in its life. `open` takes bids; `sold` and `unsold` are final. */
export type LotStatus = 'open' | 'sold' | 'unsold';

/** A bid as the public sees it. */
export interface PublicBid {
  id: number;
  user: string;
  name: string;
  amount: number;
  at: number;
}

/** What anyone watching a lot may see: everything but the reserve's amount and the keys. */
export interface LotView {
  id: number;
  title: string;
  description: string;
  image: string;
  seller: string;
  sellerName: string;
  startingPrice: number;
  increment: number;
  createdAt: number;
  endsAt: number;
  status: LotStatus;
  /** The highest bid, or the starting price before any bid. */
  price: number;
  /** The smallest amount the next bid may have. */
  minimumBid: number;
  leader: { user: string; name: string } | null;
  bidCount: number;
  hasReserve: boolean;
  reserveMet: boolean;
  /** Grows with every change of the lot, so a page keeps the newest of two views. */
  rev: number;
  /** The newest bids first, at most {@link RECENT_BIDS}. */
  recentBids: PublicBid[];
}

/** What a bidder gets back for an accepted bid (also for a retry of it). */
export interface BidReceipt {
  bid: { id: number; lot: number; amount: number; at: number };
  /** The lot now (after this bid, or later bids for a retry). */
  lot: LotView;
  /** Whether this answer is for a retry of a bid already accepted. */
  replayed: boolean;
}

/** What the lobby lists about each lot. */
export interface LotSummary {
  id: number;
  title: string;
  image: string;
  price: number;
  bidCount: number;
  endsAt: number;
  status: LotStatus;
  sellerName: string;
  rev: number;
}

/** A private notice on `user:<id>`: outbid, or the end of a lot the user won or sold. */
export type Notice =
  | { type: 'outbid'; lot: number; title: string; price: number; minimumBid: number }
  | { type: 'ended'; lot: number; title: string; status: LotStatus; price: number | null; won?: boolean; seller?: boolean };
