/**
 * `npm run bench`: throughput of the engine on this machine, printed as one JSON object on stdout
 * (progress on stderr). Images/s are medians of several timed repeats after warm-up steps. With a
 * Python that imports torch, bench/torch_reference.py times the same networks and the targets of
 * issue 5 are printed as ratios. `--quick` runs every part for a step or two (for the unit test).
 */
import { execFileSync, fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '../src/core/tf';
import { parseFlags } from '../src/cli/args';
import { attackBatch } from '../src/core/attacks';
import { BackendName, initBackend } from '../src/core/backend';
import type { Examples } from '../src/core/data';
import { lossConfig } from '../src/core/loss';
import { createModel } from '../src/core/models';
import { Random } from '../src/core/random';
import { runSweep } from '../src/core/sweep';
import { ReplicaGroup, ReplicaSync, batchShare } from '../src/core/train/dataParallel';
import { TRAIN_DEFAULTS } from '../src/core/train/defaults';
import { Optimizer } from '../src/core/train/optimizer';
import { TrainConfig, train, trainStep } from '../src/core/train/trainer';
import { hostEventLoopFigures } from './benchHostLag';

const TRAIN_BATCH = 200;
const ATTACK_BATCH = 100;
const IMAGE_SHAPE: [number, number, number] = [28, 28, 1];
const MNIST_SAMPLE = path.resolve(__dirname, '../../shared/data/mnist-t10k');

const FLAGS = {
  backend: { type: 'string', choices: ['auto', 'tensorflow', 'wasm', 'cpu'], description: 'backend', default: 'wasm' },
  quick: { type: 'boolean', description: 'a step or two of everything (checks that the bench runs, measures nothing)' },
  data: { type: 'string', description: 'MNIST IDX folder for the training-process measurement', default: MNIST_SAMPLE },
  python: { type: 'string', description: 'Python with torch for the reference', default: '/usr/bin/python3, else python3' },
  'no-torch': { type: 'boolean', description: 'skip the PyTorch reference' },
  probe: { type: 'string', description: '(internal) run one training process with this JSON configuration' },
} as const;

/** Warm-up calls, calls per timed repeat, repeats. */
interface Protocol {
  warmup: number;
  steps: number;
  repeats: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round = (value: number, digits = 3) => Number(value.toPrecision(digits));
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

/** Milliseconds of CPU time of a process from /proc (Linux), or null where there is none. */
function processCpuMilliseconds(pid: number): number | null {
  try {
    // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks.
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond();
  } catch {
    return null;
  }
}

let clockTicks: number | undefined;
function clockTicksPerSecond(): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
  return clockTicks;
}

/** CPU milliseconds used so far by this process and the given others (null if one cannot be read). */
function cpuMilliseconds(otherPids: number[]): number | null {
  const { user, system } = process.cpuUsage();
  let total = (user + system) / 1000;
  for (const pid of otherPids) {
    const other = processCpuMilliseconds(pid);
    if (other === null) return null;
    total += other;
  }
  return total;
}

/**
 * Median images/s of `call` over the protocol's repeats, and the median CPU milliseconds per image
 * of this process and `otherPids` (all the processes doing the work; null where unreadable).
 */
async function measure(imagesPerCall: number, call: () => unknown, { warmup, steps, repeats }: Protocol, otherPids: number[] = []): Promise<{ imagesPerSecond: number; cpuMsPerImage: number | null }> {
  for (let i = 0; i < warmup; i++) await call();
  const rates: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const cpuBefore = cpuMilliseconds(otherPids);
    const started = performance.now();
    for (let i = 0; i < steps; i++) await call();
    rates.push((imagesPerCall * steps * 1000) / (performance.now() - started));
    const cpuAfter = cpuMilliseconds(otherPids);
    if (cpuBefore !== null && cpuAfter !== null) cpu.push((cpuAfter - cpuBefore) / (imagesPerCall * steps));
  }
  return { imagesPerSecond: round(median(rates), 4), cpuMsPerImage: cpu.length ? round(median(cpu), 3) : null };
}

