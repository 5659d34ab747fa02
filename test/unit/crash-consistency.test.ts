/**
 * Saves that span several files are crash-consistent: a kill at every rename of a training run's
 * saves (each epoch's checkpoint, then the model over an older one) leaves the old state or the
 * new one, never a mix; the resumed run ends byte-equal to an uninterrupted one and leaves no
 * temporary file behind. Also: --resume refuses a torn checkpoint, naming the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { COMMIT_JOURNAL, commitFiles, createFileAtomic, pendingText, settleFolder, writeFileAtomic } from '../../src/core/io/atomic';
import { UserError } from '../../src/core/errors';
import type { SweepConfig } from '../../src/core/sweep/types';
import { checkpointEpoch, leftovers, modelState, runKillHarness } from '../../scripts/kill-harness';

const ROOT = path.resolve(__dirname, '../..');
// The built CLI (npm test builds it first), as users run it.
const CLI = [process.execPath, path.join(ROOT, 'dist/cli.js')];
const tempDir = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `gccs-${name}-`));

/** A run of `gccs train` that is quick (a small MLP on 200 synthetic images) and deterministic on wasm. */
function trainArgs(out: string, seed: number, epochs: number, resume = false): string[] {
  return [
    ...['train', '--dataset', 'synthetic', '--synthetic-train', '200', '--synthetic-test', '50', '--model', 'mlp', '--batch-size', '50', '--backend', 'wasm'],
    ...['--seed', String(seed), '--epochs', String(epochs), '--out', out, '--keep-checkpoint', ...(resume ? ['--resume'] : [])],
  ];
}

function gccs(args: string[], env: Record<string, string> = {}) {
  const run = spawnSync(CLI[0], [...CLI.slice(1), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000, env: { ...process.env, ...env } });
  return { code: run.status, signal: run.signal, stderr: run.stderr };
}

