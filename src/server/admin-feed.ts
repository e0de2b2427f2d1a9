/**
 * The admin feed's messages: what `/admin/ws` sends every second. A file of types with no
 * imports, so the page's browser build (src/server/web/admin, no Node types) and the server
 * share one definition.
 * @packageDocumentation
 */

/** One connection as the admin page shows it. */
export interface AdminConnection {
  id: string;
  /** The path it was accepted on: `/ws`, `/admin/ws`, or an app's endpoint such as `/poker/ws`. */
  endpoint: string;
  user: string;
  address: string;
  protocol: string;
  topics: number;
  queuedBytes: number;
  messagesIn: number;
  messagesOut: number;
  ageSec: number;
}

/** What the page receives every second. */
export interface AdminSnapshot {
  time: number;
  uptimeSec: number;
  shuttingDown: boolean;
  adapter: { kind: string; healthy: boolean | undefined };
  connections: number;
  rates: { messagesInPerSec: number; messagesOutPerSec: number; publishesPerSec: number; deliveriesPerSec: number };
  totals: { messagesIn: number; messagesOut: number; publishes: number; deliveries: number; dropped: number };
  topics: Array<{ topic: string; subscribers: number; published: number; delivered: number; dropped: number; policy: string }>;
  /** The connections with the most queued bytes (the slowest first), at most 50. */
  busiest: AdminConnection[];
  /** Connections over the slow-consumer cap. */
  slow: AdminConnection[];
}
