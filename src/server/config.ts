/**
 * The standalone server's configuration: one typed table of settings ({@link SCHEMA}), each with
 * its default, its environment variable and its command-line flag, from which the config type is
 * derived. Sources are merged in this order of precedence
 * (defaults < config file < environment < flags) and validated before anything listens. Every
 * error names the setting and where the bad value came from.
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { isSetting, setting, type ConfigOf, type Setting, type SettingGroup } from './setting.js';
import { ErrorCode, ParleyError } from '../protocol/index.js';

const { port, string, list, boolean, autoBoolean, int, intOrAuto, number, oneOf, closeCode, hops } = setting;

/**
 * Every setting of `parley serve`, in the order of the operator's guide: the one source of the
 * config type ({@link ServerConfig}), its defaults, environment variables, flags, `--help` and
 * docs/operations.md's table (a test holds the guide to it). A typed table rather than a schema
 * library: see setting.ts.
 *
 * To add a setting: add one entry to its group here (`name: int(default, 'PARLEY_NAME',
 * 'flag-name', 'one line of doc', { min: 0 })`; a new group is a new object), and a row to
 * docs/operations.md's "Every setting" table. The config type, the loader, `--help` and
 * `--print-config` follow from the entry; a check that involves several settings goes in
 * `crossCheck` below.
 */
