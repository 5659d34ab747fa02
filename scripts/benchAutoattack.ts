/**
 * `npm run bench -- --autoattack`: wall time of the `autoattack` preset's attacks (APGD-CE, APGD-T,
 * FAB-T where this build has it, Square; AutoAttack's standard parameters) on 1000 MNIST test
 * images at one ε, with the bench's reference CNN, as a sweep on 2 workers (every attack on every
 * image: a sweep runs no cascade), and the peer's time for the same attacks on the same images and
 * machine (bench/autoattack_peer_time.py: torchattacks from its source, 2 PyTorch processes of 1 thread)
 * when a Python with torch and --torchattacks DIR are given. Behind a flag: on 2 shared cores it
 * takes many minutes.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BackendName } from '../src/core/backend';
import { planPreset } from '../src/core/robustness/presets';
import { runSweep } from '../src/core/sweep';
import { round } from './benchStats';

const WORKERS = 2;
const EPS = 0.1;
const FIRST_IMAGE = 6000;

export interface AutoattackBenchOptions {
  backend: BackendName;
  modelDir: string;
  /** MNIST IDX folder (the bench model's data): the images are its test images 6000…6999 (--quick: 10). */
  dataDir: string | undefined;
  quick: boolean;
  /** Images (default 1000; --quick 10). */
  count?: number;
  /** --autoattack was given. */
  asked: boolean;
  /** A Python that imports torch, or null (asked only when the peer runs). */
  python: () => string | null;
  torchattacks: string | undefined;
  log: (line: string) => void;
}

/**
 * CPU seconds used so far by this process and its finished children (the sweep's workers, once
 * exited): on a busy machine, unlike wall time, this does not grow with the other jobs' load. Null off Linux.
 */
function cpuSeconds(): number | null {
  try {
    // Fields after the command name: cutime and cstime (waited-for children) are the 14th and 15th, in clock ticks.
    const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
    const { user, system } = process.cpuUsage();
    return (Number(fields[13]) + Number(fields[14])) / ticks + (user + system) / 1e6;
  } catch {
    return null;
  }
}

interface Images {
  dataDir: string;
  count: number;
}

/** The peer's figures, or why there are none. */
function peerFigures(options: AutoattackBenchOptions, images: Images, attacks: string[]) {
  const python = options.python();
  if (!python) return { skipped: 'no Python with torch' };
  if (!options.torchattacks || !fs.existsSync(path.join(options.torchattacks, 'torchattacks'))) {
    return { skipped: 'no torchattacks source (--torchattacks DIR, DIR holding torchattacks/)' };
  }
  const script = path.resolve(__dirname, '../bench/autoattack_peer_time.py');
  const args = [script, '--torchattacks', options.torchattacks, '--model', options.modelDir, '--data', images.dataDir, '--start', String(FIRST_IMAGE)];
  args.push('--count', String(images.count), '--eps', String(EPS), '--processes', String(WORKERS), '--attacks', attacks.join(','));
  const output = execFileSync(python, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  return JSON.parse(output.trim().split('\n').at(-1) as string) as {
    attacks: Record<string, { seconds: number; accuracy: number }>;
    seconds: number;
    cpuSeconds: number;
    torch: string;
    processes: number;
  };
}

export async function autoattackFigures(options: AutoattackBenchOptions) {
  if (!options.asked) return { skipped: 'not asked for (--autoattack)' };
  if (!options.dataDir) return { skipped: 'no MNIST data (--data)' };
  const images = { dataDir: options.dataDir, count: options.count ?? (options.quick ? 10 : 1000) };
  const testRange = `${FIRST_IMAGE}:${FIRST_IMAGE + images.count}`;
  const plan = planPreset('autoattack');
  const attacks = plan.attacks.map((attack) => attack.name);
  const config = {
    models: [options.modelDir],
    presets: [{ name: 'autoattack', eps: [EPS] }],
    data: { kind: 'mnist' as const, path: images.dataDir, testRange },
    count: images.count,
    batchSize: 100,
    seed: 0,
  };
  const loadAverageBefore = os.loadavg().map((v) => round(v));
  const [started, cpuBefore] = [performance.now(), cpuSeconds()];
  const sweep = await runSweep(config, { workers: WORKERS, backend: options.backend });
  const seconds = round((performance.now() - started) / 1000, 4);
  const cpuAfter = cpuSeconds();
  const cpu = cpuBefore === null || cpuAfter === null ? null : round(cpuAfter - cpuBefore, 4);
  const perAttack = Object.fromEntries(sweep.results.map((r) => [r.cell.attack, { seconds: round(r.seconds, 4), accuracy: r.accuracy }]));
  options.log(`autoattack preset on ${images.count} images, ${WORKERS} workers: ${seconds} s ${JSON.stringify(perAttack)}`);
  const peer = peerFigures(options, images, attacks);
  options.log(`autoattack peer: ${JSON.stringify(peer)}`);
  return {
    images: images.count,
    data: `mnist ${images.dataDir} test images ${testRange}`,
    eps: EPS,
    workers: WORKERS,
    attacks,
    missing: plan.missing,
    seconds,
    cpuSeconds: cpu,
    perAttack,
    peer,
    // Ours over the peer's: below 1 means faster than the peer.
    ratioToPeer: 'seconds' in peer ? round(seconds / peer.seconds, 3) : null,
    cpuRatioToPeer: 'seconds' in peer && cpu !== null ? round(cpu / peer.cpuSeconds, 3) : null,
    loadAverageBefore,
    loadAverageAfter: os.loadavg().map((v) => round(v)),
  };
}

/** The table's line for these figures. */
export function autoattackLine(figures: Awaited<ReturnType<typeof autoattackFigures>>): string {
  if ('skipped' in figures) return `autoattack preset: skipped (${figures.skipped})`;
  const peer =
    'seconds' in figures.peer
      ? `${figures.peer.seconds} s, CPU ${figures.peer.cpuSeconds} s (torchattacks, ${figures.peer.processes} processes of 1 thread); ratio ${figures.ratioToPeer}, CPU ratio ${figures.cpuRatioToPeer}`
      : `skipped (${figures.peer.skipped})`;
  return (
    `autoattack preset (${figures.attacks.join(', ')}, each on every image) on ${figures.images} images at ε ${figures.eps}, ${figures.workers} workers: ` +
    `${figures.seconds} s, CPU ${figures.cpuSeconds} s (load ${figures.loadAverageBefore[0]} → ${figures.loadAverageAfter[0]}); peer ${peer}`
  );
}
