/**
 * What the auction server sends the page (see docs/apps.md, "Live auction"). Browser code may
 * not import the server's modules, so the shapes are restated here.
 */

/** Where a lot is in its life. */
export type LotStatus = 'open' | 'sold' | 'unsold';

/** A bid as the public sees it. */
export interface PublicBid {
  id: number;
  user: string;
  name: string;
  amount: number;
  at: number;
}

/** A lot as anyone watching it sees it (amounts in cents, times in server ms). */
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
  price: number;
  minimumBid: number;
  leader: { user: string; name: string } | null;
  bidCount: number;
  hasReserve: boolean;
  reserveMet: boolean;
  rev: number;
  recentBids: PublicBid[];
}

/** A lot as the lobby lists it. */
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

/** A private notice on `user:<id>`. */
export type Notice =
  | { type: 'outbid'; lot: number; title: string; price: number; minimumBid: number }
  | { type: 'ended'; lot: number; title: string; status: LotStatus; price: number | null; won?: boolean; seller?: boolean };

/** The answer to an accepted bid. */
export interface BidReceipt {
  bid: { id: number; lot: number; amount: number; at: number };
  lot: LotView;
  replayed: boolean;
}
