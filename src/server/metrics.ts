/**
 * Prometheus metrics (`prom-client`) of one server, in a registry of its own (two servers in one
 * process do not mix their counts). Counters are incremented where things happen; values that
 * already exist elsewhere (open connections, queued bytes, socket byte counts, adapter health)
 * are read when Prometheus scrapes, so the hot paths pay nothing for them.
 * @packageDocumentation
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** What the metrics read at scrape time. */
export interface MetricsSources {
  /**
   * Open connections by endpoint (`/ws`, `/admin/ws`, an app's path such as `/poker/ws`) and
   * protocol (`parley.v1` or `plain`); every WebSocket the server accepted, apps' included.
   */
  connections(): Array<{ endpoint: string; protocol: string; count: number }>;
  /** Wire bytes read and written so far, closed connections included (monotonic). */
  bytes(): { read: number; written: number };
  /** Bytes queued for all connections, and connections above the slow-consumer cap. */
  backlog(): { queued: number; slow: number };
  /** 1 healthy, 0 not; undefined when the adapter cannot tell. */
  adapterHealthy(): boolean | undefined;
  /** The adapter's fault counters (the Redis adapter's `counters`); undefined for one without (memory). */
  adapterCounters?(): Readonly<AdapterCounters> | undefined;
  /** Whether the server is shutting down. */
  shuttingDown(): boolean;
}

/** The cluster adapter's counters the metrics read (monotonic; the Redis adapter has them all). */
export interface AdapterCounters {
  outages: number;
  reconnectAttempts: number;
  commandErrors: number;
  gaps: number;
  gapsAnnounced: number;
  publishedLocally: number;
  /** Publishes recognised as repeats of an idempotency key cluster-wide (optional: newer than the rest). */
  repeatedPublishes?: number;
  refused: number;
  filled: number;
  presenceSwept: number;
}

/**
 * Hot-path totals, plain numbers that only grow: the code that counts pays one addition, and the
 * metrics read them at scrape time.
 */
export class Totals {
  messagesIn = 0;
  messagesOut = 0;
  publishes = 0;
  deliveries = 0;
  dropped = 0;
  closed = 0;
  held = 0;
  conflated = 0;
}

/** The server's metrics. */
export class ServerMetrics {
  /** The registry `/metrics` renders. */
  readonly registry = new Registry();
  readonly connectionsOpened: Counter;
  /** Connections accepted at `/ws` by transport: `h1` (HTTP/1.1 upgrade) or `h2` (RFC 8441 stream). */
  readonly connectionsByTransport: Counter<'transport'>;
  /** Hot-path counts, read at scrape time. */
  readonly totals = new Totals();
  readonly handshakeFailures: Counter<'reason'>;
  readonly recoveries: Counter<'outcome'>;
  readonly limitCloses: Counter<'limit'>;
  readonly httpRequests: Counter<'route' | 'status'>;
  readonly apiPublishes: Counter<'target'>;