/** Median images/s of `call` over the protocol's repeats. */
async function imagesPerSecond(imagesPerCall: number, call: () => unknown, protocol: Protocol): Promise<number> {
  return (await measure(imagesPerCall, call, protocol)).imagesPerSecond;
}

/** Seeded random MNIST-shaped examples with balanced labels. */
function randomExamples(count: number, seed: number): Examples {
  const random = new Random(seed);
  const pixels = Uint8Array.from({ length: count * 784 }, () => random.int(256));
  return { pixels, labels: Int32Array.from({ length: count }, (_, i) => i % 10), shape: IMAGE_SHAPE };
}

const firstIndices = (count: number) => Int32Array.from({ length: count }, (_, i) => i);

async function freshModel(architecture: 'cnn' | 'mlp') {
  const model = await createModel(architecture, [...IMAGE_SHAPE], 10, 0);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return { model, variables, optimizer: new Optimizer(TRAIN_DEFAULTS.optimizer, variables) };
}

/** Training (both losses), inference and PGD-5 images/s of one architecture in this process. */
async function modelFigures(architecture: 'cnn' | 'mlp', examples: Examples, protocol: Protocol) {
  const indices = firstIndices(TRAIN_BATCH);
  const noShift = { maxShift: 0, random: new Random(0) };
  const training: Record<string, number> = {};
  for (const kind of ['crossentropy', 'gccs'] as const) {
    const { model, variables, optimizer } = await freshModel(architecture);
    const loss = lossConfig(kind);
    training[kind] = await imagesPerSecond(TRAIN_BATCH, () => trainStep(model, variables, optimizer, loss, examples, indices, noShift, 1e-3, 0), protocol);
    optimizer.dispose();
    model.dispose();
  }
  const { model, optimizer } = await freshModel(architecture);
  optimizer.dispose();
  const x = tf.tensor4d(Float32Array.from(examples.pixels.subarray(0, TRAIN_BATCH * 784), (p) => p / 255), [TRAIN_BATCH, ...IMAGE_SHAPE]);
  const inference = await imagesPerSecond(TRAIN_BATCH, () => tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync()), protocol);
  const xAttack = tf.slice(x, 0, ATTACK_BATCH) as tf.Tensor4D;
  const labels = examples.labels.subarray(0, ATTACK_BATCH);
  const pgd5 = await imagesPerSecond(ATTACK_BATCH, async () => (await attackBatch(model, 'pgd', xAttack, labels, { eps: 0.1, steps: 5 }, 0)).adversarial.dispose(), protocol);
  tf.dispose([x, xAttack]);
  model.dispose();
  const imagesPerSecondFigures = { trainCrossEntropy: training.crossentropy, trainGccs: training.gccs, inference, pgd5 };
  log(`${architecture}: ${JSON.stringify(imagesPerSecondFigures)}`);
  // A step's time is the inverse of its throughput.
  return { imagesPerSecond: imagesPerSecondFigures, gccsOverCrossEntropyStepTime: round(training.crossentropy / training.gccs, 4) };
}

/**
 * Cross-entropy training steps of the CNN in one process and on `processes` processes, for each way
 * of keeping replicas in sync, with the CPU time all the processes spent per image.
 */
