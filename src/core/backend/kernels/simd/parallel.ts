import { Worker } from 'node:worker_threads';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { backendMemory, SimdKernels, simdKernels, simdKernelsModule } from './module';

/**
 * The C kernels on all of the threaded wasm backend's threads: a call is cut into parts that
 * write disjoint outputs (images of a batch, taps of a filter), the calling thread runs the first
 * and helper worker threads the others, each with its own instance of the kernels on the
 * backend's shared memory; the caller then waits (Atomics.wait) for the helpers. Each output
 * element is computed by one thread in the same order as on one thread, so results are identical.
 *
 * A helper waits on its control block: [0] the request's sequence number, [1] the last one done,
 * [2] the kernel's index, [3] its argument count, [4] 1 if it failed, [5…] the arguments (i32).
 */

type KernelName = keyof SimdKernels;

const REQUEST = 0;
const DONE = 1;
const KERNEL = 2;
const COUNT = 3;
const FAILED = 4;
const ARGS = 5;
const MAX_ARGS = 24;
/** Below this many output values per part, the hand-off (~50 µs) costs more than it saves. */
const MIN_VALUES_PER_PART = 1 << 16;

const HELPER = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, names } = workerData;
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports;
const c = new Int32Array(control);
let seen = 0;
for (;;) {
  Atomics.wait(c, ${REQUEST}, seen);
  seen = Atomics.load(c, ${REQUEST});
  try {
    kernels[names[c[${KERNEL}]]](...c.subarray(${ARGS}, ${ARGS} + c[${COUNT}]));
    c[${FAILED}] = 0;
  } catch {
    c[${FAILED}] = 1;
  }
  Atomics.store(c, ${DONE}, seen);
  Atomics.notify(c, ${DONE});
}`;

interface Helper { worker: Worker; control: Int32Array; sequence: number }
interface Pool { backend: BackendWasm; names: KernelName[]; helpers: Helper[] }

let pool: Pool | undefined;

/** Calls cut across threads since the process started, and their parts (the bench reports them). */
export const parallelStats = { calls: 0, parts: 0 };

/** The helpers of this backend (threads − 1 of them); those of a previous backend are ended. */
function helpersOf(backend: BackendWasm, threads: number): Pool {
  if (pool?.backend === backend) return pool;
  if (pool) for (const helper of pool.helpers) void helper.worker.terminate();
  const module = simdKernelsModule(backend);
  const names = WebAssembly.Module.exports(module).map((e) => e.name as KernelName);
  const memory = backendMemory(backend);
  const helpers = Array.from({ length: threads - 1 }, () => {
    const control = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * (ARGS + MAX_ARGS));
    const worker = new Worker(HELPER, { eval: true, workerData: { module, memory, control, names } });
    // A helper blocked in Atomics.wait must not keep a finished process alive.
    worker.unref();
    return { worker, control: new Int32Array(control), sequence: 0 };
  });
  pool = { backend, names, helpers };
  return pool;
}

/**
 * How many parts to cut a call writing `values` output values into: the backend's thread count,
 * fewer when parts would be too small to be worth a hand-off, at most `items` (what is split).
 */
export function partsFor(values: number, items: number): number {
  const threads = Math.max(1, getThreadsCount());
  return Math.max(1, Math.min(threads, items, Math.floor(values / MIN_VALUES_PER_PART)));
}

/** [begin, end) of each of `parts` near-equal shares of `count` items. */
export function shares(count: number, parts: number): [number, number][] {
  return Array.from({ length: parts }, (_, p) => [Math.floor((p * count) / parts), Math.floor(((p + 1) * count) / parts)]);
}

/** Runs `kernel` once per argument list, at the same time: the first here, the others on helper threads. */
export function runParts(backend: BackendWasm, kernel: KernelName, parts: number[][]): void {
  const kernels = simdKernels(backend);
  if (parts.length === 1) {
    (kernels[kernel] as (...args: number[]) => void)(...parts[0]);
    return;
  }
  const { names, helpers } = helpersOf(backend, getThreadsCount());
  if (parts.length > helpers.length + 1) throw new Error(`${parts.length} parts for ${helpers.length + 1} threads`);
  const index = names.indexOf(kernel);
  parallelStats.calls += 1;
  parallelStats.parts += parts.length;
  const started = parts.slice(1).map((args, i) => {
    const helper = helpers[i];
    const c = helper.control;
    c[KERNEL] = index;
    c[COUNT] = args.length;
    c.set(args, ARGS);
    helper.sequence += 1;
    Atomics.store(c, REQUEST, helper.sequence);
    Atomics.notify(c, REQUEST);
    return helper;
  });
  try {
    (kernels[kernel] as (...args: number[]) => void)(...parts[0]);
  } finally {
    // Even when this thread's part failed: the helpers write memory until they are done.
    for (const helper of started) {
      for (let done = Atomics.load(helper.control, DONE); done !== helper.sequence; done = Atomics.load(helper.control, DONE)) {
        Atomics.wait(helper.control, DONE, done);
      }
    }
  }
  if (started.some((helper) => helper.control[FAILED])) throw new Error(`the C kernel ${kernel} failed on a helper thread`);
}