export const SCHEMA = {
  port: port(8080, 'PARLEY_PORT', 'port', 'TCP port (0 picks a free one)'),
  host: string('127.0.0.1', 'PARLEY_HOST', 'host', 'address to bind (0.0.0.0 or :: for every interface)'),
  dataDir: string('./data', 'PARLEY_DATA_DIR', 'data-dir', 'directory for the apps\' durable state (one subdirectory per app)'),
  /** Server processes sharing the port (1: this process alone; 'auto': one per core). docs/operations.md, "Workers". */
  workers: intOrAuto(1, 'PARLEY_WORKERS', 'workers', 'server processes sharing the port: a number, or auto (one per core)', { min: 1 }),
  /** Hosted apps by name, each mounted at `/<name>`. */
  apps: list([], 'PARLEY_APPS', 'apps', 'apps to host, comma-separated (default: every bundled app; "" for none)'),
  /** The auction's settings, handed to it in its `AppContext` (`databaseUrl`, `settings.antiSnipeMs`: serve.ts). */
  auction: {
    /** The auction's PostgreSQL URL; empty: its SQLite file in `dataDir` (one node only). */
    databaseUrl: string('', 'PARLEY_AUCTION_DATABASE_URL', 'auction-database-url', 'PostgreSQL URL for the auction, shared by every node (empty: a SQLite file in the data directory, one node only)', { secret: true }),
    /**
     * Anti-sniping (rules.ts `AntiSnipe`, window and extension alike): a bid with less than this
     * left moves the lot's end to this long after the bid. At most an hour: longer, a lot's end
     * time would say little about when it ends.
     */
    antiSnipeMs: int(30_000, 'PARLEY_AUCTION_ANTI_SNIPE_MS', 'auction-anti-snipe-ms', 'anti-sniping: a bid with less than this many ms left moves the lot\'s end to this many ms after the bid (0: off; at most 3600000)', { min: 0, max: 3_600_000 }),
  },
  /**
   * Proxies in front of the server that append to `X-Forwarded-For` (behind a reverse proxy only):
   * false or 0 none, true one, a number that many. The client address is the entry that many
   * places from the right.
   */
  trustProxy: hops(false, 'PARLEY_TRUST_PROXY', 'trust-proxy', 'proxies in front that append to X-Forwarded-For: false, true (one) or a number; the client address is that many entries from the right'),
  ws: {
    /** Allowed `Origin` values; empty allows any. */
    origins: list([], 'PARLEY_ORIGINS', 'origins', 'allowed Origin values for /ws, comma-separated (empty: any)'),
    /** Ping interval in ms; 0 turns the heartbeat off. */
    heartbeatMs: int(30_000, 'PARLEY_HEARTBEAT_MS', 'heartbeat-ms', 'ping idle connections this often and cut silent ones (0: off)', { min: 0 }),
  },
  auth: {
    /** HS256 shared secret. */
    jwtSecret: string('', 'PARLEY_JWT_SECRET', 'jwt-secret', 'HS256 secret for connection tokens', { secret: true }),
    /** RS256/ES256 public key (PEM), or read from `jwtPublicKeyFile`. */
    jwtPublicKey: string('', 'PARLEY_JWT_PUBLIC_KEY', 'jwt-public-key', 'RS256/ES256 public key, PEM'),
    jwtPublicKeyFile: string('', 'PARLEY_JWT_PUBLIC_KEY_FILE', 'jwt-public-key-file', 'file holding the PEM public key'),
    /** Accepted algorithms; empty: HS256 with a secret, RS256/ES256 by the public key's type. */
    jwtAlgorithms: list([], 'PARLEY_JWT_ALGORITHMS', 'jwt-algorithms', 'accepted algorithms (default: HS256 for a secret, RS256 or ES256 by the key)'),
    jwtIssuer: string('', 'PARLEY_JWT_ISSUER', 'jwt-issuer', 'required `iss` claim (empty: not checked)'),
    jwtAudience: string('', 'PARLEY_JWT_AUDIENCE', 'jwt-audience', 'required `aud` claim (empty: not checked)'),
    /** Seconds of clock skew tolerated on `exp`/`nbf`. */
    clockToleranceSec: int(5, 'PARLEY_JWT_CLOCK_TOLERANCE', 'jwt-clock-tolerance', 'seconds of clock skew allowed on exp/nbf', { min: 0 }),
    /** Accept connections without a token; 'auto' is true exactly when no key is configured. */
    anonymous: autoBoolean('auto', 'PARLEY_ANONYMOUS', 'anonymous', 'accept connections without a token (auto: only when no JWT key is set)'),
    /** Topic patterns everyone (anonymous included) may subscribe to. */
    publicSubscribe: list(['public:*'], 'PARLEY_PUBLIC_SUBSCRIBE', 'public-subscribe', 'topic patterns anyone may subscribe to'),
    /** Topic patterns everyone may publish to. */
    publicPublish: list([], 'PARLEY_PUBLIC_PUBLISH', 'public-publish', 'topic patterns anyone may publish to'),
  },
  api: {
    /** Bearer keys for the HTTP API. */
    keys: list([], 'PARLEY_API_KEYS', 'api-keys', 'bearer keys for the HTTP API, comma-separated', { secret: true }),
    /** Secrets for HMAC-signed requests. */
    hmacSecrets: list([], 'PARLEY_API_HMAC_SECRETS', 'api-hmac-secrets', 'secrets for HMAC-signed API requests, comma-separated', { secret: true }),
    /** Seconds a signed request's timestamp may differ from the server's clock. */
    timestampToleranceSec: int(300, 'PARLEY_API_TIMESTAMP_TOLERANCE', 'api-timestamp-tolerance', 'seconds a signed request\'s timestamp may be off', { min: 1 }),
    /** Signed requests remembered for replay protection (within the tolerance); past it, 503. */
    maxSignedRequests: int(500_000, 'PARLEY_API_MAX_SIGNED_REQUESTS', 'api-max-signed-requests', 'signed requests remembered against replay within the timestamp tolerance; past it, 503 replay_cache_full', { min: 1 }),
    maxBodyBytes: int(1_048_576, 'PARLEY_API_MAX_BODY_BYTES', 'api-max-body-bytes', 'largest API request body', { min: 1 }),
  },
  limits: {
    maxConnections: int(10_000, 'PARLEY_MAX_CONNECTIONS', 'max-connections', 'WebSocket connections at once; more get HTTP 503', { min: 1 }),
    maxMessageBytes: int(65_536, 'PARLEY_MAX_MESSAGE_BYTES', 'max-message-bytes', 'largest message a client may send; larger closes with 1009', { min: 1 }),
    messagesPerSecond: number(50, 'PARLEY_MESSAGES_PER_SECOND', 'messages-per-second', 'sustained messages per connection; faster closes with 1008', { min: 0 }),
    messageBurst: int(2000, 'PARLEY_MESSAGE_BURST', 'message-burst', 'messages a connection may send at once above the rate', { min: 1 }),
    connectionsPerIpPerSecond: number(10, 'PARLEY_CONNECTIONS_PER_IP_PER_SECOND', 'connections-per-ip-per-second', 'sustained new connections per client address; faster get HTTP 429', { min: 0 }),
    connectionBurstPerIp: int(20, 'PARLEY_CONNECTION_BURST_PER_IP', 'connection-burst-per-ip', 'new connections per address at once above the rate', { min: 1 }),
    maxQueuedBytes: int(1_048_576, 'PARLEY_MAX_QUEUED_BYTES', 'max-queued-bytes', 'bytes queued per subscriber before the slow-consumer policy applies', { min: 1 }),
    /** Largest presence info (JSON bytes) a client may give with `sub`. */
    maxPresenceBytes: int(1024, 'PARLEY_MAX_PRESENCE_BYTES', 'max-presence-bytes', 'largest presence info a client may give (JSON bytes); larger gets err TOO_LARGE', { min: 1 }),
    /** Ms a client has to send a request's headers (a WebSocket handshake's too); later gets 408. */
    headersTimeoutMs: int(10_000, 'PARLEY_HEADERS_TIMEOUT_MS', 'headers-timeout-ms', 'ms a client has to send request headers (handshakes too); later gets HTTP 408', { min: 100 }),
    /** TCP connections at once, of every kind; 0: `maxConnections` + 1,024. */
    maxSockets: int(0, 'PARLEY_MAX_SOCKETS', 'max-sockets', 'TCP connections at once, of every kind; more are closed at once (0: max-connections + 1024)', { min: 0 }),
    slowConsumerPolicy: oneOf(['drop', 'conflate', 'close'], 'drop', 'PARLEY_SLOW_CONSUMER_POLICY', 'slow-consumer-policy', 'drop, conflate or close'),
  },
  history: {
    maxCount: int(1000, 'PARLEY_HISTORY_MAX_COUNT', 'history-max-count', 'messages kept per topic for recovery', { min: 0 }),
    maxAgeMs: int(300_000, 'PARLEY_HISTORY_MAX_AGE_MS', 'history-max-age-ms', 'ms a message is kept for recovery', { min: 0 }),
  },
  cluster: {
    adapter: oneOf(['memory', 'redis'], 'memory', 'PARLEY_CLUSTER_ADAPTER', 'cluster-adapter', 'memory (one process) or redis'),
    redisUrl: string('redis://127.0.0.1:6379', 'PARLEY_REDIS_URL', 'redis-url', 'Redis URL for the redis adapter', { secret: true }),
    /** Redis Cluster node URLs; when given, the adapter uses the cluster instead of `redisUrl`. */
    redisClusterNodes: list([], 'PARLEY_REDIS_CLUSTER_NODES', 'redis-cluster-nodes', 'Redis Cluster (Redis >= 7): some of its node URLs, comma-separated; used instead of redis-url', { secret: true }),
    keyPrefix: string('parley:', 'PARLEY_REDIS_KEY_PREFIX', 'redis-key-prefix', 'prefix of every Redis key and channel'),
    /** Publishes while Redis is unreachable: delivered on this node and announced as a gap later, or refused. */
    whenUnreachable: oneOf(['local', 'refuse'], 'local', 'PARLEY_REDIS_WHEN_UNREACHABLE', 'redis-when-unreachable', 'publishes while Redis is unreachable: local (this node only, a gap announced later) or refuse'),
  },
  metrics: {
    enabled: boolean(true, 'PARLEY_METRICS', 'metrics', 'serve Prometheus metrics at /metrics'),
    /** Node process metrics (CPU, memory, event-loop lag) as well. */
    processMetrics: boolean(true, 'PARLEY_PROCESS_METRICS', 'process-metrics', 'include Node process metrics (CPU, memory, event loop)'),
    /** When set, `/metrics` needs `Authorization: Bearer <token>`. */
    token: string('', 'PARLEY_METRICS_TOKEN', 'metrics-token', 'bearer token /metrics requires (empty: none)', { secret: true }),
  },
  admin: {
    enabled: boolean(true, 'PARLEY_ADMIN', 'admin', 'serve the live admin page at /admin'),
    /** Keys for the admin page; empty: the API keys. */
    keys: list([], 'PARLEY_ADMIN_KEYS', 'admin-keys', 'keys for the admin page (empty: the API keys)', { secret: true }),
  },
  shutdown: {
    timeoutMs: int(10_000, 'PARLEY_SHUTDOWN_TIMEOUT_MS', 'shutdown-timeout-ms', 'ms to drain before connections are cut and the process exits', { min: 0 }),
    closeCode: closeCode(1012, 'PARLEY_SHUTDOWN_CLOSE_CODE', 'shutdown-close-code', 'close code sent at shutdown: 1012 (restart) or 1001 (going away)'),
    /** Closes are spread over this many ms so that clients do not all reconnect at once. */
    spreadMs: int(0, 'PARLEY_SHUTDOWN_SPREAD_MS', 'shutdown-spread-ms', 'spread the closes over this many ms (0: all at once)', { min: 0 }),
  },
  log: {
    level: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info', 'PARLEY_LOG_LEVEL', 'log-level', 'fatal, error, warn, info, debug, trace or silent'),
  },
  /** TLS: with both files set, one port serves HTTP/2 and HTTP/1.1 (docs/http2.md). */
  tls: {
    /** Certificate chain file (PEM); empty: plain HTTP/1.1. */
    cert: string('', 'PARLEY_TLS_CERT', 'tls-cert', 'certificate chain, PEM file: serve HTTPS, HTTP/2 and HTTP/1.1 on one port (with tls.key)'),
    /** Private key file (PEM). */
    key: string('', 'PARLEY_TLS_KEY', 'tls-key', 'private key of tls.cert, PEM file'),
  },
} satisfies SettingGroup;

