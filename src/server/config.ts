/**
 * The standalone server's configuration: one table of settings, each with its default, its
 * environment variable and its command-line flag, merged in that order of precedence
 * (defaults < config file < environment < flags) and validated before anything listens. Every
 * error names the setting and where the bad value came from.
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';

/** Slow-consumer policy of the server's topics. */
export type TopicPolicy = 'drop' | 'conflate' | 'close';

/** The effective configuration of `parley serve`. */
export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  /** Hosted apps by name, each mounted at `/<name>`. */
  apps: string[];
  /** The auction's PostgreSQL URL; empty: its SQLite file in `dataDir` (one node only). */
  auction: { databaseUrl: string };
  /**
   * Proxies in front of the server that append to `X-Forwarded-For` (behind a reverse proxy only):
   * false or 0 none, true one, a number that many. The client address is the entry that many
   * places from the right.
   */
  trustProxy: boolean | number;
  ws: {
    /** Allowed `Origin` values; empty allows any. */
    origins: string[];
    /** Ping interval in ms; 0 turns the heartbeat off. */
    heartbeatMs: number;
  };
  auth: {
    /** HS256 shared secret. */
    jwtSecret: string;
    /** RS256/ES256 public key (PEM), or read from `jwtPublicKeyFile`. */
    jwtPublicKey: string;
    jwtPublicKeyFile: string;
    /** Accepted algorithms; empty: HS256 with a secret, RS256/ES256 by the public key's type. */
    jwtAlgorithms: string[];
    jwtIssuer: string;
    jwtAudience: string;
    /** Seconds of clock skew tolerated on `exp`/`nbf`. */
    clockToleranceSec: number;
    /** Accept connections without a token; 'auto' is true exactly when no key is configured. */
    anonymous: 'auto' | boolean;
    /** Topic patterns everyone (anonymous included) may subscribe to. */
    publicSubscribe: string[];
    /** Topic patterns everyone may publish to. */
    publicPublish: string[];
  };
  api: {
    /** Bearer keys for the HTTP API. */
    keys: string[];
    /** Secrets for HMAC-signed requests. */
    hmacSecrets: string[];
    /** Seconds a signed request's timestamp may differ from the server's clock. */
    timestampToleranceSec: number;
    /** Signed requests remembered for replay protection (within the tolerance); past it, 503. */
    maxSignedRequests: number;
    maxBodyBytes: number;
  };
  limits: {
    maxConnections: number;
    maxMessageBytes: number;
    messagesPerSecond: number;
    messageBurst: number;
    connectionsPerIpPerSecond: number;
    connectionBurstPerIp: number;
    maxQueuedBytes: number;
    slowConsumerPolicy: TopicPolicy;
    /** Largest presence info (JSON bytes) a client may give with `sub`. */
    maxPresenceBytes: number;
    /** Ms a client has to send a request's headers (a WebSocket handshake's too); later gets 408. */
    headersTimeoutMs: number;
    /** TCP connections at once, of every kind; 0: `maxConnections` + 1,024. */
    maxSockets: number;
  };
  history: {
    maxCount: number;
    maxAgeMs: number;
  };
  cluster: {
    adapter: 'memory' | 'redis';
    redisUrl: string;
    keyPrefix: string;
    /** Publishes while Redis is unreachable: delivered on this node and announced as a gap later, or refused. */
    whenUnreachable: 'local' | 'refuse';
  };
  metrics: {
    enabled: boolean;
    /** Node process metrics (CPU, memory, event-loop lag) as well. */
    processMetrics: boolean;
    /** When set, `/metrics` needs `Authorization: Bearer <token>`. */
    token: string;
  };
  admin: {
    enabled: boolean;
    /** Keys for the admin page; empty: the API keys. */
    keys: string[];
  };
  shutdown: {
    timeoutMs: number;
    closeCode: number;
    /** Closes are spread over this many ms so that clients do not all reconnect at once. */
    spreadMs: number;
  };
  log: {
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  };
  /** TLS: with both files set, one port serves HTTP/2 and HTTP/1.1 (docs/http2.md). */
  tls: {
    /** Certificate chain file (PEM); empty: plain HTTP/1.1. */
    cert: string;
    /** Private key file (PEM). */
    key: string;
  };
}

type Kind = 'port' | 'string' | 'list' | 'boolean' | 'auto-boolean' | 'int' | 'number' | 'enum' | 'close-code' | 'hops';

