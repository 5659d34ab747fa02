/**
 * `npm run bench`: throughput of the engine on this machine, printed as a table on stdout (progress
 * on stderr) and, with `--json <file>`, as one JSON object in that file. With a Python that imports
 * torch, bench/torch_reference.py (one thread) stays alive beside the bench and each workload's
 * rounds alternate wasm, PyTorch, wasm, PyTorch… so that drift of the machine's load affects both
 * sides alike; figures are medians (with min and max) over the rounds, ratios median/median. The
 * machine (CPU model, SIMD features, load average at start and end) is reported with them.
 * `--quick` runs every part for a step or two (for the unit test).
 */
import { ChildProcessWithoutNullStreams, execFileSync, fork, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '../src/core/tf';
import { parseFlags } from '../src/cli/args';
import { attackBatch, resolveAttackParams } from '../src/core/attacks';
import { BACKEND_NAMES, BackendName, initBackend } from '../src/core/backend';
import { loadIdxFolder } from '../src/core/data/idx';
import { loadModelDir } from '../src/core/io/modelDir';
import type { Examples } from '../src/core/data';
import { lossConfig } from '../src/core/loss';
import { createModel } from '../src/core/models';
import { Random } from '../src/core/random';
import { runSweep } from '../src/core/sweep';
import { ReplicaGroup, ReplicaSync, batchShare } from '../src/core/train/dataParallel';
import { TRAIN_DEFAULTS } from '../src/core/train/defaults';
import { Optimizer } from '../src/core/train/optimizer';
import { TrainConfig, train, trainStep } from '../src/core/train/trainer';
import { autoattackFigures, autoattackLine } from './benchAutoattack';
import { hostEventLoopFigures } from './benchHostLag';
import { threadsFigures, threadsLines, threadsTargets } from './benchThreads';
import { median } from '../src/core/stats';
import { RoundSummary, loadWarning, parseCpuInfo, ratio, round, summarize } from './benchStats';

const TRAIN_BATCH = 200;
const ATTACK_BATCH = 100;
const PGD5 = resolveAttackParams('pgd', { eps: 0.1, steps: 5 });
const IMAGE_SHAPE: [number, number, number] = [28, 28, 1];
const MNIST_SAMPLE = path.resolve(__dirname, '../../shared/data/mnist-t10k');

const FLAGS = {
  backend: { type: 'string', choices: [...BACKEND_NAMES], description: 'backend', default: 'wasm' },
  quick: { type: 'boolean', description: 'a step or two of everything (checks that the bench runs, measures nothing)' },
  data: { type: 'string', description: 'MNIST IDX folder for the training-process measurement', default: MNIST_SAMPLE },
  python: { type: 'string', description: 'Python with torch for the reference', default: '/usr/bin/python3, else python3' },
  'no-torch': { type: 'boolean', description: 'skip the PyTorch reference' },
  rounds: { type: 'string', description: 'alternating wasm/PyTorch rounds per workload (default 3, --quick 1)' },
  json: { type: 'string', description: 'also write the figures as one JSON object to this file' },
  autoattack: { type: 'boolean', description: "also time the autoattack preset on 1000 MNIST test images, 2 workers, ε 0.1, and the peer's (many minutes)" },
  torchattacks: { type: 'string', description: 'folder holding the torchattacks/ source, for the peer time of --autoattack' },
  probe: { type: 'string', description: '(internal) run one training process with this JSON configuration' },
} as const;

/** Warm-up calls (once per workload), calls per timed round or repeat, rounds or repeats. */
interface Protocol {
  warmup: number;
  steps: number;
  repeats: number;
}

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
interface Throughput {
  imagesPerSecond: number;
  cpuMsPerImage: number | null;
}

async function measure(imagesPerCall: number, call: () => unknown, { warmup, steps, repeats }: Protocol, otherPids: number[] = []): Promise<Throughput> {
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

/** PyTorch on one thread in a child process that answers one timed round per request. */
class TorchChild {
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly lines: AsyncIterator<string>,
    readonly about: { torch: string; python: string; threads: number },
  ) {}

  static async start(python: string): Promise<TorchChild> {
    const child = spawn(python, [path.resolve(__dirname, '../bench/torch_reference.py')]);
    child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const first = await lines.next();
    if (first.done) throw new Error(`${python} bench/torch_reference.py exited before it started`);
    return new TorchChild(child, lines, JSON.parse(first.value));
  }

  /** Images/s of one round of `steps` calls (warm-up calls run on a workload's first round only). */
  async round(model: Architecture, workload: TorchWorkload, protocol: Protocol): Promise<number> {
    this.child.stdin.write(`${JSON.stringify({ model, workload, warmup: protocol.warmup, steps: protocol.steps })}\n`);
    const line = await this.lines.next();
    if (line.done) throw new Error('bench/torch_reference.py exited during a round');
    return (JSON.parse(line.value) as { imagesPerSecond: number }).imagesPerSecond;
  }

  close(): void {
    this.child.stdin.end();
  }
}

type Architecture = 'cnn' | 'mlp';
type TorchWorkload = 'trainCrossEntropy' | 'inference' | 'pgd5';
type Workload = TorchWorkload | 'trainGccs';

/** Images per call and the call of one workload on a fresh model, and what to dispose after. */
async function wasmWorkload(architecture: Architecture, workload: Workload, examples: Examples) {
  const { model, variables, optimizer } = await freshModel(architecture);
  const noShift = { maxShift: 0, random: new Random(0) };
  const indices = firstIndices(TRAIN_BATCH);
  const x = tf.tensor4d(Float32Array.from(examples.pixels.subarray(0, TRAIN_BATCH * 784), (p) => p / 255), [TRAIN_BATCH, ...IMAGE_SHAPE]);
  const xAttack = tf.slice(x, 0, ATTACK_BATCH) as tf.Tensor4D;
  const labels = examples.labels.subarray(0, ATTACK_BATCH);
  const dispose = () => {
    tf.dispose([x, xAttack]);
    optimizer.dispose();
    model.dispose();
  };
  const calls: Record<Workload, [number, () => unknown]> = {
    trainCrossEntropy: [TRAIN_BATCH, () => trainStep(model, variables, optimizer, lossConfig('crossentropy'), examples, indices, noShift, 1e-3, 0)],
    trainGccs: [TRAIN_BATCH, () => trainStep(model, variables, optimizer, lossConfig('gccs'), examples, indices, noShift, 1e-3, 0)],
    inference: [TRAIN_BATCH, () => tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync())],
    pgd5: [ATTACK_BATCH, async () => (await attackBatch(model, 'pgd', xAttack, labels, PGD5, 0)).adversarial.dispose()],
  };
  const [images, call] = calls[workload];
  return { images, call, dispose };
}