/** The effective configuration of `parley serve`, derived from {@link SCHEMA}. */
export type ServerConfig = ConfigOf<typeof SCHEMA>;

/** Slow-consumer policy of the server's topics. */
export type TopicPolicy = ServerConfig['limits']['slowConsumerPolicy'];

/** One setting of {@link SCHEMA} with its dotted path in the config file (`limits.maxConnections`). */
export interface SettingSpec extends Setting<unknown> {
  /** Dotted path in the config file. */
  readonly path: string;
}

function flatten(group: SettingGroup, prefix: string, out: SettingSpec[]): SettingSpec[] {
  for (const [key, entry] of Object.entries(group)) {
    if (isSetting(entry)) out.push({ ...entry, path: prefix + key });
    else flatten(entry, `${prefix}${key}.`, out);
  }
  return out;
}

/** Every setting of {@link SCHEMA} with its path, in the table's order. */
export const SETTINGS: readonly SettingSpec[] = flatten(SCHEMA, '', []);

/**
 * A configuration that cannot be used (code `ERR_CONFIG_INVALID`): every problem found, each
 * naming its setting and source. A class of its own because the caller reacts to it apart: the
 * CLI prints `problems` and exits with status 2.
 */
export class ConfigError extends ParleyError {
  /** One line per problem. */
  readonly problems: readonly string[];
  /** @param problems - one line each */
  constructor(problems: readonly string[]) {
    super(ErrorCode.CONFIG_INVALID, `invalid configuration:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/** Where a value came from, for error messages and `--print-config`. */
export type Source = 'default' | `file ${string}` | `environment ${string}` | `flag --${string}`;

/** The inputs of {@link loadConfig}. */
export interface ConfigInputs {
  /** Parsed file contents (an object) and its path. */
  file?: { path: string; data: unknown };
  /** Environment variables (default: none). */
  env?: Record<string, string | undefined>;
  /** Flag values by flag name (strings as typed, booleans for bare flags). */
  flags?: Record<string, string | boolean | undefined>;
  /** Defaults that differ from the table (the bundled app names). */
  defaults?: Partial<Record<string, unknown>>;
}

/** A loaded configuration and the source of each setting. */
export interface LoadedConfig {
  config: ServerConfig;
  sources: Record<string, Source>;
}

function getPath(object: unknown, path: string): { found: boolean; value: unknown } {
  let node = object;
  for (const part of path.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !Object.hasOwn(node, part)) return { found: false, value: undefined };
    node = (node as Record<string, unknown>)[part];
  }
  return { found: true, value: node };
}

function setPath(object: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = object;
  for (const part of parts.slice(0, -1)) {
    if (!Object.hasOwn(node, part)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}

/** Unknown keys of a config file, as dotted paths (a typo must not pass silently). */
function unknownKeys(data: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const key of Object.keys(data)) {
    const path = prefix + key;
    if (SETTINGS.some((s) => s.path === path)) continue;
    const value = data[key];
    const isGroup = SETTINGS.some((s) => s.path.startsWith(path + '.'));
    if (isGroup && typeof value === 'object' && value !== null && !Array.isArray(value)) out.push(...unknownKeys(value as Record<string, unknown>, path + '.'));
    else out.push(path);
  }
  return out;
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Merges defaults, the file, the environment and the flags, validates every setting and the
 * combinations that matter.
 * @throws ConfigError listing every problem
 */
export function loadConfig(inputs: ConfigInputs = {}): LoadedConfig {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  const sources: Record<string, Source> = {};
  const file = inputs.file;
  if (file !== undefined) {
    if (typeof file.data !== 'object' || file.data === null || Array.isArray(file.data)) {
      problems.push(`${file.path}: the config file must hold a JSON object`);
    } else {
      for (const key of unknownKeys(file.data as Record<string, unknown>)) problems.push(`unknown setting '${key}' in ${file.path}`);
    }
  }
  for (const spec of SETTINGS) {
    let value: unknown = inputs.defaults !== undefined && Object.hasOwn(inputs.defaults, spec.path) ? inputs.defaults[spec.path] : spec.default;
    let source: Source = 'default';
    const candidates: Array<[Source, unknown, boolean]> = [];
    if (file !== undefined) {
      const got = getPath(file.data, spec.path);
      if (got.found) candidates.push([`file ${file.path}`, got.value, false]);
    }
    const envValue = inputs.env?.[spec.env];
    if (envValue !== undefined) candidates.push([`environment ${spec.env}`, envValue, true]);
    const flagValue = inputs.flags?.[spec.flag];
    if (flagValue !== undefined) candidates.push([`flag --${spec.flag}`, flagValue, true]);
    for (const [from, raw, fromText] of candidates) {
      const converted = spec.parse(raw, fromText);
      if ('error' in converted) {
        problems.push(`${spec.path} ${converted.error}, got ${spec.secret === true ? '(a secret value)' : describe(raw)} (from ${from})`);
        continue;
      }
      value = converted.value;
      source = from;
    }
    setPath(out, spec.path, value);
    sources[spec.path] = source;
  }
  const config = out as unknown as ServerConfig;
  if (problems.length === 0) problems.push(...crossCheck(config, sources));
  if (problems.length > 0) throw new ConfigError(problems);
  return { config, sources };
}

/** Checks that involve several settings. */
function crossCheck(config: ServerConfig, sources: Record<string, Source>): string[] {
  const problems: string[] = [];
  const from = (path: string): string => `(from ${sources[path] ?? 'default'})`;
  const { auth } = config;
  if (auth.jwtPublicKey !== '' && auth.jwtPublicKeyFile !== '') {
    problems.push(`auth.jwtPublicKey ${from('auth.jwtPublicKey')} and auth.jwtPublicKeyFile ${from('auth.jwtPublicKeyFile')} are both set; set one`);
  }
  if (auth.jwtSecret !== '' && auth.jwtSecret.length < 32) {
    problems.push(`auth.jwtSecret must be at least 32 characters (HS256 needs 256 bits of key) ${from('auth.jwtSecret')}`);
  }
  for (const alg of auth.jwtAlgorithms) {
    if (!['HS256', 'RS256', 'ES256'].includes(alg)) problems.push(`auth.jwtAlgorithms: unsupported algorithm '${alg}' (HS256, RS256 or ES256) ${from('auth.jwtAlgorithms')}`);
  }
  for (const [i, secret] of config.api.hmacSecrets.entries()) {
    if (secret.length < 16) problems.push(`api.hmacSecrets[${i}] must be at least 16 characters ${from('api.hmacSecrets')}`);
  }
  for (const [i, key] of config.api.keys.entries()) {
    if (key.length < 16) problems.push(`api.keys[${i}] must be at least 16 characters ${from('api.keys')}`);
  }
  for (const name of config.apps) {
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(name)) problems.push(`apps: '${name}' is not an app name (lower-case letters, digits, -) ${from('apps')}`);
  }
  for (const pattern of [...auth.publicSubscribe, ...auth.publicPublish]) {
    if (pattern.includes('*') && (pattern.indexOf('*') !== pattern.length - 1)) problems.push(`topic pattern '${pattern}': '*' may only end a pattern`);
  }
  if ((config.tls.cert === '') !== (config.tls.key === '')) {
    problems.push(`tls.cert ${from('tls.cert')} and tls.key ${from('tls.key')} go together: set both or neither`);
  }
  if (config.cluster.adapter === 'redis' && !/^rediss?:\/\//.test(config.cluster.redisUrl)) {
    problems.push(`cluster.redisUrl must start with redis:// or rediss:// ${from('cluster.redisUrl')}`);
  }
  return problems;
}

/** Reads and parses a JSON config file. @throws ConfigError naming the file */
export function readConfigFile(path: string): { path: string; data: unknown } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([`cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
  }
  try {
    return { path, data: JSON.parse(text) as unknown };
  } catch (error) {
    throw new ConfigError([`config file ${path} is not valid JSON: ${(error as Error).message}`]);
  }
}

/** `url` with its user name and password replaced by `[redacted]`; undefined when it does not parse. */
function redactUrlCredentials(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.username === '' && parsed.password === '') return url;
  const at = url.indexOf('@', url.indexOf('://') + 3);
  return `${url.slice(0, url.indexOf('://') + 3)}[redacted]${url.slice(at)}`;
}

/** The configuration with every secret replaced by `"[redacted]"` (for printing and logs); URLs keep all but their credentials. */
export function redactConfig(config: ServerConfig): unknown {
  const copy = structuredClone(config) as unknown as Record<string, unknown>;
  for (const spec of SETTINGS) {
    if (spec.secret !== true) continue;
    const { value } = getPath(copy, spec.path);
    const empty = value === '' || (Array.isArray(value) && value.length === 0);
    if (empty) continue;
    // A URL (the Redis URL) is a secret for its password only: the host is what an operator checks.
    const url = typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? redactUrlCredentials(value) : undefined;
    setPath(copy, spec.path, url ?? (Array.isArray(value) ? value.map(() => '[redacted]') : '[redacted]'));
  }
  return copy;
}

/** The configuration with every default (for tests and embedding: `startServer(defaultConfig({ port: 0 }))`). */
export function defaultConfig(overrides: { [K in keyof ServerConfig]?: Partial<ServerConfig[K]> } = {}, appNames: string[] = []): ServerConfig {
  const { config } = loadConfig({ defaults: { apps: appNames } });
  for (const [key, value] of Object.entries(overrides)) {
    const k = key as keyof ServerConfig;
    const base = config[k];
    (config as unknown as Record<string, unknown>)[k] = typeof base === 'object' && !Array.isArray(base) && value !== null && typeof value === 'object' && !Array.isArray(value) ? { ...base, ...value } : value;
  }
  return config;
}
