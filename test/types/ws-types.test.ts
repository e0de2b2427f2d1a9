/**
 * TypeScript written for `ws` compiles unchanged against Parley. Every program of the corpus
 * (test/types/corpus: clients, servers, noServer + handleUpgrade, verifyClient, events with typed
 * arguments, RawData, createWebSocketStream, subclasses, WHATWG-style code, options objects; and
 * the TypeScript examples of docs/api.md) is
 * compiled with `--strict` against `ws` + `@types/ws` (it must compile: the baseline) and again
 * with its import specifier changed to 'parley', which must compile too. Both as ES modules and as
 * CommonJS (where `@types/ws` declares more: `WebSocket.Server`, …), with and without
 * `noUncheckedIndexedAccess`. A mis-typed program (test/types/negative) must fail on the same
 * lines with both, so the check can fail.
 *
 * Parley is resolved by its package self-reference ('parley' → dist/src/index.d.ts): the types
 * users get, built by `npm run build` (pretest).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import Parley, { WebSocket, WebSocketServer, createWebSocketStream } from '../../src/index.js';

// Compiled to dist/test/types; the corpus stays in the source tree.
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const typesDir = join(repoRoot, 'test', 'types');

type ModuleKind = 'esm' | 'cjs';
type Target = 'ws' | 'parley';

interface Variant {
  module: ModuleKind;
  noUncheckedIndexedAccess: boolean;
}

const VARIANTS: Variant[] = [
  { module: 'esm', noUncheckedIndexedAccess: false },
  { module: 'esm', noUncheckedIndexedAccess: true },
  { module: 'cjs', noUncheckedIndexedAccess: false },
  { module: 'cjs', noUncheckedIndexedAccess: true },
];

/** Corpus files: name to text. `cjs/` holds programs that only CommonJS `@types/ws` accepts. */
function readCorpus(dir: string, module: ModuleKind): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of readdirSync(dir).sort()) {
    if (name.endsWith('.ts')) files.set(name, readFileSync(join(dir, name), 'utf8'));
  }
  // docs/api.md's TypeScript examples, written for Parley: their ws form is the baseline.
  const docs = readFileSync(join(repoRoot, 'docs', 'api.md'), 'utf8');
  const fence = /^```ts\n([\s\S]*?)^```$/gm;
  let n = 0;
  for (let m = fence.exec(docs); m !== null; m = fence.exec(docs)) files.set(`docs-api-${++n}.ts`, m[1]!.replace(/from 'parley'/g, "from 'ws'"));
  if (module === 'cjs') {
    for (const name of readdirSync(join(dir, 'cjs')).sort()) files.set(`cjs-${name}`, readFileSync(join(dir, 'cjs', name), 'utf8'));
  }
  return files;
}

