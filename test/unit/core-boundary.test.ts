import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

test('src/core never imports vscode (it is a library and runs in the worker and the CLI)', () => {
  const core = path.resolve(__dirname, '../../src/core');
  const files = sourceFiles(core);
  assert.ok(files.length > 10, 'the core sources were found');
  const offenders = files.filter((file) => /(?:from\s+|require\(\s*|import\(\s*)['"]vscode['"]/.test(fs.readFileSync(file, 'utf8')));
  assert.deepEqual(offenders, []);
});