test('a kill at each rename of every save of a training run leaves the old or the new state, and --resume ends byte-equal to an uninterrupted run', { timeout: 1_800_000 }, () => {
  // The folder holds an older model (another seed, 1 epoch) that the run trains over.
  const old = tempDir('crash-old');
  assert.equal(gccs(trainArgs(old, 7, 1)).code, 0);
  const oldModel = modelState(old)!;
  const copyOld = () => {
    const dir = tempDir('crash-run');
    fs.cpSync(old, dir, { recursive: true });
    return dir;
  };

  const reference = copyOld();
  const uninterrupted = gccs(trainArgs(reference, 1, 2));
  assert.equal(uninterrupted.code, 0, uninterrupted.stderr);
  const newModel = modelState(reference)!;
  assert.notEqual(newModel.weights, oldModel.weights);

  let crashes = 0;
  for (let n = 1; ; n++) {
    assert.ok(n < 60, 'the run has fewer than 60 renames');
    const dir = copyOld();
    const crashed = gccs(trainArgs(dir, 1, 2), { GCCS_TEST_CRASH_AT_RENAME: String(n) });
    if (crashed.code === 0) break;
    assert.equal(crashed.signal, 'SIGKILL', `rename ${n}: killed by the hook (${crashed.stderr})`);
    crashes++;

    // Right after the kill, before anything repairs the folder: the old model or the new one, whole.
    const state = modelState(dir)!;
    assert.ok(
      (state.weights === oldModel.weights && state.meta === oldModel.meta) || (state.weights === newModel.weights && state.meta === newModel.meta),
      `rename ${n}: the model folder holds the old or the new model, not a mix`,
    );
    const epoch = checkpointEpoch(path.join(dir, 'checkpoint'));
    assert.ok(epoch === 1 || epoch === 2, `rename ${n}: a whole checkpoint (epoch ${epoch})`);

    // Resume (or start again when the run's first checkpoint was not committed) and finish.
    let resumed = gccs(trainArgs(dir, 1, 2, true));
    if (resumed.code !== 0 && /different training configuration|no checkpoint/.test(resumed.stderr)) resumed = gccs(trainArgs(dir, 1, 2));
    assert.equal(resumed.code, 0, `rename ${n}: ${resumed.stderr}`);
    assert.deepEqual(modelState(dir), newModel, `rename ${n}: the resumed run ends with the uninterrupted run's weights and records`);
    assert.deepEqual(leftovers(dir), [], `rename ${n}: no temporary file, journal or old shard left`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // 2 checkpoints × (2 new files, the journal, model.json, state.json) + the model (shard, journal, model.json, gccs.json).
  assert.equal(crashes, 14, 'every rename of the run was a crash point');
});

test('--resume refuses a torn or changed checkpoint with one line naming the file', () => {
  const dir = tempDir('crash-torn');
  assert.equal(gccs(trainArgs(dir, 1, 1)).code, 0);
  const checkpoint = path.join(dir, 'checkpoint');
  const pristine = tempDir('crash-pristine');
  fs.cpSync(checkpoint, pristine, { recursive: true });
  const restore = () => {
    fs.rmSync(checkpoint, { recursive: true });
    fs.cpSync(pristine, checkpoint, { recursive: true });
  };
  const resumeError = () => {
    const run = gccs(trainArgs(dir, 1, 2, true));
    assert.equal(run.code, 2, run.stderr);
    const errors = run.stderr.split('\n').filter((line) => line.startsWith('gccs: error:'));
    assert.equal(errors.length, 1, run.stderr);
    return errors[0];
  };

  const optimizer = fs.readdirSync(checkpoint).find((n) => n.startsWith('optimizer.'))!;
  const bytes = fs.readFileSync(path.join(checkpoint, optimizer));
  bytes[100] ^= 1;
  fs.writeFileSync(path.join(checkpoint, optimizer), bytes);
  assert.throws(() => checkpointEpoch(checkpoint), /torn checkpoint/, "the kill harness's check sees it too");
  assert.match(resumeError(), new RegExp(`${optimizer}: does not match state\\.json \\(SHA-256 differs`));
  restore();

  // The tear of the issue: model.json of another epoch beside this state.json.
  const modelJson = path.join(checkpoint, 'model.json');
  fs.writeFileSync(modelJson, fs.readFileSync(modelJson, 'utf8').replace('"generatedBy"', '"generatedBy" '));
  assert.match(resumeError(), /checkpoint[/\\]model\.json: does not match state\.json/);
  restore();

  const shard = fs.readdirSync(checkpoint).find((n) => n.startsWith('weights.'))!;
  fs.rmSync(path.join(checkpoint, shard));
  assert.match(resumeError(), new RegExp(`${shard}: missing`));
  restore();

  const stateFile = path.join(checkpoint, 'state.json');
  const { files: _, ...withoutHashes } = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  fs.writeFileSync(stateFile, JSON.stringify(withoutHashes));
  assert.match(resumeError(), /state\.json: written by an older version, without the file hashes/);
  restore();

  assert.equal(gccs(trainArgs(dir, 1, 2, true)).code, 0, 'the untouched checkpoint resumes');
});

test('createFileAtomic writes a new file whole and never replaces one, not even a file or link that appeared after a caller checked', () => {
  const dir = tempDir('create-new');
  const file = path.join(dir, 'out.json');
  createFileAtomic(file, 'first');
  assert.equal(fs.readFileSync(file, 'utf8'), 'first');
  // Another writer got there first: the existing content stays, one line names the file, no temporary file is left.
  assert.throws(() => createFileAtomic(file, 'second'), (error) => error instanceof UserError && error.message === `${file} already exists: write to another file (this never overwrites one)`);
  assert.equal(fs.readFileSync(file, 'utf8'), 'first');
  const dangling = path.join(dir, 'link.json');
  fs.symlinkSync(path.join(dir, 'nowhere'), dangling);
  assert.throws(() => createFileAtomic(dangling, 'through the link'), /link\.json already exists/);
  assert.ok(!fs.existsSync(path.join(dir, 'nowhere')), 'a dangling link is not followed');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['link.json', 'out.json']);
});

test('commitFiles: the journal is the commit point; a pending one is read through and applied by the next save', () => {
  const dir = tempDir('crash-commit');
  commitFiles(dir, { fresh: { 'a.1.bin': Uint8Array.of(1) }, replace: { 'x.json': 'old x', 'y.json': 'old y' }, obsolete: /^a\.\d\.bin$/ });
  assert.deepEqual(fs.readdirSync(dir).sort(), ['a.1.bin', 'x.json', 'y.json']);

  // A crash after the commit point, with only x.json applied.
  fs.writeFileSync(path.join(dir, 'a.2.bin'), Uint8Array.of(2));
  fs.writeFileSync(path.join(dir, COMMIT_JOURNAL), JSON.stringify({ replace: { 'x.json': 'new x', 'y.json': 'new y' }, remove: ['a.1.bin'] }));
  fs.writeFileSync(path.join(dir, 'x.json'), 'new x');
  assert.equal(fs.readFileSync(path.join(dir, 'y.json'), 'utf8'), 'old y', 'on disk, a mix');
  assert.equal(pendingText(path.join(dir, 'y.json')), 'new y', 'readers see the new state');
  assert.equal(pendingText(path.join(dir, 'z.json')), null);

  // Leftovers: a temporary file of a process that is gone, and one of a live process.
  const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  const deadTemp = `y.json.tmp-${gone.stdout.trim()}-abc`;
  const liveTemp = `y.json.tmp-${process.ppid}-abc`;
  fs.writeFileSync(path.join(dir, deadTemp), 'partial');
  fs.writeFileSync(path.join(dir, liveTemp), 'being written');
  settleFolder(dir);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['a.2.bin', liveTemp, 'x.json', 'y.json'].sort());
  assert.equal(fs.readFileSync(path.join(dir, 'y.json'), 'utf8'), 'new y');

  // A journal that names anything outside the folder is refused, not followed.
  fs.writeFileSync(path.join(dir, COMMIT_JOURNAL), JSON.stringify({ replace: { '../escape.json': 'x' }, remove: [] }));
  assert.throws(() => settleFolder(dir), /\.gccs-commit\.json: not a commit journal/);
  assert.ok(!fs.existsSync(path.join(path.dirname(dir), 'escape.json')));
  fs.rmSync(path.join(dir, COMMIT_JOURNAL));
  // A journal that is a symlink (here to a valid-looking journal outside the folder) is never followed.
  const outside = path.join(path.dirname(dir), `outside-journal-${process.pid}.json`);
  fs.writeFileSync(outside, JSON.stringify({ replace: { 'x.json': 'from outside' }, remove: [] }));
  fs.symlinkSync(outside, path.join(dir, COMMIT_JOURNAL));
  assert.throws(() => settleFolder(dir), /\.gccs-commit\.json: not a commit journal/);
  assert.notEqual(fs.readFileSync(path.join(dir, 'x.json'), 'utf8'), 'from outside');
  fs.rmSync(path.join(dir, COMMIT_JOURNAL));
  fs.rmSync(outside);
  writeFileAtomic(path.join(dir, 'y.json'), 'newer y');
  assert.ok(fs.existsSync(path.join(dir, liveTemp)), "a live writer's temporary file is kept");
});

