/**
 * Soak: trainings in this process and robustness sweeps on a worker pool, side by side, for a set
 * time; every 10 s it samples this process's RSS, V8 heap and TensorFlow.js tensor count and the
 * workers' RSS, and at the end compares the start, middle and end of the run (flat within 10%).
 *
 *   npm run soak -- [--minutes 30] [--out soak.csv]
 *
 * Exit 1 when memory or tensors grew. Samples before the first training and the first sweep have
 * finished are warm-up (allocators and caches filling) and not compared.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, lossConfig, runSweep, train, TRAIN_DEFAULTS } from '../src/core';
import type { TrainConfig } from '../src/core';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '30' }, out: { type: 'string', default: 'soak.csv' } } });
const durationMs = Number(values.minutes) * 60_000;
const SAMPLE_MS = 10_000;

interface Sample {
  seconds: number;
  rssMiB: number;
  heapMiB: number;
  tensors: number;
  workersRssMiB: number;
  trainings: number;
  sweeps: number;
}

/** Resident memory of this process's children (the sweep workers), from /proc. */
function childrenRssMiB(): number {
  let kiB = 0;
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      if (Number(/PPid:\s+(\d+)/.exec(status)?.[1]) === process.pid) kiB += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      // the process ended between the listing and the read
    }
  }
  return kiB / 1024;
}

const trainConfig = (outDir: string, seed: number): TrainConfig => ({
  dataset: { kind: 'synthetic' },
  split: { trainRange: null, testRange: null, validationFraction: 0.1 },
  model: 'cnn',
  fineTuneFrom: null,
  loss: lossConfig('gccs', {}),
  optimizer: TRAIN_DEFAULTS.optimizer,
  batchSize: TRAIN_DEFAULTS.batchSize,
  epochs: 2,
  seed,
  outDir,
  resume: false,
});

interface SoakRun {
  started: number;
  samples: Sample[];
  counts: { trainings: number; sweeps: number };
  /** Tensors alive after each training has returned: the exact check (samples also catch mid-step ones). */
  tensorsAfterTraining: number[];
  /** Each sweep's peak worker RSS: every sweep starts fresh workers, so peaks, not samples, compare. */
  workerPeaks: number[];
}

/** Trainings and sweeps side by side in `work` until `durationMs` has passed, sampled every SAMPLE_MS. */
async function soak(backendName: string, work: string): Promise<SoakRun> {
  const started = Date.now();
  const until = started + durationMs;
  const run: SoakRun = { started, samples: [], counts: { trainings: 0, sweeps: 0 }, tensorsAfterTraining: [], workerPeaks: [] };
  const { samples, counts } = run;
  const sample = () => {
    const memory = process.memoryUsage();
    samples.push({
      seconds: Math.round((Date.now() - started) / 1000),
      rssMiB: memory.rss / 2 ** 20,
      heapMiB: memory.heapUsed / 2 ** 20,
      tensors: tf.memory().numTensors,
      workersRssMiB: childrenRssMiB(),
      ...counts,
    });
  };
  sample();
  const timer = setInterval(sample, SAMPLE_MS);

  const modelDir = path.join(work, 'attacked');
  await train(trainConfig(modelDir, 0), backendName, () => undefined);
  const trainings = (async () => {
    for (let seed = 1; Date.now() < until; seed++) {
      await train(trainConfig(path.join(work, 'trained'), seed), backendName, () => undefined);
      counts.trainings++;
      run.tensorsAfterTraining.push(tf.memory().numTensors);
    }
  })();
  const sweeps = (async () => {
    while (Date.now() < until) {
      const resultsFile = path.join(work, `sweep-${counts.sweeps}.jsonl`);
      await runSweep(
        { models: [modelDir], attacks: [{ name: 'pgd', eps: '0.02:0.2:0.02' }, { name: 'fgsm', eps: '0.02:0.2:0.02' }], count: 200 },
        { workers: 1, backend: 'wasm', resultsFile },
      );
      fs.rmSync(resultsFile);
      run.workerPeaks.push(Math.max(0, ...samples.filter((x) => x.sweeps === counts.sweeps).map((x) => x.workersRssMiB)));
      counts.sweeps++;
    }
  })();
  await Promise.all([trainings, sweeps]);
  clearInterval(timer);
  sample();
  return run;
}

/** Prints the start, middle and end of the run after warm-up; returns what grew by more than 10%. */
function grownAfterWarmUp({ samples, workerPeaks, tensorsAfterTraining }: SoakRun): string[] {
  const steady = samples.filter((s) => s.trainings >= 1 && s.sweeps >= 1);
  if (steady.length < 3) throw new Error(`too few samples after warm-up (${steady.length}); run longer`);
  const points = { start: steady[0], middle: steady[Math.floor(steady.length / 2)], end: steady[steady.length - 1] };
  const grew: string[] = [];
  const compare = (name: string, [a, b, c]: number[]) => {
    console.log(`${name.padEnd(22)} start ${a.toFixed(1)}  middle ${b.toFixed(1)}  end ${c.toFixed(1)}`);
    if (Math.max(b, c) > a * 1.1) grew.push(name);
  };
  for (const key of ['rssMiB', 'heapMiB'] as const) compare(key, [points.start[key], points.middle[key], points.end[key]]);
  // The first sweep's workers start while the first training runs: its peak is warm-up too.
  const peaks = workerPeaks.slice(1);
  if (peaks.length >= 3) compare('worker peak RSS MiB', [peaks[0], peaks[Math.floor(peaks.length / 2)], peaks[peaks.length - 1]]);
  console.log(`tensors        start ${points.start.tensors}  middle ${points.middle.tensors}  end ${points.end.tensors} (sampled)`);
  console.log(`tensors after each training: ${tensorsAfterTraining.join(' ')}`);
  if (new Set(tensorsAfterTraining).size > 1) grew.push('tensors after training');
  return grew;
}

async function main(): Promise<void> {
  const backend = await initBackend('wasm');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-soak-'));
  const run = await soak(backend.name, work);
  fs.rmSync(work, { recursive: true, force: true });

  const header = 'seconds,rss_mib,heap_mib,tensors,workers_rss_mib,trainings,sweeps';
  const row = (s: Sample) => [s.seconds, s.rssMiB.toFixed(1), s.heapMiB.toFixed(1), s.tensors, s.workersRssMiB.toFixed(1), s.trainings, s.sweeps];
  const rows = run.samples.map((s) => row(s).join(','));
  fs.writeFileSync(values.out!, [header, ...rows].join('\n') + '\n');

  const grew = grownAfterWarmUp(run);
  console.log(`${run.counts.trainings} trainings and ${run.counts.sweeps} sweeps in ${Math.round((Date.now() - run.started) / 60000)} min; samples in ${values.out}`);
  if (grew.length) {
    console.log(`grew by more than 10%: ${grew.join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
