/**
 * Starting the hosted apps of `parley serve`: each configured app, from the factories the caller
 * handed over (the command line gives the bundled ones; the server imports no app), under
 * `/<name>` with its own data directory, its own in-memory adapter and the server's pipeline.
 * @packageDocumentation
 */
import { mkdirSync } from 'node:fs';
import type * as http from 'node:http';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { InMemoryAdapter } from '../index.js';
import type { AppFactory, AppSockets, ParleyApp } from './app.js';

/** The package root's `dist/web`, from this compiled file (dist/src/server/hosted-apps.js). */
const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));

/** What the apps are started with. */
export interface HostedAppsOptions {
  /** App names to start, in order (`apps`). */
  names: readonly string[];
  factories: ReadonlyMap<string, AppFactory>;
  /** The server's data directory; each app gets `<dataDir>/<name>`. */
  dataDir: string;
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
  const adapters: InMemoryAdapter[] = [];
  const close = async (code: number): Promise<void> => {
    await Promise.all([...apps.values()].map((app) => app.close(code).catch((error: unknown) => options.log.error({ err: error }, 'app failed to close'))));
    for (const a of adapters) a.close();
  };
  return {
    apps,
    async start() {
      for (const name of options.names) {
        const dataDir = resolvePath(options.dataDir, name);
        mkdirSync(dataDir, { recursive: true });
        const alog = options.log.child({ app: name });
        const adapter = new InMemoryAdapter();
        adapters.push(adapter);
        const app = await options.factories.get(name)!({
          basePath: `/${name}`,
          dataDir,
          adapter,
          webRoot: resolvePath(WEB_ROOT, name),
          log: (level, fields) => alog[level](fields, fields.msg),
          clientAddress: options.clientAddress,
          sockets: options.sockets,
        });
        apps.set(`/${name}`, app);
      }
    },
    close,
  };
}