test('a sweep worker that stops answering is killed after the heartbeat timeout, its cell named; the finished cells stay and --resume completes', { timeout: 600_000 }, async () => {
  const { initBackend } = await import('../../src/core/backend');
  const { lossConfig } = await import('../../src/core/loss');
  const { TRAIN_DEFAULTS } = await import('../../src/core/train/defaults');
  const { train } = await import('../../src/core/train/trainer');
  const { planSweep, readResultsFile, runSweep } = await import('../../src/core/sweep');
  await initBackend('wasm');
  const model = tempDir('hang-model');
  await train({
    dataset: { kind: 'synthetic', syntheticTrain: 200, syntheticTest: 100, seed: 1 },
    split: { trainRange: null, testRange: null, validationFraction: 0 },
    model: 'mlp', fineTuneFrom: null, loss: lossConfig('crossentropy'), optimizer: TRAIN_DEFAULTS.optimizer,
    batchSize: 50, epochs: 1, seed: 1, outDir: model, resume: false,
  }, 'wasm', () => undefined);
  const config: SweepConfig = { models: [model], attacks: [{ name: 'fgsm', eps: [0, 0.05, 0.1, 0.15, 0.2, 0.25] }], count: 50, batchSize: 50, seed: 3 };
  const cells = planSweep(config).cells;
  const hung = cells[1];
  const file = path.join(tempDir('hang-sweep'), 'results.jsonl');
  // Long enough for a healthy worker on a busy machine (its module loads before its first heartbeat).
  const heartbeatTimeoutMs = 20_000;

  process.env.GCCS_TEST_HANG_CELL = hung.id;
  let pid = 0;
  try {
    await assert.rejects(runSweep(config, { workers: 2, backend: 'wasm', resultsFile: file, process: { heartbeatTimeoutMs } }), (error: Error) => {
      const escaped = hung.id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      assert.match(error.message, new RegExp(`^cell ${escaped} \\(fgsm ε=0\\.05 on .*\\) failed: worker (\\d+) stopped answering \\(no heartbeat for 20 s\\) and was killed$`));
      pid = Number(/worker (\d+)/.exec(error.message)![1]);
      return true;
    });
  } finally {
    delete process.env.GCCS_TEST_HANG_CELL;
  }
  assert.throws(() => process.kill(pid, 0), /ESRCH/, 'the hung worker is gone');
  const kept = readResultsFile(file).results.map((r) => r.cell.id);
  assert.ok(!kept.includes(hung.id));

  const resumed = await runSweep(config, { workers: 2, backend: 'wasm', resultsFile: file, resume: true, process: { heartbeatTimeoutMs } });
  assert.equal(resumed.ran, cells.length - kept.length);
  assert.deepEqual(readResultsFile(file).results.map((r) => r.cell.id).sort(), cells.map((c) => c.id).sort());
});

test('random kills of trainings and sweeps (a small run of npm run test:kills): nothing torn, every resume equal to an uninterrupted run', { timeout: 1_800_000 }, async () => {
  const report = await runKillHarness({ kills: 5, seed: 5 });
  assert.deepEqual(report.problems, []);
  assert.equal(report.trainingKills + report.sweepKills, 5);
});
