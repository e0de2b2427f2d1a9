/**
 * Helpers for the CLI tests: run `node dist/src/cli/main.js …` as a child process with a
 * deadline, and start `parley echo --port 0` reading the port from its 'listening on' line.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { defer, waitFor } from '../node/helpers.js';

/** The compiled CLI entry point, next to this compiled file (dist/test/cli → dist/src/cli). */
export const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** What a finished CLI run produced. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Spawns the CLI; the process is killed when the test ends if it is still running. */
export function spawnCli(t: TestContext, args: string[]): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: 'pipe' });
  defer(t, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  return child;
}

/** Collects a child's output until it exits (rejects after `ms`). */
export async function finish(child: ChildProcessWithoutNullStreams, ms = 10_000): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (s: string) => { stdout += s; });
  child.stderr.on('data', (s: string) => { stderr += s; });
  const exited = child.exitCode !== null || child.signalCode !== null
    ? [child.exitCode, child.signalCode]
    : await waitFor<[number | null, NodeJS.Signals | null]>(child, 'close', ms);
  return { code: exited[0] as number | null, signal: exited[1] as NodeJS.Signals | null, stdout, stderr };
}

/** Runs the CLI to completion with optional stdin text. */
export async function runCli(t: TestContext, args: string[], input?: string): Promise<CliResult> {
  const child = spawnCli(t, args);
  const done = finish(child);
  if (input !== undefined) child.stdin.end(input);
  else child.stdin.end();
  return done;
}

/** Accumulated stdout of a running child, and a way to wait for a pattern in it. */
export interface Watched {
  text(): string;
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpExecArray>;
}

/** Watches a running child's stdout. */
export function watch(stream: NodeJS.ReadableStream): Watched {
  let text = '';
  const waiters: Array<() => void> = [];
  stream.on('data', (s: string | Buffer) => {
    text += s.toString();
    for (const w of waiters.splice(0)) w();
  });
  return {
    text: () => text,
    waitFor: (pattern, ms = 5000) => new Promise<RegExpExecArray>((resolve, reject) => {
      const signal = AbortSignal.timeout(ms);
      const check = (): void => {
        const m = pattern.exec(text);
        if (m !== null) {
          resolve(m);
          return;
        }
        if (signal.aborted) {
          reject(new Error(`timed out waiting for ${String(pattern)} in output: ${JSON.stringify(text)}`));
          return;
        }
        waiters.push(check);
      };
      signal.addEventListener('abort', () => { for (const w of waiters.splice(0)) w(); }, { once: true });
      check();
    }),
  };
}

/** Starts `parley echo --port 0 …` and resolves with the child and the port it printed. */
export async function startEcho(t: TestContext, extra: string[] = []): Promise<{ child: ChildProcessWithoutNullStreams; port: number; line: string; out: Watched }> {
  const child = spawnCli(t, ['echo', '--port', '0', ...extra]);
  const out = watch(child.stdout);
  const m = await out.waitFor(/^.*listening on ws:\/\/127\.0\.0\.1:(\d+)\n/m);
  return { child, port: Number(m[1]), line: m[0], out };
}
