/**
 * `npm run bench`'s `threads` part: workloads of the wasm backend on 1 and on 2 threads in this one
 * process (README › Performance), rounds alternating 1, 2, 1, 2… so that drift of the machine's
 * load affects both alike. Each round records images/s and the CPU milliseconds per image of the
 * whole process and of its main thread: on a machine shared with other work, where wall-clock
 * speed-ups mean little, they still show whether the second thread takes work off the first.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { initBackend } from '../src/core/backend';
import { setWasmThreads } from '../src/core/backend/threadCount';
import { parallelStats } from '../src/core/backend/kernels/simd/parallel';
import { RoundSummary, ratio, round, summarize } from './benchStats';

/** A workload as bench.ts makes it: images per call, the call, and what to dispose after. */
export interface ThreadsWorkload {
  images: number;
  call: () => unknown;
  dispose: () => void;
}

interface Protocol {
  warmup: number;
  steps: number;
  repeats: number;
}

/** CPU milliseconds of the calling (main) thread from /proc, or null where there is none. */
function mainThreadCpuMilliseconds(clockTicksPerSecond: number): number | null {
  try {
    const fields = fs.readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond;
  } catch {
    return null;
  }
}

interface Round {
  imagesPerSecond: number;
  cpuMsPerImage: number;
  mainThreadCpuMsPerImage: number | null;
}

async function timedRound(workload: ThreadsWorkload, protocol: Protocol, clockTicksPerSecond: number): Promise<Round> {
  for (let i = 0; i < protocol.warmup; i++) await workload.call();
  const mainBefore = mainThreadCpuMilliseconds(clockTicksPerSecond);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < protocol.steps; i++) await workload.call();
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const mainAfter = mainThreadCpuMilliseconds(clockTicksPerSecond);
  const images = workload.images * protocol.steps;
  return {
    imagesPerSecond: (images * 1000) / wallMs,
    cpuMsPerImage: (cpu.user + cpu.system) / 1000 / images,
    mainThreadCpuMsPerImage: mainBefore === null || mainAfter === null ? null : (mainAfter - mainBefore) / images,
  };
}

interface ThreadsSide {
  imagesPerSecond: RoundSummary;
  /** CPU ms per image of all the process's threads (XNNPACK's pool spins while it waits for work, and counts). */
  cpuMsPerImage: RoundSummary;
  /** CPU ms per image of the main thread: what a second thread took off it. */
  mainThreadCpuMsPerImage: RoundSummary | null;
}

function side(rounds: Round[]): ThreadsSide {
  const main = rounds.map((r) => r.mainThreadCpuMsPerImage);
  return {
    imagesPerSecond: summarize(rounds.map((r) => r.imagesPerSecond)),
    cpuMsPerImage: summarize(rounds.map((r) => r.cpuMsPerImage)),
    mainThreadCpuMsPerImage: main.every((v): v is number => v !== null) ? summarize(main) : null,
  };
}

/** The workloads timed on 1 and 2 threads: the reference CNN's. */
const WORKLOADS = ['trainCrossEntropy', 'pgd5'] as const;
type Name = (typeof WORKLOADS)[number];

/**
 * Each workload (made afresh on each backend: switching the thread count replaces the backend and
 * its tensors) on 1 and 2 threads, alternating; then the backend goes back to the default count.
 * Null on other backends than wasm.
 */
export async function threadsFigures(
  backend: string, make: (name: Name) => Promise<ThreadsWorkload>, protocol: Protocol, clockTicksPerSecond: number,
  log: (line: string) => void,
) {
  if (backend !== 'wasm') return null;
  const names = WORKLOADS;
  const loadAverageBefore = os.loadavg().map((v) => round(v));
  const workloads = {} as Record<Name, { threads1: ThreadsSide; threads2: ThreadsSide; speedup: number | null; cutCallsPerStep: number }>;
  try {
    for (const name of names) {
      const rounds: Record<1 | 2, Round[]> = { 1: [], 2: [] };
      let cutCalls = 0;
      for (let r = 0; r < protocol.repeats; r++) {
        for (const threads of [1, 2] as const) {
          setWasmThreads(threads);
          await initBackend('wasm');
          const workload = await make(name);
          const cutBefore = parallelStats.calls;
          try {
            rounds[threads].push(await timedRound(workload, protocol, clockTicksPerSecond));
          } finally {
            workload.dispose();
          }
          if (threads === 2) cutCalls += parallelStats.calls - cutBefore;
        }
      }
      const [threads1, threads2] = [side(rounds[1]), side(rounds[2])];
      const steps = protocol.repeats * (protocol.warmup + protocol.steps);
      workloads[name] = { threads1, threads2, speedup: ratio(threads2.imagesPerSecond, threads1.imagesPerSecond), cutCallsPerStep: round(cutCalls / steps) };
      log(`threads ${name}: 1 thread ${JSON.stringify(threads1.imagesPerSecond.rounds)}, 2 threads ${JSON.stringify(threads2.imagesPerSecond.rounds)} img/s`);
    }
  } finally {
    setWasmThreads(undefined);
    await initBackend('wasm');
  }
  return { loadAverageBefore, loadAverageAfter: os.loadavg().map((v) => round(v)), workloads };
}

type ThreadsFigures = Awaited<ReturnType<typeof threadsFigures>>;
type Target<T> = (name: string, value: number | null, goal: string, meets: (value: number) => boolean) => T;

/** Issue 15's goals for one process using both cores: training ≥ 0.95× PyTorch on 1 thread, ≥ 0.5× per thread. */
export function threadsTargets<T>(threads: ThreadsFigures, torchTraining: number | undefined, target: Target<T>): T[] {
  const ratio = torchTraining && threads ? round(threads.workloads.trainCrossEntropy.threads2.imagesPerSecond.median / torchTraining, 3) : null;
  return [
    target('training, 1 process on 2 wasm threads / PyTorch 1 thread', ratio, '≥ 0.95', (v) => v >= 0.95),
    target('training, 1 process on 2 wasm threads, per thread / PyTorch 1 thread', ratio === null ? null : ratio / 2, '≥ 0.5', (v) => v >= 0.5),
  ];
}

/** The table's rows: images/s on 1 / 2 threads, with the CPU per image of the process and of its main thread. */
export function threadsLines(threads: ThreadsFigures, spread: (summary: RoundSummary) => string): string[] {
  const cpu = (s: ThreadsSide) => `${s.cpuMsPerImage.median} ms, main thread ${s.mainThreadCpuMsPerImage?.median ?? '?'} ms`;
  return Object.entries(threads?.workloads ?? {}).map(([name, f]) =>
    `| CNN ${name}, 1 process on 1 / 2 wasm threads (CPU per image) | ${spread(f.threads1.imagesPerSecond)} / ${spread(f.threads2.imagesPerSecond)} ` +
    `(${cpu(f.threads1)} / ${cpu(f.threads2)}) | | ${f.speedup ?? ''} (2 / 1 threads) |`);
}