/** The same program importing 'parley' where it imported 'ws'. */
export function swapImport(text: string): string {
  return text.replace(/(\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*)(['"])ws\2/g, '$1$2parley$2');
}

function compilerOptions(variant: Variant, target: Target): ts.CompilerOptions {
  return {
    strict: true,
    noUncheckedIndexedAccess: variant.noUncheckedIndexedAccess,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    esModuleInterop: true,
    // Only @types/node is global: @types/ws must come in through the import, as for a user.
    types: ['node'],
    // Parley's declaration files (and @types/node's) are checked once, as a user's `tsc` does by
    // default; the other programs check the code only (most of the cost is @types/node).
    skipLibCheck: !(target === 'parley' && variant.module === 'esm' && variant.noUncheckedIndexedAccess),
    noEmit: true,
  };
}

/** Parsed declaration files shared by every program (parsing @types/node is most of the cost). */
const sourceCache = new Map<string, ts.SourceFile>();

/**
 * Compiles `files` (virtual files in `dir`: '.ts' for ES modules, '.cts' for CommonJS) against
 * `target`; returns the diagnostics of each program file as 'file:line: message'.
 */
function compile(dir: string, files: Map<string, string>, variant: Variant, target: Target): string[] {
  const options = compilerOptions(variant, target);
  const ext = variant.module === 'esm' ? '.mts' : '.cts';
  const virtual = new Map<string, string>();
  for (const [name, text] of files) virtual.set(join(dir, `.virtual-${target}-${name.replace(/\.ts$/, ext)}`), target === 'ws' ? text : swapImport(text));
  const host = ts.createCompilerHost(options, true);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (f) => virtual.has(f) || fileExists(f);
  host.readFile = (f) => virtual.get(f) ?? readFile(f);
  host.getSourceFile = (f, languageVersion, onError, shouldCreate) => {
    const text = virtual.get(f);
    if (text !== undefined) return ts.createSourceFile(f, text, languageVersion, true);
    const key = `${f}\0${JSON.stringify(languageVersion)}`;
    let sf = sourceCache.get(key);
    if (sf === undefined) {
      sf = getSourceFile(f, languageVersion, onError, shouldCreate);
      if (sf !== undefined) sourceCache.set(key, sf);
    }
    return sf;
  };
  const program = ts.createProgram([...virtual.keys()], options, host);
  const diagnostics = ts.getPreEmitDiagnostics(program);
  return diagnostics.map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (d.file === undefined || d.start === undefined) return `(global): TS${d.code} ${message}`;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const name = d.file.fileName.startsWith(dir) ? d.file.fileName.slice(dir.length + 1).replace(`.virtual-${target}-`, '') : d.file.fileName;
    return `${name}:${line + 1}: TS${d.code} ${message}`;
  });
}

const corpusDir = join(typesDir, 'corpus');

void describe('TypeScript written for ws compiles with Parley', () => {
  for (const variant of VARIANTS) {
    const name = `${variant.module === 'esm' ? 'ES module' : 'CommonJS'}, --strict${variant.noUncheckedIndexedAccess ? ' --noUncheckedIndexedAccess' : ''}`;
    void test(name, () => {
      const files = readCorpus(corpusDir, variant.module);
      assert.ok(files.size >= 10, `corpus has ${files.size} programs`);
      const baseline = compile(corpusDir, files, variant, 'ws');
      assert.deepEqual(baseline, [], `the corpus must compile against ws + @types/ws:\n${baseline.join('\n')}`);
      const parley = compile(corpusDir, files, variant, 'parley');
      assert.deepEqual(parley, [], `compiles with ws, not with Parley:\n${parley.join('\n')}`);
    });
  }
});

void describe('the type check can fail', () => {
  void test('a mis-typed program fails on the same lines with ws and with Parley', () => {
    const dir = join(typesDir, 'negative');
    const files = new Map([['mistyped.ts', readFileSync(join(dir, 'mistyped.ts'), 'utf8')]]);
    const expected = [...files.get('mistyped.ts')!.split('\n').entries()].filter(([, line]) => line.includes('// error')).map(([i]) => i + 1);
    assert.ok(expected.length >= 5);
    const variant: Variant = { module: 'esm', noUncheckedIndexedAccess: false };
    for (const target of ['ws', 'parley'] as const) {
      const lines = [...new Set(compile(dir, files, variant, target).map((d) => Number(/^mistyped\.mts:(\d+):/.exec(d)?.[1])))];
      assert.deepEqual(lines.sort((a, b) => a - b), expected, `${target}: errors on lines ${lines.join(', ')}`);
    }
  });

  void test('swapImport changes only the module specifier', () => {
    assert.equal(swapImport(`import WebSocket, { type RawData } from 'ws';\nconst m = await import("ws");\nconst ws = 'ws';`),
      `import WebSocket, { type RawData } from 'parley';\nconst m = await import("parley");\nconst ws = 'ws';`);
  });
});

void describe('the values the types describe exist at runtime', () => {
  void test("the default export carries ws's statics: Server, WebSocketServer, WebSocket, createWebSocketStream, the states", () => {
    assert.equal(Parley, WebSocket);
    assert.equal(Parley.Server, WebSocketServer);
    assert.equal(Parley.WebSocketServer, WebSocketServer);
    assert.equal(Parley.WebSocket, WebSocket);
    assert.equal(Parley.createWebSocketStream, createWebSocketStream);
    assert.deepEqual([Parley.CONNECTING, Parley.OPEN, Parley.CLOSING, Parley.CLOSED], [0, 1, 2, 3]);
  });

  void test("the methods @types/ws declares on WebSocket and WebSocketServer exist", () => {
    for (const name of ['close', 'ping', 'pong', 'send', 'terminate', 'pause', 'resume', 'addEventListener', 'removeEventListener',
      'on', 'once', 'off', 'addListener', 'removeListener', 'prependListener', 'prependOnceListener']) {
      assert.equal(typeof (WebSocket.prototype as unknown as Record<string, unknown>)[name], 'function', `WebSocket.prototype.${name}`);
    }
    for (const name of ['binaryType', 'bufferedAmount', 'extensions', 'isPaused', 'protocol', 'readyState', 'url', 'onopen', 'onerror', 'onclose', 'onmessage']) {
      assert.ok(name in WebSocket.prototype, `WebSocket.prototype.${name}`);
    }
    for (const name of ['address', 'close', 'handleUpgrade', 'shouldHandle', 'on', 'once', 'off']) {
      assert.equal(typeof (WebSocketServer.prototype as unknown as Record<string, unknown>)[name], 'function', `WebSocketServer.prototype.${name}`);
    }
  });
});
