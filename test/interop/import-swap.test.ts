/**
 * The drop-in proof: a program written for `ws` (fixtures/ws-program.mjs) prints the same
 * transcript when its import specifier is changed from 'ws' to 'parley', and nothing else.
 * Also: `require('parley')` works from CommonJS (require of ESM, Node ≥ 20.19).
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Compiled to dist/test/interop; the fixtures stay in the source tree (tsc copies no .mjs).
const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..', '..');
const fixture = join(repoRoot, 'test', 'interop', 'fixtures', 'ws-program.mjs');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node file` in `cwd`, killing it after `ms`. */
function runNode(file: string, cwd: string, ms = 20_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A fresh directory inside the repository, so 'parley' resolves through the package's self-reference; removed after the test. */
async function tempDirInRepo(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(repoRoot, '.tmp-import-swap-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const REQUIRE_CHECK = `'use strict';
const { WebSocket, WebSocketServer } = require('parley');
const parley = require('parley');
console.log('types:', typeof WebSocket, typeof WebSocketServer, 'default is WebSocket:', parley.default === WebSocket);
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 }, () => {
  const ws = new WebSocket('ws://127.0.0.1:' + wss.address().port);
  ws.on('open', () => ws.send('hello from CommonJS'));
  ws.on('message', (data, isBinary) => {
    console.log('echo:', data.toString(), isBinary);
    ws.close(1000, 'done');
  });
  ws.on('close', (code, reason) => {
    console.log('close:', code);
    wss.close(() => console.log('server closed'));
  });
});
wss.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  socket.on('close', (code, reason) => console.log('server saw close:', code, reason.toString()));
});
`;

void describe('drop-in: a ws program with its import swapped to parley', () => {
  void test('prints the same transcript and exits 0', async (t) => {
    const source = await readFile(fixture, 'utf8');
    assert.equal(source.split("from 'ws';").length, 2, 'the fixture imports ws exactly once');
    const swapped = source.replace("from 'ws';", "from 'parley';");
    assert.doesNotMatch(swapped, /from\s*['"]ws['"]|(import|require)\(\s*['"]ws['"]\s*\)/, 'no other import of ws is left');

    const dir = await tempDirInRepo(t);
    const copy = join(dir, 'ws-program.mjs');
    await writeFile(copy, swapped);

    const [withWs, withParley] = await Promise.all([runNode(fixture, repoRoot), runNode(copy, dir)]);
    assert.equal(withWs.code, 0, `the program fails with ws itself:\n${withWs.stderr}`);
    assert.equal(withParley.code, 0, `the program fails with parley (signal ${withParley.signal}):\n${withParley.stderr}\n${withParley.stdout}`);
    // The transcript covers what it should, so an empty or truncated one cannot match by accident.
    for (const line of ['== server', 'connection alice path=/chat protocol="chat.v2" readyState=1 clients=1', 'pongs: alice:heartbeat bob:heartbeat',
      'close: 4002 kicked by request readyState=3', 'send after close: WebSocket is not open: readyState 3 (CLOSED); bufferedAmount=8',
      'binary (ArrayBuffer): 636261', 'close: 1009', 'server closed, clients=0']) {
      assert.ok(withWs.stdout.split('\n').includes(line), `ws transcript has ${JSON.stringify(line)}`);
    }
    assert.equal(withParley.stdout, withWs.stdout);
  });

  void test("require('parley') works from a CommonJS file", async (t) => {
    const dir = await tempDirInRepo(t);
    const file = join(dir, 'require-check.cjs');
    await writeFile(file, REQUIRE_CHECK);
    const run = await runNode(file, dir);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.deepEqual(lines.slice(0, 2), ['types: function function default is WebSocket: true', 'echo: hello from CommonJS false']);
    // The two ends see the close in either order; the server closes last.
    assert.deepEqual(lines.slice(2, 4).sort(), ['close: 1000', 'server saw close: 1000 done']);
    assert.deepEqual(lines.slice(4), ['server closed']);
  });
});