interface WorkloadFigures {
  wasm: RoundSummary;
  pytorch?: RoundSummary;
  /** wasm median / PyTorch median. */
  ratio: number | null;
}

/**
 * Each workload of one architecture: warm-up, then `protocol.repeats` rounds of `protocol.steps`
 * calls, alternating a wasm round and a PyTorch round (where PyTorch has the workload).
 */
async function modelFigures(architecture: Architecture, examples: Examples, protocol: Protocol, torch: TorchChild | null) {
  const figures = {} as Record<Workload, WorkloadFigures>;
  for (const workload of ['trainCrossEntropy', 'trainGccs', 'inference', 'pgd5'] as const) {
    const { images, call, dispose } = await wasmWorkload(architecture, workload, examples);
    const torchHasIt = torch !== null && workload !== 'trainGccs';
    const wasmRounds: number[] = [];
    const torchRounds: number[] = [];
    try {
      for (let i = 0; i < protocol.warmup; i++) await call();
      for (let r = 0; r < protocol.repeats; r++) {
        const started = performance.now();
        for (let i = 0; i < protocol.steps; i++) await call();
        wasmRounds.push((images * protocol.steps * 1000) / (performance.now() - started));
        if (torchHasIt) torchRounds.push(await torch.round(architecture, workload, protocol));
      }
    } finally {
      dispose();
    }
    const wasm = summarize(wasmRounds);
    const pytorch = torchRounds.length ? summarize(torchRounds) : undefined;
    figures[workload] = { wasm, ...(pytorch && { pytorch }), ratio: ratio(wasm, pytorch) };
    log(`${architecture} ${workload}: wasm ${JSON.stringify(wasm.rounds)}${pytorch ? `, PyTorch ${JSON.stringify(pytorch.rounds)}` : ''} img/s`);
  }
  // A step's time is the inverse of its throughput.
  return { ...figures, gccsOverCrossEntropyStepTime: round(figures.trainCrossEntropy.wasm.median / figures.trainGccs.wasm.median, 4) };
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
  const step = () => trainStep(single.model, single.variables, single.optimizer, loss, examples, indices, noShift, 1e-3, 0);
  const oneProcess = await measure(TRAIN_BATCH, step, protocol);
  single.optimizer.dispose();
  single.model.dispose();
  const figures: Partial<Record<ReplicaSync, { imagesPerSecond: number; cpuMsPerImage: number | null }>> = {};
  for (const sync of ['gradients', 'weights'] as const) {
    const { model, variables, optimizer } = await freshModel('cnn');
    const group = await ReplicaGroup.start({ processes, backend, model, variables, optimizer, optimizerConfig: TRAIN_DEFAULTS.optimizer, loss, sync });
    try {
      const groupStep = () => group.step((rank) => batchShare(examples, indices, rank, processes), [...IMAGE_SHAPE], 1e-3, 0);
      figures[sync] = await measure(TRAIN_BATCH, groupStep, protocol, group.pids);
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
  const figures = (run: ProbeResult) => ({
    imagesPerSecond: round(steady(run), 4),
    epochImagesPerSecond: run.epochImagesPerSecond,
    tensorsAtEpochEnd: run.tensorsAtEpochEnd,
    leaderPeakRssMiB: round(run.maxRssKiB / 1024, 4),
  });
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
  const attacks = [{ name: 'pgd' as const, eps, params: { steps: 5 } }];
  const config = { models: [modelDir], attacks, count: quick ? ATTACK_BATCH : 1000, batchSize: ATTACK_BATCH, seed: 0 };
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
  const speedup = round(seconds[1] / seconds[2], 3);
  return { cells: eps.length, samplesPerCell: config.count, attack: 'pgd-5', workers1Seconds: seconds[1], workers2Seconds: seconds[2], speedup };
}

/** The minimal-perturbation and gradient-free attacks of issue 15 on the trained model: wall time, median over `rounds`. */
async function attackFigures(modelDir: string, dataDir: string | undefined, quick: boolean, rounds: number) {
  const count = quick ? 10 : 500;
  const { model } = await loadModelDir(modelDir);
  const loaded = dataDir ? await loadIdxFolder(dataDir, 'mnist') : undefined;
  const examples = loaded ? (loaded.test ?? loaded.train)! : randomExamples(count, 2);
  const attacks = [
    ['deepfool', resolveAttackParams('deepfool')],
    ['jsma', resolveAttackParams('jsma')],
    ['spsa', resolveAttackParams('spsa', { eps: 0.1, iterations: quick ? 2 : 20, samples: quick ? 4 : 32 })],
  ] as const;
  const seconds: Record<string, number> = {};
  for (const [name, params] of attacks) {
    const times: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const started = performance.now();
      for (let first = 0; first < count; first += ATTACK_BATCH) {
        const n = Math.min(ATTACK_BATCH, count - first);
        const x = tf.tensor4d(Float32Array.from(examples.pixels.subarray(first * 784, (first + n) * 784), (p) => p / 255), [n, ...IMAGE_SHAPE]);
        const output = await attackBatch(model, name, x, examples.labels.subarray(first, first + n), params, 0);
        tf.dispose([x, output.adversarial]);
      }
      times.push((performance.now() - started) / 1000);
    }
    seconds[name] = round(median(times), 4);
    log(`${name} on ${count} images: ${times.map((t) => t.toFixed(1)).join(', ')} s`);
  }
  model.dispose();
  const spsa = quick ? '2 iterations × 4 pairs' : '20 iterations × 32 pairs';
  return { images: count, data: dataDir ? `mnist ${dataDir} first ${count} test images` : 'random', batch: ATTACK_BATCH, spsa, seconds };
}

/** What --autoattack needs from the flags. */
function autoattackFlags(flags: Record<string, unknown>) {
  const python = () => (flags['no-torch'] ? null : torchPython(flags.python as string | undefined));
  return { asked: Boolean(flags.autoattack), python, torchattacks: flags.torchattacks as string | undefined };
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

/** The machine as the bench saw it: CPU, SIMD features, Node, the wasm backend's settings. */
function machineFigures(backend: BackendName) {
  let cpuinfo = '';
  try {
    cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // not Linux: the model comes from os.cpus() and the features stay unknown
  }
  const { model, simd } = parseCpuInfo(cpuinfo);
  return {
    cpu: model ?? os.cpus()[0]?.model ?? 'unknown',
    simd: cpuinfo ? simd : null,
    cores: os.availableParallelism(),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    wasm: backend === 'wasm' ? { threads: getThreadsCount(), simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'), multithreadSupport: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') } : null,
  };
}

const thousands = (value: number) => Math.round(value).toLocaleString('en-US');
const spread = (s: RoundSummary) => `${thousands(s.median)} (${thousands(s.min)}–${thousands(s.max)})`;

/** The human-readable table of the figures (the JSON has them all). */
function table(result: BenchResult): string {
  const { machine, pytorch } = result;
  const lines = [
    `${machine.cpu}, ${machine.cores} cores, SIMD: ${machine.simd?.join(' ') ?? 'unknown'}; Node ${machine.node}; backend ${result.backend.name}` +
      (machine.wasm ? ` (threads ${machine.wasm.threads}, SIMD ${machine.wasm.simd ? 'on' : 'off'}, multithread support ${machine.wasm.multithreadSupport ? 'yes' : 'no'})` : ''),
    `PyTorch: ${'torch' in pytorch ? `${pytorch.torch} (Python ${pytorch.python}), torch.get_num_threads() = ${pytorch.threads}` : pytorch.skipped}`,
    `load average (1/5/15 min): ${machine.loadAverageBefore.join(' / ')} at start, ${machine.loadAverageAfter.join(' / ')} at end`,
    ...(machine.loadWarning ? [`WARNING: ${machine.loadWarning}`] : []),
    `${result.protocol.rounds} rounds per workload, alternating wasm and PyTorch; median (min–max) img/s; ratio = median / median`,
    '',
    '| workload | wasm | PyTorch, 1 thread | ratio |',
    '|---|---|---|---|',
  ];
  for (const architecture of ['cnn', 'mlp'] as const) {
    const workloads = [
      ['trainCrossEntropy', 'training, cross-entropy, batch 200'],
      ['trainGccs', 'training, GCCS, batch 200'],
      ['inference', 'inference, batch 200'],
      ['pgd5', 'PGD-5, batch 100'],
    ] as const;
    for (const [workload, name] of workloads) {
      const f = result[architecture][workload];
      lines.push(`| ${architecture.toUpperCase()} ${name} | ${spread(f.wasm)} | ${f.pytorch ? spread(f.pytorch) : ''} | ${f.ratio ?? ''} |`);
    }
  }
  const dp = result.dataParallel;
  lines.push(`| CNN training, 2 processes (data-parallel, gradients) | ${thousands(dp.gradients.imagesPerSecond)} | | ${dp.ratioToPyTorch ?? ''} |`);
  lines.push(...threadsLines(result.threads, spread));
  lines.push('', '| target | value | goal | met |', '|---|---|---|---|');
  for (const t of result.targets) lines.push(`| ${t.name} | ${t.value ?? ''} | ${t.goal} | ${t.met === null ? '' : t.met ? 'yes' : 'no'} |`);
  const tp = result.trainingProcess;
  lines.push(
    '',
    `training process (${tp.data}, ${tp.epochs} epochs): ${thousands(tp.workers1.imagesPerSecond)} img/s on 1 worker, ${thousands(tp.workers2.imagesPerSecond)} on 2; peak RSS ${tp.workers1.leaderPeakRssMiB} / ${tp.workers2.leaderPeakRssMiB} MiB`,
    `PGD-5 sweep (${result.sweep.cells} cells × ${result.sweep.samplesPerCell}): ${result.sweep.workers1Seconds} s on 1 worker, ${result.sweep.workers2Seconds} s on 2`,
    `attacks on ${result.attacks.images} images (${result.attacks.data}), batch ${result.attacks.batch}, 1 process: ` +
      `DeepFool ${result.attacks.seconds.deepfool} s, JSMA ${result.attacks.seconds.jsma} s, SPSA (${result.attacks.spsa}) ${result.attacks.seconds.spsa} s`,
    autoattackLine(result.autoattack),
    'skipped' in result.hostEventLoop
      ? `host event loop: skipped (${result.hostEventLoop.skipped})`
      : `host event loop while a worker trains: interval drift max ${result.hostEventLoop.intervalDriftMs.max} ms, p99 ${result.hostEventLoop.intervalDriftMs.p99} ms`,
  );
  return `${lines.join('\n')}\n`;
}

type BenchResult = Awaited<ReturnType<typeof measureAll>>;

/** The --data folder (by default the MNIST sample beside this clone), or undefined where it does not exist. */
function dataFolder(flags: Record<string, unknown>): string | undefined {
  const dataFlag = (flags.data as string | undefined) ?? MNIST_SAMPLE;
  return fs.existsSync(dataFlag) ? path.resolve(dataFlag) : undefined;
}

/** Runs every part of the bench and returns its figures. */
async function measureAll(flags: Record<string, unknown>, backend: BackendName, torch: TorchChild | null, workDir: string) {
  const quick = Boolean(flags.quick);
  const rounds = flags.rounds === undefined ? (quick ? 1 : 3) : Number(flags.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 100) throw new Error(`--rounds must be an integer from 1 to 100, not ${String(flags.rounds)}`);
  const protocol: Protocol = quick ? { warmup: 1, steps: 1, repeats: rounds } : { warmup: 3, steps: 5, repeats: rounds };
  const dataDir = dataFolder(flags);
  const loadBefore = os.loadavg();
  const info = await initBackend(backend);
  log(`backend ${info.name} (${info.detail})`);
  const examples = randomExamples(TRAIN_BATCH, 1);
  const cnn = await modelFigures('cnn', examples, protocol, torch);
  const mlp = await modelFigures('mlp', examples, protocol, torch);
  const threads = await threadsFigures(info.name, (workload) => wasmWorkload('cnn', workload, examples), protocol, clockTicksPerSecond(), log);
  const dataParallel = await dataParallelFigures(info.name, examples, 2, protocol);
  const trainingProcess = await trainingProcessFigures(info.name, dataDir, quick, workDir);
  const sweep = await sweepFigures(info.name, trainingProcess.modelDir, quick, quick ? 1 : 3);
  const attacks = await attackFigures(trainingProcess.modelDir, dataDir, quick, rounds);
  const autoattack = await autoattackFigures({ ...autoattackFlags(flags), backend: info.name, modelDir: trainingProcess.modelDir, dataDir, quick, log });
  const hostEventLoop = await hostEventLoopFigures(info.name, quick, workDir);
  log(`host event loop while a worker trains: ${JSON.stringify(hostEventLoop)}`);
  const loadAfter = os.loadavg();
  const machine = machineFigures(info.name);
  const dataParallelSpeedup = round(dataParallel.gradients.imagesPerSecond / dataParallel.oneProcess.imagesPerSecond, 3);
  const { cpuMsPerImage: cpuOne } = dataParallel.oneProcess;
  const { cpuMsPerImage: cpuTwo } = dataParallel.gradients;
  const torchTraining = cnn.trainCrossEntropy.pytorch?.median;
  const wasmThreads = machine.wasm?.threads ?? 1;
  const peakRssMiB = Math.max(trainingProcess.workers1.leaderPeakRssMiB, trainingProcess.workers2.leaderPeakRssMiB);
  const tensorGrowth = [trainingProcess.workers1, trainingProcess.workers2].some((run) => run.tensorsAtEpochEnd.some((n) => n !== run.tensorsAtEpochEnd[0]));
  // Issue 15's targets for the reference CNN; ratios to PyTorch only where it ran.
  const target = (name: string, value: number | null, goal: string, meets: (value: number) => boolean) =>
    ({ name, value: value === null ? null : round(value), goal, met: value === null ? null : meets(value) });
  const twoProcessRatio = torchTraining ? round(dataParallel.gradients.imagesPerSecond / torchTraining, 3) : null;
  const targets = [
    target('training, 1 process / PyTorch 1 thread', cnn.trainCrossEntropy.ratio, '≥ 0.95', (v) => v >= 0.95),
    target(`training, 1 process per wasm thread (${wasmThreads}) / PyTorch 1 thread`, cnn.trainCrossEntropy.ratio === null ? null : cnn.trainCrossEntropy.ratio / wasmThreads, '≥ 0.5', (v) => v >= 0.5),
    target('training, 2 processes / PyTorch 1 thread', twoProcessRatio, '≥ 0.95', (v) => v >= 0.95),
    ...threadsTargets(threads, torchTraining, target),
    target('inference / PyTorch 1 thread', cnn.inference.ratio, '≥ 1.3', (v) => v >= 1.3),
    target('PGD-5 / PyTorch 1 thread', cnn.pgd5.ratio, '≥ 1.0', (v) => v >= 1),
    target('GCCS step / cross-entropy step', cnn.gccsOverCrossEntropyStepTime, '≤ 1.10', (v) => v <= 1.1),
    target('sweep speed-up, 2 workers', sweep.speedup, '≥ 1.7', (v) => v >= 1.7),
    target('data-parallel training speed-up, 2 processes', dataParallelSpeedup, '≥ 1.7', (v) => v >= 1.7),
    target('training process peak RSS (MiB)', peakRssMiB, '≤ 1024', (v) => v <= 1024),
    target('tensor count change across epochs', tensorGrowth ? 1 : 0, '0', (v) => v === 0),
  ];
  const [loadAverageBefore, loadAverageAfter] = [loadBefore, loadAfter].map((values) => values.map((v) => round(v)));
  return {
    machine: { ...machine, loadAverageBefore, loadAverageAfter, loadWarning: loadWarning(machine.cores, loadAverageBefore, loadAverageAfter) },
    backend: { name: info.name, detail: info.detail },
    quick,
    protocol: { warmup: protocol.warmup, steps: protocol.steps, rounds, statistic: 'median (min, max) images/s over the rounds; wasm and PyTorch rounds alternate', trainBatch: TRAIN_BATCH, attackBatch: ATTACK_BATCH, input: 'random 28×28×1, 10 balanced classes' },
    cnn,
    mlp,
    dataParallel: {
      processes: 2,
      model: 'cnn',
      loss: 'crossentropy',
      ...dataParallel,
      speedup: dataParallelSpeedup,
      ratioToPyTorch: twoProcessRatio,
      // CPU per image, 1 process over 2: what the speed-up can reach when both cores are free
      // (on a busy machine the scheduler may give both processes together one process's share).
      cpuEfficiency: cpuOne !== null && cpuTwo !== null ? round(cpuOne / cpuTwo, 3) : null,
    },
    trainingProcess: { ...trainingProcess, modelDir: undefined },
    sweep,
    attacks, autoattack, threads,
    hostEventLoop,
    pytorch: torch ? torch.about : { skipped: flags['no-torch'] ? '--no-torch' : 'no Python with torch found' },
    targets,
  };
}

async function main(): Promise<void> {
  const flags = parseFlags('bench', process.argv.slice(2), FLAGS);
  const backend = (flags.backend as BackendName | undefined) ?? 'wasm';
  if (flags.probe) return probe(JSON.parse(flags.probe as string) as TrainConfig, backend);
  const python = flags['no-torch'] ? null : torchPython(flags.python as string | undefined);
  if (!flags['no-torch'] && !python) log('no Python here imports torch (apt-get install python3-torch): no PyTorch reference');
  const torch = python ? await TorchChild.start(python) : null;
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-bench-'));
  try {
    const result = await measureAll(flags, backend, torch, workDir);
    if (flags.json) fs.writeFileSync(flags.json as string, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(table(result));
  } finally {
    torch?.close();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
