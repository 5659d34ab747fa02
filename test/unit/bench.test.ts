import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const isRate = (value: unknown) => typeof value === 'number' && value > 0 && Number.isFinite(value);

// The bench's figures are not checked (timings gate nothing); its output shape is, so that it cannot rot.
test('npm run bench -- --quick prints one JSON object with every figure', () => {
  const stdout = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/bench.ts', '--quick', '--no-torch'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const result = JSON.parse(stdout);
  assert.equal(result.quick, true);
  assert.ok(Number.isInteger(result.machine.cores) && result.machine.cores >= 1);
  assert.equal(result.machine.node, process.version);
  assert.equal(result.backend.name, 'wasm');
  for (const model of [result.cnn, result.mlp]) {
    for (const key of ['trainCrossEntropy', 'trainGccs', 'inference', 'pgd5']) assert.ok(isRate(model.imagesPerSecond[key]), key);
    assert.ok(isRate(model.gccsOverCrossEntropyStepTime));
  }
  for (const run of [result.dataParallel.oneProcess, result.dataParallel.gradients, result.dataParallel.weights]) {
    assert.ok(isRate(run.imagesPerSecond));
    assert.ok(isRate(run.cpuMsPerImage), 'CPU time is read from /proc on Linux');
  }
  assert.ok(isRate(result.dataParallel.cpuEfficiency));
  assert.ok(isRate(result.dataParallel.speedup));
  for (const run of [result.trainingProcess.workers1, result.trainingProcess.workers2]) {
    assert.ok(isRate(run.imagesPerSecond));
    assert.equal(run.tensorsAtEpochEnd.length, 2);
    assert.equal(run.tensorsAtEpochEnd[1], run.tensorsAtEpochEnd[0], 'tensor count grew between epochs');
    // A Node process with TensorFlow.js loaded holds tens of MiB at least.
    assert.ok(run.leaderPeakRssMiB > 30 && run.leaderPeakRssMiB < 4096, String(run.leaderPeakRssMiB));
  }
  assert.ok(isRate(result.sweep.workers1Seconds) && isRate(result.sweep.workers2Seconds) && isRate(result.sweep.speedup));
  // npm test builds dist/ first; the figure is the lag of the process hosting a training worker.
  assert.ok(result.hostEventLoop.events > 0 && result.hostEventLoop.samples > 0, JSON.stringify(result.hostEventLoop));
  for (const figures of [result.hostEventLoop.intervalDriftMs, result.hostEventLoop.monitorEventLoopDelayMs]) assert.ok(figures.max >= figures.p99 && figures.p99 >= 0);
  assert.deepEqual(result.pytorch, { skipped: '--no-torch' });
  assert.equal(result.targets.length, 8);
  for (const t of result.targets) {
    const needsTorch = /PyTorch/.test(t.name);
    assert.equal(t.value === null, needsTorch, t.name);
    assert.equal(t.met === null, needsTorch, t.name);
  }
});
