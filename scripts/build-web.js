#!/usr/bin/env node
// Bundles each application's browser code with esbuild: src/apps/<name>/web/main.ts becomes
// dist/web/<name>/main.js, and every file in src/apps/<name>/web/public/ is copied beside it.
// The server's own pages (src/server/web/<name>/, the admin page) are built the same way.
// Type checking is tsc's job (tsconfig.web.json, incremental); esbuild only bundles.
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';

const dirs = (root) => (existsSync(root) ? readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name) : []);
/** [name, folder with main.ts and public/] for every browser bundle. */
const entries = [
  ...dirs('src/apps').map((name) => [name, join('src/apps', name, 'web')]),
  ...dirs('src/server/web').map((name) => [name, join('src/server/web', name)]),
].filter(([, web]) => existsSync(join(web, 'main.ts')));
if (entries.length > 0) {
  // tsc's own CLI, from this package's node_modules (typescript is a devDependency).
  const check = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.web.json'], { stdio: 'inherit' });
  if (check.status !== 0) process.exit(check.status ?? 1);
}
for (const [name, web] of entries) {
  const entry = join(web, 'main.ts');
  if (!existsSync(entry)) continue;
  const out = join('dist/web', name);
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    outfile: join(out, 'main.js'),
    logLevel: 'warning',
  });
  if (existsSync(join(web, 'public'))) cpSync(join(web, 'public'), out, { recursive: true });
  console.log(`web: ${name} -> ${out}`);
}
