/**
 * Three real `parley serve` processes (the compiled CLI, port 0) hosting the poker app on the
 * shared Redis under a key prefix of the test's own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { SHARED_REDIS_URL, deleteKeys, uniquePrefix } from '../../../redis/support.js';

/** The compiled CLI (dist/test/apps/poker/cluster → dist/src/cli). */
const MAIN = fileURLToPath(new URL('../../../../src/cli/main.js', import.meta.url));

/** One server process. */
export interface PokerNode {
  readonly child: ChildProcess;
  /** `http://127.0.0.1:<port>/poker` */
  readonly base: string;
  /** `ws://127.0.0.1:<port>/poker/ws` */
  readonly ws: string;
  /** Everything it wrote (its JSON log lines). */
  output(): string;
}

/** A cluster of poker servers on one key prefix. */
export interface PokerCluster {
  readonly keyPrefix: string;
  readonly nodes: PokerNode[];
  /** The value of `table`'s lease (`<pid>-<random>/<fencing token>`), or null. */
  lease(table: string): Promise<string | null>;
}

/** Starts a `parley serve` on `keyPrefix`; killed (SIGKILL) when the test ends. */
export async function startNode(t: TestContext, keyPrefix: string): Promise<PokerNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'poker-node-'));
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--apps', 'poker', '--data-dir', dataDir,
    '--cluster-adapter', 'redis', '--redis-url', SHARED_REDIS_URL, '--redis-key-prefix', keyPrefix, '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });
  let text = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => { text += s; });
  child.stderr.setEncoding('utf8').on('data', (s: string) => { text += s; });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in 15 s: ${text}`)), 15_000);
    const check = (): void => {
      const m = /parley server listening on (http:\/\/[^\s"]+)/.exec(text);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`parley serve exited with ${code}: ${text}`));
    });
  });
  return { child, base: `${url}/poker`, ws: `${url.replace('http', 'ws')}/poker/ws`, output: () => text };
}

/**
 * Starts three nodes at once and lists first the one that owns `table` (each table goes to
 * whichever server asked first). The test's keys are deleted when it ends.
 */
export async function startCluster(t: TestContext, name: string, table: string): Promise<PokerCluster> {
  const keyPrefix = uniquePrefix(name);
  t.after(() => deleteKeys(SHARED_REDIS_URL, keyPrefix));
  const nodes = await Promise.all([0, 1, 2].map(() => startNode(t, keyPrefix)));
  const { createClient } = await import('redis');
  const client = createClient({ url: SHARED_REDIS_URL });
  client.on('error', () => {});
  await client.connect();
  t.after(() => client.destroy());
  const lease = (id: string): Promise<string | null> => client.get(`${keyPrefix}apps:poker:lease:${id}`);
  // A server takes its tables before it listens: once all three listen, the table has its owner.
  const owner = (await lease(table)) ?? '';
  nodes.sort((x, y) => Number(owner.startsWith(`${y.child.pid}-`)) - Number(owner.startsWith(`${x.child.pid}-`)));
  return { keyPrefix, nodes, lease };
}

/** Kills `node` with SIGKILL and waits until it is gone. */
export async function kill(node: PokerNode): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return;
  const gone = new Promise((resolve) => node.child.once('exit', resolve));
  node.child.kill('SIGKILL');
  await gone;
}
