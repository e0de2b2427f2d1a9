/**
 * Starting the hosted apps of `parley serve`: each configured app, from the factories the caller
 * handed over (the command line gives the bundled ones; the server imports no app), under
 * `/<name>` with its own data directory, its own adapter (in-memory, or on a Redis cluster a Redis
 * one under the app's own key prefix, with that Redis handed to the app: adapter-loader.ts) and
 * the server's pipeline.
 * @packageDocumentation
 */
import { mkdirSync } from 'node:fs';
import type * as http from 'node:http';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { loadAppAdapter, type LoadedAdapter } from './adapter-loader.js';
import type { AppFactory, AppSettings, AppSockets, ParleyApp } from './app.js';
import type { ServerConfig } from './config.js';

/** The package root's `dist/web`, from this compiled file (dist/src/server/hosted-apps.js). */
const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));

/** What the apps are started with. */
export interface HostedAppsOptions {
  /** App names to start, in order (`apps`). */
  names: readonly string[];
  /** A PostgreSQL URL per app that keeps its state in one (`auction.databaseUrl`); absent: its data directory. */
  databaseUrls?: Readonly<Record<string, string>>;
  /** Settings per app from the server's config, handed over as `AppContext.settings` (the auction's `auction.antiSnipeMs`). */
  settings?: Readonly<Record<string, AppSettings>>;
  factories: ReadonlyMap<string, AppFactory>;
  /** The server's data directory; each app gets `<dataDir>/<name>`. */
  dataDir: string;
  /** The cluster settings: on Redis each app gets a Redis adapter and `AppContext.redis`. */
  cluster: ServerConfig['cluster'];
  log: Logger;
  clientAddress: (req: http.IncomingMessage) => string;
  sockets: AppSockets;
}

/** The running apps by path prefix, and their shutdown. */
export interface HostedApps {
  /** Hosted apps by path prefix (`/auction`); filled by {@link HostedApps.start}. */
  readonly apps: ReadonlyMap<string, ParleyApp>;
  /** Creates every app, in order; on a failure the caller closes those already started ({@link HostedApps.close}). */
  start(): Promise<void>;
  /** Closes every app with `code` (failures logged, not thrown) and their adapters. */
  close(code: number): Promise<void>;
}

/**
 * Checks that every name has a factory.
 * @throws Error naming the unknown app and the available ones
 */
export function checkAppNames(names: readonly string[], factories: ReadonlyMap<string, AppFactory>): void {
  for (const name of names) {
    if (!factories.has(name)) throw new Error(`apps: unknown app '${name}' (available: ${[...factories.keys()].join(', ') || 'none'})`);
  }
}

/** Prepares the apps (nothing starts before {@link HostedApps.start}). */
export function hostedApps(options: HostedAppsOptions): HostedApps {
  const apps = new Map<string, ParleyApp>();
  // Each app's own adapter: its topics are out of reach of /ws and the HTTP API.
  const adapters: LoadedAdapter[] = [];
  const close = async (code: number): Promise<void> => {
    await Promise.all([...apps.values()].map((app) => app.close(code).catch((error: unknown) => options.log.error({ err: error }, 'app failed to close'))));
    // After the apps: an app may still publish while it closes (a Redis adapter's close is async).
    await Promise.all(adapters.map(async (a) => a.close()));
  };
  return {
    apps,
    async start() {
      for (const name of options.names) {
        const dataDir = resolvePath(options.dataDir, name);
        mkdirSync(dataDir, { recursive: true });
        const alog = options.log.child({ app: name });
        const { adapter, redis } = await loadAppAdapter(options.cluster, name, options.log);
        adapters.push(adapter);
        const app = await options.factories.get(name)!({
          basePath: `/${name}`,
          dataDir,
          ...(options.databaseUrls?.[name] !== undefined ? { databaseUrl: options.databaseUrls[name] } : {}),
          ...(options.settings?.[name] !== undefined ? { settings: options.settings[name] } : {}),
          adapter,
          webRoot: resolvePath(WEB_ROOT, name),
          log: (level, fields) => alog[level](fields, fields.msg),
          clientAddress: options.clientAddress,
          sockets: options.sockets,
          redis,
        });
        apps.set(`/${name}`, app);
      }
    },
    close,
  };
}
