import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadWarning, parseCpuInfo, ratio, summarize } from '../../scripts/benchStats';
import type { threadsFigures } from '../../scripts/benchThreads';

const root = path.resolve(__dirname, '../..');
const isRate = (value: unknown) => typeof value === 'number' && value > 0 && Number.isFinite(value);

test('median, min and max of given rounds; the ratio is median over median', () => {
  const wasm = summarize([1200, 900, 1500, 1000]);
  assert.deepEqual(wasm, { median: 1100, min: 900, max: 1500, rounds: [1200, 900, 1500, 1000] });
  const torch = summarize([2000, 2400, 2200]);
  assert.equal(torch.median, 2200);
  assert.equal(ratio(wasm, torch), 0.5);
  assert.equal(ratio(wasm, undefined), null);
  // Figures keep 4 significant digits.
  assert.deepEqual(summarize([1234.5678]).rounds, [1235]);
});

const CPUINFO_SAMPLE = `processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 9R14 96-Core Processor
flags\t\t: fpu vme de pse sse sse2 ssse3 fma cx16 sse4_1 sse4_2 avx f16c avx2 avx512f avx512dq avx512bw avx512vl avx512_bf16 avx512_vnni

processor\t: 1
model name\t: AMD EPYC 9R14 96-Core Processor
flags\t\t: fpu sse sse2
`;

test('CPU model and SIMD features from /proc/cpuinfo (the first processor)', () => {
  assert.deepEqual(parseCpuInfo(CPUINFO_SAMPLE), {
    model: 'AMD EPYC 9R14 96-Core Processor',
    simd: ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx512_bf16'],
  });
  // avx512 features only where the flag is spelled out; "avx" does not match "avx2" alone.
  assert.deepEqual(parseCpuInfo('model name : X\nflags : sse4_2 avx2\n').simd, ['sse4_2', 'avx2']);
  assert.deepEqual(parseCpuInfo(''), { model: null, simd: [] });
});

test('a load average above the core count (at start or end) is warned about', () => {
  assert.equal(loadWarning(2, [1.5, 1, 1], [1.9, 1, 1]), null);
  assert.match(loadWarning(2, [0.5, 1, 1], [3.25, 1, 1]) ?? '', /load average 3\.25 exceeds the 2 cores.*unreliable/);
  assert.match(loadWarning(4, [16, 1, 1], [0, 0, 0]) ?? '', /16\.00 exceeds the 4 cores/);
});

test('bench/torch_reference.py answers one timed round per request on one thread', (t) => {
  if (spawnSync('/usr/bin/python3', ['-c', 'import torch']).status !== 0) return t.skip('/usr/bin/python3 cannot import torch');
  const requests = [
    { model: 'mlp', workload: 'inference', warmup: 1, steps: 1 },
    { model: 'mlp', workload: 'pgd5', warmup: 0, steps: 1 },
  ];
  const stdout = execFileSync('/usr/bin/python3', [path.join(root, 'bench/torch_reference.py')], { input: requests.map((r) => JSON.stringify(r)).join('\n') + '\n', encoding: 'utf8' });
  const [about, ...rounds] = stdout.trim().split('\n').map((line) => JSON.parse(line));
  assert.equal(about.threads, 1);
  assert.match(about.torch, /^\d+\.\d+/);
  assert.equal(rounds.length, requests.length);
  for (const r of rounds) assert.ok(isRate(r.imagesPerSecond));
});

// The bench's figures are not checked (timings gate nothing); its output shape is, so that it cannot rot.
/** One process on 1 and 2 wasm threads, alternating rounds, with the CPU time of the process and of its main thread. */
function assertThreadsFigures(threads: NonNullable<Awaited<ReturnType<typeof threadsFigures>>>, stdout: string): void {
  for (const name of ['trainCrossEntropy', 'pgd5'] as const) {
    const f = threads.workloads[name];
    for (const side of [f.threads1, f.threads2]) {
      assert.equal(side.imagesPerSecond.rounds.length, 2, name);
      assert.ok(side.imagesPerSecond.rounds.every(isRate) && isRate(side.cpuMsPerImage.median) && isRate(side.mainThreadCpuMsPerImage?.median), name);
    }
    assert.ok(f.cutCallsPerStep > 0, `${name}: no C kernel call was cut across the 2 threads`);
    assert.ok(stdout.includes(`| CNN ${name}, 1 process on 1 / 2 wasm threads`), name);
  }
}

