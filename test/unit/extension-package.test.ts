import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

test('the .vsix holds only the bundles, wasm binaries, media, schemas, README, LICENSE and CHANGELOG', () => {
  // `vsce ls` lists exactly what `npm run package` puts in the .vsix (after the build npm test ran).
  const vsce = path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  const run = spawnSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const files = run.stdout.trim().split('\n').sort();
  const allowed =
    /^(package\.json|README\.md|LICENSE|CHANGELOG\.md|schema\/[\w.-]+\.json|media\/[\w./-]+|dist\/[\w.-]+\.(js|wasm)|dist\/webview\/[\w.-]+\.js)$/;
  assert.deepEqual(
    files.filter((f) => !allowed.test(f)),
    [],
  );
  for (const needed of [
    'dist/extension.js',
    'dist/worker.js',
    'dist/cli.js',
    'dist/chart.umd.min.js',
    'dist/tfjs-backend-wasm-simd.wasm',
    'dist/webview/robustness.js',
    'schema/experiment.schema.json',
  ]) {
    assert.ok(files.includes(needed), `${needed} is packaged`);
  }
  assert.ok(!files.some((f) => f.startsWith('node_modules/') || f.endsWith('.map') || f === 'dist/core.js'));
});