async function dataParallelFigures(backend: BackendName, examples: Examples, processes: number, protocol: Protocol) {
  const indices = firstIndices(TRAIN_BATCH);
  const loss = lossConfig('crossentropy');
  const noShift = { maxShift: 0, random: new Random(0) };
  const single = await freshModel('cnn');
  const oneProcess = await measure(TRAIN_BATCH, () => trainStep(single.model, single.variables, single.optimizer, loss, examples, indices, noShift, 1e-3, 0), protocol);
  single.optimizer.dispose();
  single.model.dispose();
  const figures: Partial<Record<ReplicaSync, { imagesPerSecond: number; cpuMsPerImage: number | null }>> = {};
  for (const sync of ['gradients', 'weights'] as const) {
    const { model, variables, optimizer } = await freshModel('cnn');
    const group = await ReplicaGroup.start({ processes, backend, model, variables, optimizer, optimizerConfig: TRAIN_DEFAULTS.optimizer, loss, sync });
    try {
      figures[sync] = await measure(TRAIN_BATCH, () => group.step((rank) => batchShare(examples, indices, rank, processes), [...IMAGE_SHAPE], 1e-3, 0), protocol, group.pids);
      await group.assertInSync();
    } finally {
      await group.close();
      optimizer.dispose();
      model.dispose();
    }
  }
  log(`data parallel: 1 process ${JSON.stringify(oneProcess)}, ${processes} processes ${JSON.stringify(figures)}`);
  return { oneProcess, ...(figures as Record<ReplicaSync, { imagesPerSecond: number; cpuMsPerImage: number | null }>) };
}

interface ProbeResult {
  /** Training images/s of each epoch. */
  epochImagesPerSecond: number[];
  tensorsAtEpochEnd: number[];
  /** process.resourceUsage().maxRSS of the training process, in KiB. */
  maxRssKiB: number;
  outDir: string;
}

/** The --probe child: one real training run, reporting per epoch what a leak or a slowdown would show. */
async function probe(config: TrainConfig, backend: BackendName): Promise<void> {
  const info = await initBackend(backend);
  const epochImagesPerSecond: number[] = [];
  const tensorsAtEpochEnd: number[] = [];
  let trainCount = 0;
  await train(config, info.name, (event) => {
    if (event.type === 'start') trainCount = event.trainCount;
    if (event.type === 'epoch') {
      epochImagesPerSecond.push(round(trainCount / event.record.seconds, 4));
      tensorsAtEpochEnd.push(tf.memory().numTensors);
    }
  });
  const result: ProbeResult = { epochImagesPerSecond, tensorsAtEpochEnd, maxRssKiB: process.resourceUsage().maxRSS, outDir: config.outDir };
  process.send?.(result);
}

/** Runs one training process (this script with --probe) and returns what it measured. */
function runProbe(config: TrainConfig, backend: string): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--probe', JSON.stringify(config), '--backend', backend], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    let result: ProbeResult | undefined;
    child.on('message', (message: ProbeResult) => (result = message));
    child.on('error', reject);
    child.on('exit', (code) => (result && code === 0 ? resolve(result) : reject(new Error(`training process exited with code ${code}`))));
  });
}

/** The reference CNN trained with cross-entropy in a child process on 1 and on 2 processes. */
async function trainingProcessFigures(backend: string, dataDir: string | undefined, quick: boolean, workDir: string) {
  const dataset: TrainConfig['dataset'] = dataDir ? { kind: 'mnist', path: dataDir } : { kind: 'synthetic', syntheticTrain: 400, syntheticTest: 200, seed: 0 };
  const base: TrainConfig = {
    dataset,
    split: { trainRange: dataDir ? (quick ? '0:400' : '0:6000') : null, testRange: dataDir ? (quick ? '6000:6200' : '6000:7000') : null, validationFraction: 0 },
    model: 'cnn',
    fineTuneFrom: null,
    loss: lossConfig('crossentropy'),
    optimizer: TRAIN_DEFAULTS.optimizer,
    batchSize: TRAIN_BATCH,
    epochs: quick ? 2 : 4,
    seed: 0,
    outDir: '',
    resume: false,
  };
  const runs: Record<string, ProbeResult> = {};
  for (const workers of [1, 2]) {
    runs[workers] = await runProbe({ ...base, workers, outDir: path.join(workDir, `train-${workers}`) }, backend);
    log(`training process, ${workers} worker(s): ${JSON.stringify(runs[workers])}`);
  }
  // The first epoch warms up (kernels, memory); the others are timed.
  const steady = (run: ProbeResult) => median(run.epochImagesPerSecond.length > 1 ? run.epochImagesPerSecond.slice(1) : run.epochImagesPerSecond);
  const figures = (run: ProbeResult) => ({ imagesPerSecond: round(steady(run), 4), epochImagesPerSecond: run.epochImagesPerSecond, tensorsAtEpochEnd: run.tensorsAtEpochEnd, leaderPeakRssMiB: round(run.maxRssKiB / 1024, 4) });
  return {
    data: dataDir ? `mnist ${dataDir} ${base.split.trainRange}` : 'synthetic',
    loss: 'crossentropy',
    epochs: base.epochs,
    workers1: figures(runs[1]),
    workers2: figures(runs[2]),
    speedup: round(steady(runs[2]) / steady(runs[1]), 3),
    modelDir: runs[1].outDir,
  };
}

