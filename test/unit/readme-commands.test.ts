import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// The README's code blocks marked runnable (a `<!-- runnable -->` line right before the fence) are
// run as written, from the repository root, after the set-up's link step (scripts/link-cli.sh,
// pointed at a temporary npm prefix so nothing global changes), with the built CLI (npm test
// builds it first).
const ROOT = path.resolve(__dirname, '../..');
const MARKER = '<!-- runnable -->';

/** The runnable blocks of a Markdown text, with the line each starts on. */
function runnableBlocks(markdown: string): { line: number; code: string }[] {
  const lines = markdown.split('\n');
  const blocks: { line: number; code: string }[] = [];
  lines.forEach((text, i) => {
    if (text.trim() !== MARKER) return;
    const fence = /^(`{3,})(sh|bash)\s*$/.exec(lines[i + 1] ?? '');
    assert.ok(fence, `README.md:${i + 1}: ${MARKER} must be followed by a \`\`\`sh or \`\`\`bash fence`);
    const end = lines.findIndex((l, j) => j > i + 1 && l.trim() === fence[1]);
    assert.ok(end > 0, `README.md:${i + 2}: the runnable block is not closed`);
    blocks.push({ line: i + 2, code: lines.slice(i + 2, end).join('\n') });
  });
  return blocks;
}

test('runnableBlocks finds marked sh blocks only, and refuses a marker before anything else', () => {
  const text = ['# t', '<!-- runnable -->', '```sh', 'echo 1', 'echo 2', '```', '```sh', 'not marked', '```', MARKER, '```bash', 'echo 3', '```'].join('\n');
  assert.deepEqual(runnableBlocks(text), [{ line: 3, code: 'echo 1\necho 2' }, { line: 11, code: 'echo 3' }]);
  assert.throws(() => runnableBlocks(`${MARKER}\n\n\`\`\`sh\necho\n\`\`\``), /must be followed/);
});

test('every README command marked runnable works as written from the repository root', () => {
  assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'cli.js')), 'dist/cli.js is missing: npm run build first');
  const blocks = runnableBlocks(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
  const all = blocks.map((b) => b.code).join('\n');
  assert.ok(blocks.length >= 3, `only ${blocks.length} runnable blocks`);
  assert.match(all, /^gccs --help/m, 'gccs itself, from the PATH');
  assert.match(all, /^npx gccs\b/m, 'npx gccs, without the link');
  assert.match(all, /^gccs train /m, 'a training');

  // The set-up's link step, into a throw-away npm prefix.
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-prefix-'));
  const env = { ...process.env, npm_config_prefix: prefix, npm_config_offline: 'true', npm_config_update_notifier: 'false' };
  const link = spawnSync(path.join(ROOT, 'scripts', 'link-cli.sh'), { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(link.status, 0, `scripts/link-cli.sh failed:\n${link.stdout}${link.stderr}`);
  const bin = path.join(prefix, 'bin');
  assert.ok(fs.existsSync(path.join(bin, 'gccs')), `no gccs in ${bin}`);

  // Model folders the blocks write, removed afterwards unless they were there before.
  const outputs = [...all.matchAll(/--out (\S+)/g)].map((m) => path.resolve(ROOT, m[1])).filter((out) => !fs.existsSync(out));
  try {
    for (const { line, code } of blocks) {
      const run = spawnSync('bash', ['-euo', 'pipefail', '-c', code], { cwd: ROOT, env: { ...env, PATH: `${bin}${path.delimiter}${process.env.PATH}` }, encoding: 'utf8', timeout: 300_000 });
      assert.equal(run.status, 0, `README.md:${line}: the block failed (exit ${run.status}):\n${code}\n--- stdout\n${run.stdout.slice(-2000)}\n--- stderr\n${run.stderr.slice(-2000)}`);
    }
  } finally {
    for (const out of outputs) fs.rmSync(out, { recursive: true, force: true });
    fs.rmSync(prefix, { recursive: true, force: true });
  }
});