/** One setting: where it lives in {@link ServerConfig} and how it is spelled elsewhere. */
export interface SettingSpec {
  /** Dotted path in the config file (`limits.maxConnections`). */
  path: string;
  kind: Kind;
  default: unknown;
  /** Environment variable. */
  env: string;
  /** Command-line flag without dashes. */
  flag: string;
  /** One line for help and the operator's guide. */
  doc: string;
  /** Allowed values of an `enum`. */
  values?: readonly string[];
  /** Smallest allowed number. */
  min?: number;
  /** Never printed. */
  secret?: boolean;
}

const S = (path: string, kind: Kind, def: unknown, env: string, flag: string, doc: string, extra: Partial<SettingSpec> = {}): SettingSpec =>
  ({ path, kind, default: def, env, flag, doc, ...extra });

/** Every setting, in the order of the operator's guide. */
export const SETTINGS: readonly SettingSpec[] = [
  S('port', 'port', 8080, 'PARLEY_PORT', 'port', 'TCP port (0 picks a free one)'),
  S('host', 'string', '127.0.0.1', 'PARLEY_HOST', 'host', 'address to bind (0.0.0.0 or :: for every interface)'),
  S('dataDir', 'string', './data', 'PARLEY_DATA_DIR', 'data-dir', 'directory for the apps\' durable state (one subdirectory per app)'),
  S('apps', 'list', [], 'PARLEY_APPS', 'apps', 'apps to host, comma-separated (default: every bundled app; "" for none)'),
  S('auction.databaseUrl', 'string', '', 'PARLEY_AUCTION_DATABASE_URL', 'auction-database-url', 'PostgreSQL URL for the auction, shared by every node (empty: a SQLite file in the data directory, one node only)', { secret: true }),
  S('trustProxy', 'hops', false, 'PARLEY_TRUST_PROXY', 'trust-proxy', 'proxies in front that append to X-Forwarded-For: false, true (one) or a number; the client address is that many entries from the right'),
  S('ws.origins', 'list', [], 'PARLEY_ORIGINS', 'origins', 'allowed Origin values for /ws, comma-separated (empty: any)'),
  S('ws.heartbeatMs', 'int', 30_000, 'PARLEY_HEARTBEAT_MS', 'heartbeat-ms', 'ping idle connections this often and cut silent ones (0: off)', { min: 0 }),
  S('auth.jwtSecret', 'string', '', 'PARLEY_JWT_SECRET', 'jwt-secret', 'HS256 secret for connection tokens', { secret: true }),
  S('auth.jwtPublicKey', 'string', '', 'PARLEY_JWT_PUBLIC_KEY', 'jwt-public-key', 'RS256/ES256 public key, PEM'),
  S('auth.jwtPublicKeyFile', 'string', '', 'PARLEY_JWT_PUBLIC_KEY_FILE', 'jwt-public-key-file', 'file holding the PEM public key'),
  S('auth.jwtAlgorithms', 'list', [], 'PARLEY_JWT_ALGORITHMS', 'jwt-algorithms', 'accepted algorithms (default: HS256 for a secret, RS256 or ES256 by the key)'),
  S('auth.jwtIssuer', 'string', '', 'PARLEY_JWT_ISSUER', 'jwt-issuer', 'required `iss` claim (empty: not checked)'),
  S('auth.jwtAudience', 'string', '', 'PARLEY_JWT_AUDIENCE', 'jwt-audience', 'required `aud` claim (empty: not checked)'),
  S('auth.clockToleranceSec', 'int', 5, 'PARLEY_JWT_CLOCK_TOLERANCE', 'jwt-clock-tolerance', 'seconds of clock skew allowed on exp/nbf', { min: 0 }),
  S('auth.anonymous', 'auto-boolean', 'auto', 'PARLEY_ANONYMOUS', 'anonymous', 'accept connections without a token (auto: only when no JWT key is set)'),
  S('auth.publicSubscribe', 'list', ['public:*'], 'PARLEY_PUBLIC_SUBSCRIBE', 'public-subscribe', 'topic patterns anyone may subscribe to'),
  S('auth.publicPublish', 'list', [], 'PARLEY_PUBLIC_PUBLISH', 'public-publish', 'topic patterns anyone may publish to'),
  S('api.keys', 'list', [], 'PARLEY_API_KEYS', 'api-keys', 'bearer keys for the HTTP API, comma-separated', { secret: true }),
  S('api.hmacSecrets', 'list', [], 'PARLEY_API_HMAC_SECRETS', 'api-hmac-secrets', 'secrets for HMAC-signed API requests, comma-separated', { secret: true }),
  S('api.timestampToleranceSec', 'int', 300, 'PARLEY_API_TIMESTAMP_TOLERANCE', 'api-timestamp-tolerance', 'seconds a signed request\'s timestamp may be off', { min: 1 }),
  S('api.maxSignedRequests', 'int', 500_000, 'PARLEY_API_MAX_SIGNED_REQUESTS', 'api-max-signed-requests', 'signed requests remembered against replay within the timestamp tolerance; past it, 503 replay_cache_full', { min: 1 }),
  S('api.maxBodyBytes', 'int', 1_048_576, 'PARLEY_API_MAX_BODY_BYTES', 'api-max-body-bytes', 'largest API request body', { min: 1 }),
  S('limits.maxConnections', 'int', 10_000, 'PARLEY_MAX_CONNECTIONS', 'max-connections', 'WebSocket connections at once; more get HTTP 503', { min: 1 }),
  S('limits.maxMessageBytes', 'int', 65_536, 'PARLEY_MAX_MESSAGE_BYTES', 'max-message-bytes', 'largest message a client may send; larger closes with 1009', { min: 1 }),
  S('limits.messagesPerSecond', 'number', 50, 'PARLEY_MESSAGES_PER_SECOND', 'messages-per-second', 'sustained messages per connection; faster closes with 1008', { min: 0 }),
  S('limits.messageBurst', 'int', 2000, 'PARLEY_MESSAGE_BURST', 'message-burst', 'messages a connection may send at once above the rate', { min: 1 }),
  S('limits.connectionsPerIpPerSecond', 'number', 10, 'PARLEY_CONNECTIONS_PER_IP_PER_SECOND', 'connections-per-ip-per-second', 'sustained new connections per client address; faster get HTTP 429', { min: 0 }),
  S('limits.connectionBurstPerIp', 'int', 20, 'PARLEY_CONNECTION_BURST_PER_IP', 'connection-burst-per-ip', 'new connections per address at once above the rate', { min: 1 }),
  S('limits.maxQueuedBytes', 'int', 1_048_576, 'PARLEY_MAX_QUEUED_BYTES', 'max-queued-bytes', 'bytes queued per subscriber before the slow-consumer policy applies', { min: 1 }),
  S('limits.maxPresenceBytes', 'int', 1024, 'PARLEY_MAX_PRESENCE_BYTES', 'max-presence-bytes', 'largest presence info a client may give (JSON bytes); larger gets err TOO_LARGE', { min: 1 }),
  S('limits.headersTimeoutMs', 'int', 10_000, 'PARLEY_HEADERS_TIMEOUT_MS', 'headers-timeout-ms', 'ms a client has to send request headers (handshakes too); later gets HTTP 408', { min: 100 }),
  S('limits.maxSockets', 'int', 0, 'PARLEY_MAX_SOCKETS', 'max-sockets', 'TCP connections at once, of every kind; more are closed at once (0: max-connections + 1024)', { min: 0 }),
  S('limits.slowConsumerPolicy', 'enum', 'drop', 'PARLEY_SLOW_CONSUMER_POLICY', 'slow-consumer-policy', 'drop, conflate or close', { values: ['drop', 'conflate', 'close'] }),
  S('history.maxCount', 'int', 1000, 'PARLEY_HISTORY_MAX_COUNT', 'history-max-count', 'messages kept per topic for recovery', { min: 0 }),
  S('history.maxAgeMs', 'int', 300_000, 'PARLEY_HISTORY_MAX_AGE_MS', 'history-max-age-ms', 'ms a message is kept for recovery', { min: 0 }),
  S('cluster.adapter', 'enum', 'memory', 'PARLEY_CLUSTER_ADAPTER', 'cluster-adapter', 'memory (one process) or redis', { values: ['memory', 'redis'] }),
  S('cluster.redisUrl', 'string', 'redis://127.0.0.1:6379', 'PARLEY_REDIS_URL', 'redis-url', 'Redis URL for the redis adapter', { secret: true }),
  S('cluster.keyPrefix', 'string', 'parley:', 'PARLEY_REDIS_KEY_PREFIX', 'redis-key-prefix', 'prefix of every Redis key and channel'),
  S('cluster.whenUnreachable', 'enum', 'local', 'PARLEY_REDIS_WHEN_UNREACHABLE', 'redis-when-unreachable', 'publishes while Redis is unreachable: local (this node only, a gap announced later) or refuse', { values: ['local', 'refuse'] }),
  S('metrics.enabled', 'boolean', true, 'PARLEY_METRICS', 'metrics', 'serve Prometheus metrics at /metrics'),
  S('metrics.processMetrics', 'boolean', true, 'PARLEY_PROCESS_METRICS', 'process-metrics', 'include Node process metrics (CPU, memory, event loop)'),
  S('metrics.token', 'string', '', 'PARLEY_METRICS_TOKEN', 'metrics-token', 'bearer token /metrics requires (empty: none)', { secret: true }),
  S('admin.enabled', 'boolean', true, 'PARLEY_ADMIN', 'admin', 'serve the live admin page at /admin'),
  S('admin.keys', 'list', [], 'PARLEY_ADMIN_KEYS', 'admin-keys', 'keys for the admin page (empty: the API keys)', { secret: true }),
  S('shutdown.timeoutMs', 'int', 10_000, 'PARLEY_SHUTDOWN_TIMEOUT_MS', 'shutdown-timeout-ms', 'ms to drain before connections are cut and the process exits', { min: 0 }),
  S('shutdown.closeCode', 'close-code', 1012, 'PARLEY_SHUTDOWN_CLOSE_CODE', 'shutdown-close-code', 'close code sent at shutdown: 1012 (restart) or 1001 (going away)'),
  S('shutdown.spreadMs', 'int', 0, 'PARLEY_SHUTDOWN_SPREAD_MS', 'shutdown-spread-ms', 'spread the closes over this many ms (0: all at once)', { min: 0 }),
  S('tls.cert', 'string', '', 'PARLEY_TLS_CERT', 'tls-cert', 'certificate chain, PEM file: serve HTTPS, HTTP/2 and HTTP/1.1 on one port (with tls.key)'),
  S('tls.key', 'string', '', 'PARLEY_TLS_KEY', 'tls-key', 'private key of tls.cert, PEM file'),
  S('log.level', 'enum', 'info', 'PARLEY_LOG_LEVEL', 'log-level', 'fatal, error, warn, info, debug, trace or silent', { values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }),
];