/** Wall time of a PGD-5 sweep over the trained model on 1 and on 2 worker processes. */
async function sweepFigures(backend: BackendName, modelDir: string, quick: boolean, repeats: number) {
  const eps = quick ? [0.1] : [0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.14, 0.16];
  const config = { models: [modelDir], attacks: [{ name: 'pgd' as const, eps, params: { steps: 5 } }], count: quick ? ATTACK_BATCH : 1000, batchSize: ATTACK_BATCH, seed: 0 };
  const seconds: Record<number, number> = {};
  for (const workers of [1, 2]) {
    const times: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const started = performance.now();
      await runSweep(config, { workers, backend });
      times.push((performance.now() - started) / 1000);
    }
    seconds[workers] = round(median(times), 4);
  }
  log(`sweep: ${JSON.stringify(seconds)} s`);
  return { cells: eps.length, samplesPerCell: config.count, attack: 'pgd-5', workers1Seconds: seconds[1], workers2Seconds: seconds[2], speedup: round(seconds[1] / seconds[2], 3) };
}

interface TorchReference {
  torch: string;
  python: string;
  imagesPerSecond: Record<'threads1' | 'threads2', Record<'cnn' | 'mlp', { trainCrossEntropy: number; inference: number; pgd5: number }>>;
}

/** The first Python that imports torch, or null. */
function torchPython(requested: string | undefined): string | null {
  for (const python of requested ? [requested] : ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
      return python;
    } catch {
      // not this one
    }
  }
  return null;
}

function torchReference(python: string, protocol: Protocol): TorchReference {
  const script = path.resolve(__dirname, '../bench/torch_reference.py');
  const output = execFileSync(python, [script, String(protocol.warmup), String(protocol.steps), String(protocol.repeats)], { encoding: 'utf8' });
  return JSON.parse(output) as TorchReference;
}

