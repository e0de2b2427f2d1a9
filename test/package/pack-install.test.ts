/**
 * The package as a user gets it: `npm pack`, install the tarball into a scratch project with
 * npm itself (`npm ci --offline`: the dependencies come from the npm cache `npm ci` filled), then run the
 * packaged README's examples — JavaScript with node, TypeScript through tsc against the shipped
 * types — the `parley` bin and `require('parley')`. Also checks what the tarball holds: the
 * build, the LICENSE, the docs the README links to, source maps that carry their sources.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(command: string, args: string[], cwd: string, timeout = 60_000): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' } });
  if (result.error !== undefined) throw result.error;
  return result;
}

function ok(result: SpawnSyncReturns<string>, what: string): string {
  assert.equal(result.status, 0, `${what}: exit ${String(result.status)}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result.stdout;
}

/** The fenced blocks of one language in a markdown text. */
function blocks(markdown: string, lang: string): string[] {
  const out: string[] = [];
  const fence = new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, 'gm');
  for (let m = fence.exec(markdown); m !== null; m = fence.exec(markdown)) out.push(m[1]!);
  return out;
}

/** Every file under `dir`, relative. */
function walk(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(dir, join(prefix, d.name)) : [join(prefix, d.name)]));
}

void test('npm pack, install the tarball offline (npm ci), run the README examples (JS and TS), the bin and require()', (t) => {
  const scratch = mkdtempSync(join(tmpdir(), 'parley-pack-'));
  t.after(() => rmSync(scratch, { recursive: true, force: true }));

  // --ignore-scripts: the suite runs on the build `npm test` just made; prepack would rebuild
  // dist/src under the feet of the test files running beside this one.
  const packed = JSON.parse(ok(run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], root), 'npm pack')) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const tarball = join(scratch, packed[0]!.filename);
  const files = new Set(packed[0]!.files.map((f) => f.path));
  for (const needed of ['LICENSE', 'README.md', 'package.json', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'dist/web/auction/index.html', 'dist/web/poker/main.js', 'docs/api.md']) {
    assert.ok(files.has(needed), `the tarball holds ${needed}`);
  }
  assert.ok(![...files].some((f) => f.startsWith('dist/test/') || f.startsWith('dist/bench/') || f.startsWith('src/')), 'no tests, benchmarks or sources');
  assert.match(readFileSync(join(root, 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) 2026 The Parley authors\n/);

  // The scratch project pins the tarball and, for its dependencies, the very entries of this
  // repository's lockfile: `npm ci --offline` then takes every tarball from the npm cache that
  // `npm ci` filled (a range would need the registry's metadata, which that cache lacks).
  const project = join(scratch, 'project');
  mkdirSync(project);
  const spec = `file:../${packed[0]!.filename}`;
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown> & { dev?: boolean; devOptional?: boolean; link?: boolean }> };
  const self = lock.packages['']!;
  const packages: Record<string, unknown> = {
    '': { name: 'scratch', dependencies: { parley: spec } },
    'node_modules/parley': {
      version: self.version, resolved: spec, integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
      license: self.license, dependencies: self.dependencies, peerDependencies: self.peerDependencies, peerDependenciesMeta: self.peerDependenciesMeta, bin: self.bin, engines: self.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path.startsWith('node_modules/') && entry.dev !== true && entry.devOptional !== true && entry.link !== true) packages[path] = entry;
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module', dependencies: { parley: spec } }));
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify({ name: 'scratch', lockfileVersion: 3, requires: true, packages }));
  const install = run(npm, ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], project, 120_000);
  if (install.status !== 0 && /ENOTCACHED/.test(install.stderr) && process.env.CI !== 'true') {
    t.skip('the npm cache lacks a dependency of the package: run `npm ci` (it fills the cache) and try again');
    return;
  }
  ok(install, 'npm ci --offline (the packed tarball)');
  const installed = join(project, 'node_modules', 'parley');

  // Every relative link of the packaged README and docs leads to a packaged file (images aside:
  // the screenshots stay in the repository).
  const shipped = new Set(walk(installed));
  for (const doc of [...shipped].filter((f) => f.endsWith('.md'))) {
    const text = readFileSync(join(installed, doc), 'utf8');
    for (const m of text.matchAll(/(?<!!)\[[^\]]*\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      const target = m[1]!;
      if (/^[a-z]+:/i.test(target)) continue;
      const resolved = join(dirname(doc), target);
      assert.ok(shipped.has(resolved) || existsSync(join(installed, resolved)), `${doc} links to ${target}, which the package does not hold`);
    }
  }
  // Source maps point at sources the package does not ship: they must carry them.
  const map = JSON.parse(readFileSync(join(installed, 'dist/src/node/websocket.js.map'), 'utf8')) as { sources: string[]; sourcesContent?: string[] };
  assert.equal(map.sourcesContent?.length, map.sources.length, 'dist/src maps carry their sources');

  const readme = readFileSync(join(installed, 'README.md'), 'utf8');
  const js = blocks(readme, 'js');
  const ts = blocks(readme, 'ts');
  assert.ok(js.length >= 1 && ts.length >= 1, 'the README has a JavaScript and a TypeScript example');
  js.forEach((source, i) => {
    writeFileSync(join(project, `example-${i}.mjs`), source);
    assert.match(ok(run(process.execPath, [`example-${i}.mjs`], project, 15_000), `README js example ${i + 1}`), /echoed: hello/);
  });

  // TypeScript: strict, NodeNext, the shipped declarations checked too (skipLibCheck off for them).
  ts.forEach((source, i) => writeFileSync(join(project, `example-${i}.ts`), source));
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', outDir: 'out',
      types: ['node'], typeRoots: [join(root, 'node_modules', '@types')], skipLibCheck: true,
    },
    include: ['example-*.ts'],
  }));
  ok(run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], project), 'tsc on the README ts examples');
  ts.forEach((_, i) => {
    assert.match(ok(run(process.execPath, [join('out', `example-${i}.js`)], project, 15_000), `README ts example ${i + 1}`), /echoed: hello/);
  });

  // The bin, and require() of the ES module package (Node >= 20.19).
  assert.match(ok(run(join(project, 'node_modules', '.bin', 'parley'), ['--help'], project), 'parley --help'), /^Usage: parley <command>/);
  writeFileSync(join(project, 'require.cjs'), "const p = require('parley'); if (typeof p.WebSocketServer !== 'function' || typeof p.WebSocket !== 'function') process.exit(3);\n");
  ok(run(process.execPath, ['require.cjs'], project), "require('parley')");
});