/** A configuration that cannot be used: every problem found, each naming its setting and source. */
export class ConfigError extends Error {
  /** One line per problem. */
  readonly problems: readonly string[];
  /** @param problems - one line each */
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
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
 * Converts one raw value (a string from the environment or a flag, or a JSON value from the
 * file) to the setting's type. Returns an error text instead of throwing.
 */
function convert(spec: SettingSpec, raw: unknown, fromText: boolean): { value: unknown } | { error: string } {
  const numeric = (integer: boolean): { value: unknown } | { error: string } => {
    const n = fromText && typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof n !== 'number' || !Number.isFinite(n) || (integer && !Number.isSafeInteger(n))) return { error: `must be ${integer ? 'an integer' : 'a number'}` };
    if (spec.min !== undefined && n < spec.min) return { error: `must be at least ${spec.min}` };
    return { value: n };
  };
  const bool = (): { value: unknown } | { error: string } => {
    if (typeof raw === 'boolean') return { value: raw };
    if (fromText && typeof raw === 'string') {
      const t = raw.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(t)) return { value: true };
      if (['false', '0', 'no', 'off'].includes(t)) return { value: false };
    }
    return { error: 'must be true or false' };
  };
  switch (spec.kind) {
    case 'port': {
      const r = numeric(true);
      if ('error' in r) return { error: 'must be an integer from 0 to 65535' };
      return (r.value as number) >= 0 && (r.value as number) <= 65535 ? r : { error: 'must be an integer from 0 to 65535' };
    }
    case 'int': return numeric(true);
    case 'number': return numeric(false);
    case 'boolean': return bool();
    case 'auto-boolean':
      if (raw === 'auto') return { value: 'auto' };
      return bool();
    case 'string':
      return typeof raw === 'string' ? { value: raw } : { error: 'must be a string' };
    case 'list':
      if (fromText && typeof raw === 'string') return { value: raw.split(',').map((s) => s.trim()).filter((s) => s !== '') };
      if (Array.isArray(raw) && raw.every((s) => typeof s === 'string')) return { value: [...raw] as string[] };
      return { error: 'must be a list of strings' };
    case 'enum':
      return typeof raw === 'string' && spec.values!.includes(raw) ? { value: raw } : { error: `must be one of ${spec.values!.join(', ')}` };
    case 'hops': {
      if (typeof raw === 'boolean') return { value: raw };
      if (fromText && typeof raw === 'string' && /^(true|false|yes|no|on|off)$/i.test(raw.trim())) return bool();
      const n = fromText && typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
      return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= 32 ? { value: n } : { error: 'must be true, false or a number of proxies from 0 to 32' };
    }
    case 'close-code': {
      const r = numeric(true);
      return 'value' in r && (r.value === 1001 || r.value === 1012) ? r : { error: 'must be 1001 or 1012' };
    }
  }
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
      const converted = convert(spec, raw, fromText);
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
