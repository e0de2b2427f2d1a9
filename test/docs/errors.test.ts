/**
 * docs/errors.md against the sources, both ways: every code the library raises has a row in the
 * table, and every code in the document is raised somewhere in src/. A code is raised when a
 * source file names it (`ErrorCode.X`, `ProtocolErrorCode.X`, or the code string itself) outside
 * the table of constants in src/protocol/errors.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, ProtocolErrorCode } from '../../src/protocol/errors.js';
import { RealtimeErrorCode } from '../../src/wire/envelope.js';
import { ClientErrorCode } from '../../src/client/errors.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

/** Library codes: Parley's own (`ERR_…`) and those it shares with `ws` (`WS_ERR_…`). */
const CODE = /\b(?:WS_)?ERR_[A-Z0-9_]+\b/g;

/** Node's own error codes, which src/ compares errors with: not raised by Parley. */
const NODE_CODES = new Set(['ERR_PARSE_ARGS_UNKNOWN_OPTION', 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL', 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE', 'ERR_HTTP_REQUEST_TIMEOUT']);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir)).sort()) {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** The codes src/ raises, each with the files that raise it. */
function raisedCodes(): Map<string, string[]> {
  const byKey = new Map<string, string>(Object.entries(ErrorCode));
  const raised = new Map<string, string[]>();
  const add = (code: string, file: string): void => {
    const files = raised.get(code) ?? [];
    if (!files.includes(file)) files.push(file);
    raised.set(code, files);
  };
  for (const file of sourceFiles('src')) {
    let text = read(file);
    if (file === join('src', 'protocol', 'errors.ts')) {
      // The constant tables define codes; they do not raise them. Everything else in the file
      // (the subclasses' default codes) does.
      text = text.replace(/export const (?:Protocol)?ErrorCode = \{[\s\S]*?\n\} as const;/g, '');
    }
    for (const m of text.matchAll(/\b(?:ErrorCode|ProtocolErrorCode)\.([A-Z0-9_]+)\b/g)) {
      const code = byKey.get(m[1]!);
      assert.ok(code !== undefined, `${file} names ErrorCode.${m[1]!}, which does not exist`);
      add(code, file);
    }
    // Comments may name a code in passing; code strings in the source are what count.
    const withoutComments = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    for (const m of withoutComments.matchAll(/['"`]((?:WS_)?ERR_[A-Z0-9_]+)['"`]/g)) if (!NODE_CODES.has(m[1]!)) add(m[1]!, file);
  }
  return raised;
}

/** The codes docs/errors.md documents: those with a table row of their own, and every mention. */
function documentedCodes(): { rows: Set<string>; mentioned: Set<string> } {
  const doc = read('docs/errors.md');
  const rows = new Set<string>();
  for (const m of doc.matchAll(/^\| `((?:WS_)?ERR_[A-Z0-9_]+)` \|/gm)) rows.add(m[1]!);
  const mentioned = new Set<string>();
  for (const m of doc.matchAll(/`[^`]*`/g)) for (const c of m[0].matchAll(CODE)) mentioned.add(c[0]);
  return { rows, mentioned };
}

void test('docs/errors.md: every code src/ raises has a row, and every documented code is raised', () => {
  const raised = raisedCodes();
  const { rows, mentioned } = documentedCodes();
  const defined = new Set<string>(Object.values(ErrorCode));

  const undocumented = [...raised.keys()].filter((c) => !rows.has(c)).map((c) => `${c} (raised in ${raised.get(c)!.join(', ')})`);
  assert.deepEqual(undocumented, [], 'raised in src/ but without a row in docs/errors.md');
  const neverRaised = [...mentioned].filter((c) => !raised.has(c));
  assert.deepEqual(neverRaised, [], 'in docs/errors.md but never raised in src/');
  // The constant table is the list programs switch on: it matches the document exactly.
  assert.deepEqual([...defined].sort(), [...rows].sort(), 'ErrorCode and the table of docs/errors.md');
  assert.ok(rows.size >= 20, `the table was read (${rows.size} rows)`);
});

void test('docs/errors.md: each ProtocolError row gives the close code the code is raised with', () => {
  const doc = read('docs/errors.md');
  const receiver = read('src/protocol/receiver.ts') + read('src/node/deflate-codec.ts') + read('src/node/websocket.ts');
  const closeNumber: Record<string, number> = { ProtocolError: 1002, InvalidPayload: 1007, MessageTooBig: 1009 };
  for (const code of Object.values(ProtocolErrorCode)) {
    const row = new RegExp(`^\\| \`${code}\` \\| ProtocolError \\| (\\d+) \\|`, 'm').exec(doc);
    assert.ok(row !== null, `${code} has a ProtocolError row`);
    const key = Object.entries(ProtocolErrorCode).find(([, v]) => v === code)![0];
    const sites = [...receiver.matchAll(new RegExp(`ProtocolErrorCode\\.${key}\\b[^;]*?CloseCode\\.([A-Za-z]+)`, 'g'))].map((m) => closeNumber[m[1]!]);
    assert.ok(sites.length > 0, `${code} is raised by the receiver or the Node layer`);
    for (const n of sites) assert.equal(n, Number(row[1]), `${code}: the close code in docs/errors.md`);
  }
});

void test('every library code any document names is one of ErrorCode (no stale codes)', () => {
  const defined = new Set<string>(Object.values(ErrorCode));
  // Node's own codes, named where the docs explain a Node behaviour.
  const node = new Set(['ERR_STREAM_ALREADY_FINISHED', 'ERR_STREAM_DESTROYED']);
  const docs = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const stale: string[] = [];
  for (const file of docs) {
    for (const m of read(file).matchAll(CODE)) if (!defined.has(m[0]) && !node.has(m[0])) stale.push(`${file}: ${m[0]}`);
  }
  assert.deepEqual(stale, []);
});

void test('the real-time codes are documented with the protocol and the client', () => {
  const protocol = read('docs/realtime-protocol.md');
  const section = protocol.slice(protocol.indexOf('## Error codes'));
  for (const code of Object.values(RealtimeErrorCode)) assert.match(section, new RegExp(`\`${code}\``), `${code} in realtime-protocol.md#error-codes`);
  const client = read('docs/realtime-client.md');
  for (const code of Object.values(ClientErrorCode)) assert.match(client, new RegExp(`\`${code}\``), `${code} in realtime-client.md`);
});
