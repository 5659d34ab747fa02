import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../../src/core/backend';
import { wasmThreadsShare } from '../../src/core/backend/threadCount';
import { UserError } from '../../src/core/errors';
import { lossConfig } from '../../src/core/loss';
import { CellResult, SweepCancelled, SweepConfig, SweepEvent, formatSummary, readResultsFile, runSweep, summarizeSweep } from '../../src/core/sweep';
import { TRAIN_DEFAULTS } from '../../src/core/train/defaults';
import { train } from '../../src/core/train/trainer';

const temp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), `gccs-sweep-${prefix}-`));
const models: string[] = [];

// Two tiny MLPs on the built-in data (600 train / 300 test), a second each.
before(async () => {
  await initBackend('wasm');
  for (const loss of ['crossentropy', 'gccs'] as const) {
    const outDir = path.join(temp('model'), loss);
    await train(
      {
        dataset: { kind: 'synthetic', syntheticTrain: 600, syntheticTest: 300, seed: 1 },
        split: { trainRange: null, testRange: null, validationFraction: 0 },
        model: 'mlp',
        fineTuneFrom: null,
        loss: lossConfig(loss),
        optimizer: { ...TRAIN_DEFAULTS.optimizer, learningRate: 0.003 },
        batchSize: 50,
        epochs: 3,
        seed: 1,
        outDir,
        resume: false,
      },
      'wasm',
      () => undefined,
    );
    models.push(outDir);
  }
});

const small = (): SweepConfig => ({
  models: [models[0]],
  attacks: [{ name: 'fgsm', eps: [0, 0.05, 0.1] }, { name: 'pgd', eps: [0.05], params: { randomStart: true } }, { name: 'deepfool' }],
  count: 100,
  batchSize: 50,
  seed: 3,
});

/** What must not depend on how the cells were scheduled. */
const measured = (results: CellResult[]) => results.map(({ seconds: _s, finishedAt: _f, ...rest }) => rest).sort((a, b) => (a.cell.id < b.cell.id ? -1 : 1));

let reference: { file: string; table: string[]; results: CellResult[] };

test('an uninterrupted sweep writes one line per cell', async () => {
  const file = path.join(temp('full'), 'results.jsonl');
  const result = await runSweep(small(), { workers: 1, backend: 'wasm', resultsFile: file });
  assert.equal(result.cells.length, 5);
  assert.equal(result.ran, 5);
  assert.deepEqual(
    readResultsFile(file)
      .results.map((r) => r.cell.id)
      .sort(),
    result.cells.map((c) => c.id).sort(),
  );
  const [clean, fgsm5, fgsm10, pgd, deepfool] = result.results;
  assert.equal(clean.accuracy, clean.cleanAccuracy, 'ε = 0 gives the clean accuracy');
  assert.ok(clean.cleanAccuracy > 0.3, `the model learned something (${clean.cleanAccuracy})`);
  assert.ok(fgsm5.accuracy < clean.accuracy && fgsm10.accuracy <= fgsm5.accuracy);
  assert.ok(pgd.accuracy <= fgsm5.accuracy + 0.05);
  assert.ok(typeof deepfool.rho === 'number' && deepfool.rho > 0);
  assert.ok(result.results.every((r) => r.count === 100 && r.backend === 'wasm' && r.configHash === result.configHash));
  reference = { file, table: formatSummary(summarizeSweep(result.cells, result.results)), results: result.results };
});

test('resume skips the finished cells (a partial last line is ignored) and ends with the same table', async () => {
  const file = path.join(temp('resume'), 'results.jsonl');
  const lines = fs.readFileSync(reference.file, 'utf8').split('\n');
  fs.writeFileSync(file, `${lines[0]}\n${lines[1]}\n${lines[2].slice(0, 40)}`);
  const started: string[] = [];
  const result = await runSweep(small(), {
    workers: 1,
    backend: 'wasm',
    resultsFile: file,
    resume: true,
    onEvent: (e) => e.type === 'cellStart' && started.push(e.cell.id),
  });
  assert.equal(result.ran, 3);
  assert.equal(started.length, 3);
  assert.ok(!started.includes(JSON.parse(lines[0]).cell.id));
  assert.equal(readResultsFile(file).results.length, 5);
  assert.deepEqual(formatSummary(summarizeSweep(result.cells, result.results)), reference.table);
  assert.deepEqual(measured(result.results), measured(reference.results));
});

