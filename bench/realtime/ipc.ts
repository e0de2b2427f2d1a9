/** Messages between the real-time benchmark and its server children. */

/** What a server reports about itself. */
export interface RealtimeStats {
  /** User + system CPU seconds since it started. */
  readonly cpuSeconds: number;
  readonly rss: number;
  readonly clients: number;
  /** The largest `bufferedAmount` of any connection: what the slowest client makes it hold. */
  readonly maxBuffered: number;
  /** Parley only: the topic's counts. */
  readonly topic: { readonly dropped: number; readonly delivered: number } | undefined;
}

/** To a server. */
export type ToServer = { readonly type: 'stats'; readonly id: number };

/** From a server. */
export type FromServer = { readonly type: 'stats'; readonly id: number; readonly stats: RealtimeStats };
