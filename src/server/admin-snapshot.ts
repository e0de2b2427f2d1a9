/**
 * What the admin page shows, computed from the server's live state each time a snapshot is due:
 * rates from the growth of the hot-path totals since the previous snapshot, the connections with
 * the most queued bytes, the slow consumers, and the busiest topics.
 * @packageDocumentation
 */
import type { WebSocketServer } from '../index.js';
import type { AdminConnection, AdminSnapshot } from './admin.js';
import type { ServerConnection } from './connection.js';
import type { Totals } from './metrics.js';
import type { Identity } from './token-auth.js';

/** What snapshots are made from. */
export interface SnapshotSources {
  connections: ReadonlySet<ServerConnection>;
  totals: Totals;
  wss: WebSocketServer;
  startedAt: number;
  maxQueuedBytes: number;
  adapter: () => AdminSnapshot['adapter'];
  shuttingDown: () => boolean;
}

/** Rows per table: the page is a tool, not an export. */
const ROWS = 50;
/** Topics looked at per snapshot, at most. */
const MAX_TOPICS = 5000;

/** Returns a function that makes one snapshot per call. */
export function adminSnapshots(sources: SnapshotSources): () => AdminSnapshot {
  const { connections, totals, wss } = sources;
  let last = { time: Date.now(), messagesIn: 0, messagesOut: 0, publishes: 0, deliveries: 0 };
  return () => {
    const now = Date.now();
    const seconds = Math.max(0.001, (now - last.time) / 1000);
    const per = (a: number, b: number): number => Math.round(((a - b) / seconds) * 10) / 10;
    const rates = {
      messagesInPerSec: per(totals.messagesIn, last.messagesIn),
      messagesOutPerSec: per(totals.messagesOut, last.messagesOut),
      publishesPerSec: per(totals.publishes, last.publishes),
      deliveriesPerSec: per(totals.deliveries, last.deliveries),
    };
    last = { time: now, messagesIn: totals.messagesIn, messagesOut: totals.messagesOut, publishes: totals.publishes, deliveries: totals.deliveries };
    const view = (ws: ServerConnection): AdminConnection => ({
      id: ws.connectionId ?? '',
      endpoint: ws.endpoint,
      user: (ws.data as Identity | undefined)?.user ?? '(anonymous)',
      address: ws.address,
      protocol: ws.protocol || 'plain',
      topics: ws.topics.length,
      queuedBytes: ws.bufferedAmount,
      messagesIn: ws.counts.in,
      messagesOut: ws.counts.out,
      ageSec: Math.round((now - ws.openedAt) / 1000),
    });
    // The engine keeps no list of topics; the connections' subscriptions are the live ones. The
    // table is /ws's topics: an app's topics are in the app's own namespace, not in `wss`.
    const topicNames = new Set<string>();
    for (const ws of connections) {
      if (topicNames.size >= MAX_TOPICS) break;
      if (ws.endpoint !== '/ws') continue;
      for (const t of ws.topics) topicNames.add(t);
    }
    const topics = [...topicNames].map((t) => wss.topicStats(t)).sort((a, b) => b.subscribers - a.subscribers).slice(0, ROWS)
      .map((s) => ({ topic: s.topic, subscribers: s.subscribers, published: s.published, delivered: s.delivered, dropped: s.dropped, policy: s.policy }));
    const byQueue = [...connections].sort((a, b) => b.bufferedAmount - a.bufferedAmount);
    return {
      time: now,
      uptimeSec: Math.round((now - sources.startedAt) / 1000),
      shuttingDown: sources.shuttingDown(),
      adapter: sources.adapter(),
      connections: connections.size,
      rates,
      totals: { messagesIn: totals.messagesIn, messagesOut: totals.messagesOut, publishes: totals.publishes, deliveries: totals.deliveries, dropped: totals.dropped + totals.closed },
      topics,
      busiest: byQueue.slice(0, ROWS).map(view),
      slow: byQueue.filter((ws) => ws.bufferedAmount > sources.maxQueuedBytes).slice(0, ROWS).map(view),
    };
  };
}