  /**
   * @param sources - values read at scrape time
   * @param options - whether to add Node's process metrics
   */
  constructor(sources: MetricsSources, options: { processMetrics: boolean; adapter: string }) {
    const registers = [this.registry];
    const counter = <L extends string>(name: string, help: string, labelNames: L[] = []): Counter<L> => new Counter<L>({ name, help, labelNames, registers });
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });

    new Gauge({
      name: 'parley_connections', help: 'Open WebSocket connections, by endpoint path and protocol', labelNames: ['endpoint', 'protocol'], registers,
      collect() {
        // Endpoints come and go (an app's path with no connection left): start from zero each time.
        this.reset();
        // /ws is always there, so a dashboard sees its series before the first connection.
        this.set({ endpoint: '/ws', protocol: 'parley.v1' }, 0);
        this.set({ endpoint: '/ws', protocol: 'plain' }, 0);
        for (const c of sources.connections()) this.set({ endpoint: c.endpoint, protocol: c.protocol }, c.count);
      },
    });
    this.connectionsOpened = counter('parley_connections_opened_total', 'WebSocket connections accepted');
    this.connectionsByTransport = counter('parley_connections_by_transport_total', 'WebSocket connections accepted at /ws, by transport (h1: HTTP/1.1 upgrade, h2: RFC 8441 stream)', ['transport']);
    const t = this.totals;
    // A counter whose values are monotonic totals kept elsewhere: each scrape adds what grew.
    const monotonic = (name: string, help: string, series: Array<[Record<string, string>, () => number]>): void => {
      const last = series.map(() => 0);
      new Counter({
        name, help, labelNames: Object.keys(series[0]![0]), registers,
        collect() {
          series.forEach(([labels, read], i) => {
            const value = read();
            if (value > last[i]!) {
              this.inc(labels, value - last[i]!);
              last[i] = value;
            } else if (value === 0 && last[i] === 0) {
              this.inc(labels, 0);
            }
          });
        },
      });
    };
    const one = (read: () => number): Array<[Record<string, string>, () => number]> => [[{}, read]];
    monotonic('parley_messages_received_total', 'WebSocket messages received from clients', one(() => t.messagesIn));
    monotonic('parley_messages_sent_total', 'WebSocket messages sent to clients', one(() => t.messagesOut));
    monotonic('parley_bytes_received_total', 'Bytes read from WebSocket connections (wire bytes, framing included)', one(() => sources.bytes().read));
    monotonic('parley_bytes_sent_total', 'Bytes written to WebSocket connections (wire bytes, framing included)', one(() => sources.bytes().written));
    monotonic('parley_publishes_total', 'Messages published through this server (clients, HTTP API and apps)', one(() => t.publishes));
    this.apiPublishes = counter('parley_api_publishes_total', 'Publishes made through the HTTP API', ['target']);
    monotonic('parley_deliveries_total', 'Messages queued for a subscriber on this server', one(() => t.deliveries));
    monotonic('parley_drops_total', 'Deliveries not made because of a slow consumer, by policy (drop: skipped; conflate: replaced by a newer message with the same key; close: connection closed)', [
      [{ policy: 'drop' }, () => t.dropped],
      [{ policy: 'conflate' }, () => t.conflated],
      [{ policy: 'close' }, () => t.closed],
    ]);
    monotonic('parley_backpressure_total', 'Deliveries held back for a slow or recovering subscriber (conflate policy, recovery in progress)', one(() => t.held));
    new Gauge({
      name: 'parley_queued_bytes', help: 'Bytes queued for all connections, not yet taken by the OS', registers,
      collect() { this.set(sources.backlog().queued); },
    });
    new Gauge({
      name: 'parley_slow_consumers', help: 'Connections with more queued than limits.maxQueuedBytes', registers,
      collect() { this.set(sources.backlog().slow); },
    });
    this.handshakeFailures = counter('parley_handshake_failures_total', 'Refused WebSocket handshakes by reason', ['reason']);
    this.recoveries = counter('parley_recoveries_total', 'Resubscriptions with `since`, by outcome (recovered: every missed message replayed; reset: snapshot instead)', ['outcome']);
    this.limitCloses = counter('parley_limit_closes_total', 'Connections closed by a limit', ['limit']);
    this.httpRequests = counter('parley_http_requests_total', 'HTTP requests to the server\'s own routes', ['route', 'status']);
    new Gauge({
      name: 'parley_adapter_healthy', help: 'Whether the cluster adapter is connected (1) or not (0)', labelNames: ['adapter'], registers,
      collect() {
        const healthy = sources.adapterHealthy();
        this.set({ adapter: options.adapter }, healthy === false ? 0 : 1);
      },
    });
    // The adapter's faults (0 for an adapter that has none to report, such as the in-memory one).
    const fault = (key: keyof AdapterCounters) => (): number => sources.adapterCounters?.()?.[key] ?? 0;
    monotonic('parley_adapter_outages_total', 'Times the cluster adapter lost its broker (Redis unreachable)', one(fault('outages')));
    monotonic('parley_adapter_reconnect_attempts_total', 'Reconnect attempts of the cluster adapter\'s connections', one(fault('reconnectAttempts')));
    monotonic('parley_adapter_command_errors_total', 'Broker commands that failed or timed out', one(fault('commandErrors')));
    monotonic('parley_adapter_gaps_total', 'Times a topic\'s subscribers on this server were told to resynchronise because messages may have been lost (they recover, or get recovered: false)', one(fault('gaps')));
    monotonic('parley_adapter_gaps_announced_total', 'Topics this server gave a new epoch after publishing to them locally during an outage (a gap announced to every server)', one(fault('gapsAnnounced')));
    monotonic('parley_adapter_published_locally_total', 'Messages published while the broker was unreachable, delivered on this server only', one(fault('publishedLocally')));
    monotonic('parley_adapter_repeated_publishes_total', 'Client publishes re-sent after a lost reply (possibly to another server) that the broker recognised by their id and did not publish again', one(fault('repeatedPublishes')));
    monotonic('parley_adapter_refused_total', 'Publishes refused while the broker was unreachable (cluster.whenUnreachable: refuse)', one(fault('refused')));
    monotonic('parley_adapter_filled_total', 'Messages this server missed live and took from the broker\'s history', one(fault('filled')));
    monotonic('parley_adapter_presence_swept_total', 'Presence connections of dead servers this server removed', one(fault('presenceSwept')));
    new Gauge({
      name: 'parley_shutting_down', help: '1 while the server drains before exiting', registers,
      collect() { this.set(sources.shuttingDown() ? 1 : 0); },
    });
    // Labels known in advance appear at 0, so a dashboard sees them before the first event.
    for (const outcome of ['recovered', 'reset']) this.recoveries.inc({ outcome }, 0);
    for (const target of ['topic', 'user']) this.apiPublishes.inc({ target }, 0);
    for (const limit of ['message_rate', 'message_size']) this.limitCloses.inc({ limit }, 0);
  }

  /** The exposition text for `/metrics`. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of {@link render}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