test('cancelling through the AbortSignal keeps the finished cells; resuming completes the sweep', async () => {
  const file = path.join(temp('cancel'), 'results.jsonl');
  /** Runs the sweep until `abortAt` says to abort, and checks the message. */
  const cancelledRun = async (abortAt: (event: SweepEvent) => boolean, message: string) => {
    const controller = new AbortController();
    const onEvent = (event: SweepEvent) => abortAt(event) && controller.abort();
    await assert.rejects(
      runSweep(small(), { workers: 1, backend: 'wasm', resultsFile: file, resume: true, signal: controller.signal, onEvent }),
      (error: unknown) => {
        assert.ok(error instanceof SweepCancelled);
        assert.equal(error.message, message);
        return true;
      },
    );
  };
  // Between two cells, then in the middle of DeepFool (after the first of its two batches).
  await cancelledRun((event) => event.type === 'cellDone', 'cancelled: 1 of 5 cells finished; run again with --resume');
  assert.equal(readResultsFile(file).results.length, 1);
  await cancelledRun((event) => event.type === 'progress' && event.cell.attack === 'deepfool', 'cancelled: 4 of 5 cells finished; run again with --resume');
  assert.equal(readResultsFile(file).results.length, 4);
  const result = await runSweep(small(), { workers: 1, backend: 'wasm', resultsFile: file, resume: true });
  assert.equal(result.ran, 1);
  assert.deepEqual(measured(result.results), measured(reference.results));
});

test('a results file is never overwritten, nor resumed by another configuration', async () => {
  const before = fs.readFileSync(reference.file);
  const refused = async (options: object, pattern: RegExp) => {
    await assert.rejects(
      runSweep({ ...small(), seed: 4 }, { workers: 1, resultsFile: reference.file, ...options }),
      (error: unknown) => error instanceof UserError && pattern.test(error.message),
    );
    assert.deepEqual(fs.readFileSync(reference.file), before, 'the file is unchanged');
  };
  await refused({ resume: true }, /holds results of another sweep configuration/);
  await refused({}, /already holds results: pass --resume/);
});

test('two workers give the same results as one', async () => {
  const config: SweepConfig = {
    models,
    attacks: [
      { name: 'pgd', eps: [0.05, 0.1], params: { randomStart: true } },
      { name: 'spsa', eps: [0.1], iterations: [3], samples: [4, 8] },
      { name: 'jsma', params: { maxIterations: 10 } },
    ],
    count: 60,
    batchSize: 30,
  };
  const one = await runSweep(config, { workers: 1, backend: 'wasm' });
  const pids = new Set<number>();
  const details: string[] = [];
  const two = await runSweep(config, {
    workers: 2,
    backend: 'wasm',
    onEvent: (e) => {
      if (e.type === 'cellStart') pids.add(e.pid);
      if (e.type === 'workerReady') details.push(e.detail);
    },
  });
  assert.equal(pids.size, 2, 'both workers ran cells');
  // Unless told otherwise, the two workers split the cores (one thread each on a 2-core machine).
  const share = process.env.GCCS_WASM_THREADS ? Number(process.env.GCCS_WASM_THREADS) : wasmThreadsShare(2);
  assert.deepEqual(details.map((detail) => detail.match(/, (\d+) threads?\)/)?.[1]), [String(share), String(share)]);
  assert.equal(two.cells.length, 10);
  assert.deepEqual(measured(two.results), measured(one.results));
});

test('a worker crash names the cell; the results before it are kept', async () => {
  const file = path.join(temp('crash'), 'results.jsonl');
  const config: SweepConfig = {
    models: [models[0]],
    attacks: [
      { name: 'fgsm', eps: [0.1] },
      { name: 'spsa', eps: [0.1], iterations: [10000], params: { earlyStop: false } },
    ],
    count: 20,
  };
  const onEvent = (event: SweepEvent) => {
    if (event.type === 'cellStart' && event.cell.attack === 'spsa') process.kill(event.pid, 'SIGKILL');
  };
  await assert.rejects(runSweep(config, { workers: 1, backend: 'wasm', resultsFile: file, onEvent }), (error: unknown) => {
    assert.ok(error instanceof Error && !(error instanceof UserError));
    assert.match(error.message, /^worker \d+ crashed \(signal SIGKILL\) while running cell [0-9a-f]{16} \(spsa ε=0\.1 IT=10000 BS=64 on .*crossentropy\)$/);
    return true;
  });
  assert.deepEqual(
    readResultsFile(file).results.map((r) => r.cell.attack),
    ['fgsm'],
  );
});