test('npm run bench -- --quick --rounds 2 --json: the table on stdout, every figure in the JSON file', () => {
  const jsonFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-bench-test-')), 'bench.json');
  const args = ['--import', 'tsx', 'scripts/bench.ts', '--quick', '--no-torch', '--rounds', '2', '--json', jsonFile];
  const stdout = execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const result = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
  fs.rmSync(path.dirname(jsonFile), { recursive: true, force: true });
  assert.equal(result.quick, true);
  assert.equal(result.protocol.rounds, 2);
  assert.ok(Number.isInteger(result.machine.cores) && result.machine.cores >= 1);
  assert.equal(result.machine.node, process.version);
  assert.ok(typeof result.machine.cpu === 'string' && result.machine.cpu.length > 0);
  if (fs.existsSync('/proc/cpuinfo')) assert.ok(Array.isArray(result.machine.simd));
  assert.ok(Number.isInteger(result.machine.wasm.threads) && result.machine.wasm.threads >= 1);
  assert.equal(typeof result.machine.wasm.simd, 'boolean');
  for (const load of [result.machine.loadAverageBefore, result.machine.loadAverageAfter]) assert.equal(load.length, 3);
  assert.equal(result.machine.loadWarning, loadWarning(result.machine.cores, result.machine.loadAverageBefore, result.machine.loadAverageAfter));
  assert.equal(result.backend.name, 'wasm');
  for (const model of [result.cnn, result.mlp]) {
    for (const key of ['trainCrossEntropy', 'trainGccs', 'inference', 'pgd5']) {
      const { wasm } = model[key];
      assert.equal(wasm.rounds.length, 2, key);
      assert.ok(wasm.rounds.every(isRate), key);
      assert.deepEqual(wasm, summarize(wasm.rounds), key);
      assert.equal(model[key].pytorch, undefined);
      assert.equal(model[key].ratio, null);
    }
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
  assert.equal(result.attacks.images, 10);
  for (const name of ['deepfool', 'jsma', 'spsa']) assert.ok(isRate(result.attacks.seconds[name]), name);
  assert.match(stdout, /attacks on 10 images .*DeepFool .* s, JSMA .* s, SPSA .* s/);
  // npm test builds dist/ first; the figure is the lag of the process hosting a training worker.
  assert.ok(result.hostEventLoop.events > 0 && result.hostEventLoop.samples > 0, JSON.stringify(result.hostEventLoop));
  const { intervalDriftMs, monitorEventLoopDelayMs } = result.hostEventLoop;
  for (const figures of [intervalDriftMs, monitorEventLoopDelayMs]) assert.ok(figures.max >= figures.p99 && figures.p99 >= 0);
  assert.deepEqual(result.pytorch, { skipped: '--no-torch' });
  assertThreadsFigures(result.threads, stdout);
  assert.equal(result.targets.length, 12);
  for (const t of result.targets) {
    const needsTorch = /PyTorch/.test(t.name);
    assert.equal(t.value === null, needsTorch, t.name);
    assert.equal(t.met === null, needsTorch, t.name);
  }
  // The table names the machine, the load and every workload.
  assert.match(stdout, /load average \(1\/5\/15 min\): /);
  assert.match(stdout, /PyTorch: --no-torch/);
  for (const row of ['CNN training, cross-entropy', 'CNN PGD-5', 'MLP inference', 'CNN training, 2 processes']) assert.ok(stdout.includes(`| ${row}`), row);
});