async function main(): Promise<void> {
  const flags = parseFlags('bench', process.argv.slice(2), FLAGS);
  const backend = (flags.backend as BackendName | undefined) ?? 'wasm';
  if (flags.probe) return probe(JSON.parse(flags.probe as string) as TrainConfig, backend);
  const quick = Boolean(flags.quick);
  const protocol: Protocol = quick ? { warmup: 1, steps: 1, repeats: 1 } : { warmup: 3, steps: 5, repeats: 5 };
  const dataFlag = (flags.data as string | undefined) ?? MNIST_SAMPLE;
  const dataDir = fs.existsSync(dataFlag) ? path.resolve(dataFlag) : undefined;
  const loadBefore = os.loadavg();
  const info = await initBackend(backend);
  log(`backend ${info.name} (${info.detail})`);
  const examples = randomExamples(TRAIN_BATCH, 1);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-bench-'));
  try {
    const cnn = await modelFigures('cnn', examples, protocol);
    const mlp = await modelFigures('mlp', examples, protocol);
    const dataParallel = await dataParallelFigures(info.name, examples, 2, protocol);
    const trainingProcess = await trainingProcessFigures(info.name, dataDir, quick, workDir);
    const sweep = await sweepFigures(info.name, trainingProcess.modelDir, quick, quick ? 1 : 3);
    const hostEventLoop = await hostEventLoopFigures(info.name, quick, workDir);
    log(`host event loop while a worker trains: ${JSON.stringify(hostEventLoop)}`);
    const python = flags['no-torch'] ? null : torchPython(flags.python as string | undefined);
    if (!flags['no-torch'] && !python) log('no Python here imports torch (apt-get install python3-torch): no PyTorch reference');
    const pytorch = python ? torchReference(python, protocol) : null;
    const dataParallelSpeedup = round(dataParallel.gradients.imagesPerSecond / dataParallel.oneProcess.imagesPerSecond, 3);
    const { cpuMsPerImage: cpuOne } = dataParallel.oneProcess;
    const { cpuMsPerImage: cpuTwo } = dataParallel.gradients;
    const torch1 = pytorch?.imagesPerSecond.threads1.cnn;
    const gibibyte = 1024;
    const peakRssMiB = Math.max(trainingProcess.workers1.leaderPeakRssMiB, trainingProcess.workers2.leaderPeakRssMiB);
    // Issue 5's targets for the reference CNN; ratios to PyTorch only where it ran.
    const target = (name: string, value: number | null, goal: string, met: boolean | null) => ({ name, value: value === null ? null : round(value), goal, met });
    const targets = [
      target('training, 1 process / PyTorch 1 thread', torch1 ? cnn.imagesPerSecond.trainCrossEntropy / torch1.trainCrossEntropy : null, '≥ 0.5', torch1 ? cnn.imagesPerSecond.trainCrossEntropy / torch1.trainCrossEntropy >= 0.5 : null),
      target('training, 2 processes / PyTorch 1 thread', torch1 ? dataParallel.gradients.imagesPerSecond / torch1.trainCrossEntropy : null, '≥ 0.9', torch1 ? dataParallel.gradients.imagesPerSecond / torch1.trainCrossEntropy >= 0.9 : null),
      target('inference / PyTorch 1 thread', torch1 ? cnn.imagesPerSecond.inference / torch1.inference : null, '≥ 1.0', torch1 ? cnn.imagesPerSecond.inference / torch1.inference >= 1 : null),
      target('PGD-5 / PyTorch 1 thread', torch1 ? cnn.imagesPerSecond.pgd5 / torch1.pgd5 : null, '≥ 0.8', torch1 ? cnn.imagesPerSecond.pgd5 / torch1.pgd5 >= 0.8 : null),
      target('GCCS step / cross-entropy step', cnn.gccsOverCrossEntropyStepTime, '≤ 1.10', cnn.gccsOverCrossEntropyStepTime <= 1.1),
      target('sweep speed-up, 2 workers', sweep.speedup, '≥ 1.7', sweep.speedup >= 1.7),
      target('data-parallel training speed-up, 2 processes', dataParallelSpeedup, '≥ 1.7', dataParallelSpeedup >= 1.7),
      target('training process peak RSS (MiB)', peakRssMiB, '≤ 1024', peakRssMiB <= gibibyte),
    ];
    const result = {
      machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism(), node: process.version, platform: `${os.platform()} ${os.release()}`, loadAverageBefore: loadBefore.map((v) => round(v)), loadAverageAfter: os.loadavg().map((v) => round(v)) },
      backend: { name: info.name, detail: info.detail },
      quick,
      protocol: { ...protocol, statistic: 'median images/s over the repeats', trainBatch: TRAIN_BATCH, attackBatch: ATTACK_BATCH, input: 'random 28×28×1, 10 balanced classes' },
      cnn,
      mlp,
      dataParallel: {
        processes: 2,
        model: 'cnn',
        loss: 'crossentropy',
        ...dataParallel,
        speedup: dataParallelSpeedup,
        // CPU per image, 1 process over 2: what the speed-up can reach when both cores are free
        // (on a busy machine the scheduler may give both processes together one process's share).
        cpuEfficiency: cpuOne !== null && cpuTwo !== null ? round(cpuOne / cpuTwo, 3) : null,
      },
      trainingProcess: { ...trainingProcess, modelDir: undefined },
      sweep,
      hostEventLoop,
      pytorch: pytorch ?? { skipped: flags['no-torch'] ? '--no-torch' : 'no Python with torch found' },
      targets,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
