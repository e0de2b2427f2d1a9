/**
 * A quick measure of `parley serve`'s HTTP API path: backend calls to
 * `POST /api/topics/{topic}/publish` turned into real-time messages for subscribed clients.
 *
 * The server runs as a child process (`parley serve`, as in production); this process is both
 * the backend (keep-alive HTTP requests, `--concurrency` at a time) and the subscribers
 * (`--subscribers` `parley.v1` connections to `public:bench`, counting every `msg` they get).
 * Reports API requests/s, request latency percentiles, deliveries/s and the server's CPU time per
 * request (from /proc). Usage: `node dist/bench/server-api.js [--seconds 3] [--concurrency 8]
 * [--subscribers 100]`.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket } from '../src/index.js';

const KEY = 'bench-api-key-0123456789';
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/** CPU seconds (user + system) of a process, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, concurrency: { type: 'string', default: '8' }, subscribers: { type: 'string', default: '100' } } });
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const subscribers = Number(values.subscribers);

  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--api-keys', KEY, '--log-level', 'warn', '--apps', '', '--max-connections', '100000', '--connection-burst-per-ip', '100000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (s: string) => {
        out += s;
        const m = /ws:\/\/127\.0\.0\.1:(\d+)\/ws/.exec(out);
        if (m !== null) resolve(Number(m[1]));
      });
      child.once('exit', () => reject(new Error('the server exited')));
    });

    let received = 0;
    const clients: WebSocket[] = [];
    await Promise.all(Array.from({ length: subscribers }, async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, 'parley.v1');
      clients.push(ws);
      await new Promise<void>((resolve) => {
        ws.on('message', (data: Buffer) => {
          const text = data.toString('utf8');
          if (text.startsWith('{"t":"hello"')) ws.send('{"t":"sub","id":1,"topic":"public:bench"}');
          else if (text.startsWith('{"t":"subok"')) resolve();
          else if (text.startsWith('{"t":"msg"')) received++;
        });
      });
    }));

    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const body = JSON.stringify({ data: { price: 101.25, item: 'bench' } });
    const latencies: number[] = [];
    const post = (): Promise<void> => new Promise((resolve, reject) => {
      const started = process.hrtime.bigint();
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/topics/public:bench/publish', agent, headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
          latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
          resolve();
        });
      });
      req.on('error', reject);
      req.end(body);
    });

    const cpuBefore = cpuSeconds(child.pid!);
    const receivedBefore = received;
    const deadline = Date.now() + seconds * 1000;
    const startedAt = Date.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) await post();
    }));
    const elapsed = (Date.now() - startedAt) / 1000;
    // Let the last deliveries arrive.
    const expected = receivedBefore + latencies.length * subscribers;
    for (let i = 0; i < 200 && received < expected; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    const cpu = cpuSeconds(child.pid!) - cpuBefore;
    latencies.sort((a, b) => a - b);
    const pct = (p: number): string => (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0).toFixed(2);
    console.log(JSON.stringify({
      seconds: elapsed,
      concurrency,
      subscribers,
      requests: latencies.length,
      requestsPerSec: Math.round(latencies.length / elapsed),
      latencyMs: { p50: pct(0.5), p99: pct(0.99) },
      deliveries: received - receivedBefore,
      deliveriesExpected: latencies.length * subscribers,
      deliveriesPerSec: Math.round((received - receivedBefore) / elapsed),
      serverCpuMsPerRequest: Number(((cpu * 1000) / latencies.length).toFixed(3)),
    }, null, 2));
    for (const ws of clients) ws.terminate();
    agent.destroy();
  } finally {
    child.kill('SIGTERM');
  }
}

await main();
