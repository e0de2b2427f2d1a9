/**
 * Every ```js block in README.md and docs/*.md is a program that must run and exit 0, importing
 * 'parley' as a user would (through the package's own exports). Docs that drift from the code
 * fail here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function examples(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const out: string[] = [];
  const fence = /^```js\n([\s\S]*?)^```$/gm;
  for (let m = fence.exec(text); m !== null; m = fence.exec(text)) out.push(m[1]!);
  return out;
}

const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

for (const file of files) {
  examples(file).forEach((source, i) => {
    void test(`${file} example ${i + 1} runs and exits 0`, () => {
      // Inside the repository, so `import 'parley'` resolves through package.json "exports".
      const dir = mkdtempSync(join(root, '.tmp-doc-example-'));
      try {
        const path = join(dir, 'example.mjs');
        writeFileSync(path, source);
        const result = spawnSync(process.execPath, [path], { encoding: 'utf8', timeout: 15_000 });
        assert.equal(result.status, 0, `exit ${String(result.status)}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

void test('the README has at least one runnable example', () => {
  assert.ok(examples('README.md').length >= 1);
});
