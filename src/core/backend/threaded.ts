import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { BackendWasm, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { wasmThreads } from './threadCount';


/**
 * tfjs-backend-wasm's threaded SIMD build under Node: XNNPACK's thread pool on Emscripten
 * pthreads (Node worker threads) over a shared WebAssembly.Memory. tfjs-backend-wasm never loads it
 * in Node (its multithread flag is false there, and its loader hands the pthread workers a browser
 * Blob URL), so this loader calls the Emscripten factory itself: the pthread worker script and the
 * factory come from dist/ (written by scripts/build-simd-kernels.mjs), the .wasm from the same
 * folder as the single-threaded build's. The backend it makes is tfjs-backend-wasm's own
 * BackendWasm, registered under the name 'wasm', so every wasm kernel (ours included) runs on it.
 */

const THREADED = 'tfjs-backend-wasm-threaded-simd';
const runtimeRequire = createRequire(__filename);

type Factory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;
interface EmscriptenModule {
  cwrap(name: string, returns: string | null, args: string[]): (...args: number[]) => number;
  PThread: { runningWorkers: { unref(): void }[] };
  [key: string]: unknown;
}

/** Beside the bundle (dist/), or in dist/ when running from source; built by `npm run build`. */
function distFile(file: string): string {
  const candidates = [path.join(__dirname, file), path.resolve(__dirname, '../../../dist', file)];
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (!found) throw new Error(`${file} not found (looked in ${candidates.join(', ')}): run npm run build`);
  return found;
}

/**
 * Instantiates the threaded module with `threads` threads for XNNPACK (the calling thread and
 * threads − 1 pthread workers). `wasmFolder`: where tfjs-backend-wasm-threaded-simd.wasm is.
 */
async function loadThreadedModule(threads: number, wasmFolder: string): Promise<EmscriptenModule> {
  const factoryFile = distFile(`${THREADED}.js`);
  const workerFile = distFile(`${THREADED}.worker.js`);
  const binary = fs.readFileSync(path.join(wasmFolder, `${THREADED}.wasm`));
  const factory = runtimeRequire(factoryFile) as Factory;
  const module = await factory({
    // Each pthread worker evaluates the factory from this file (Emscripten's importScripts in Node).
    mainScriptUrlOrBlob: factoryFile,
    locateFile: (file: string) => (file.endsWith('.worker.js') ? workerFile : path.join(wasmFolder, file)),
    pthreadPoolSize: threads - 1,
    instantiateWasm(imports: { env: Record<string, unknown> }, receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) {
      // The backend caps its thread count at half the logical cores (for hyper-threading), which
      // this import reports; report enough for the count asked for.
      imports.env.emscripten_num_logical_cores = () => 2 * threads;
      // Synchronously: a failure here rejects the factory's promise (Emscripten catches it).
      const compiled = new WebAssembly.Module(binary);
      const instance = new WebAssembly.Instance(compiled, imports as WebAssembly.Imports);
      receive(instance, compiled);
      return instance.exports;
    },
  });
  // As tfjs-backend-wasm's own loader binds them.
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}

let singleThreadedFactory: (() => tf.KernelBackend | Promise<tf.KernelBackend>) | undefined;
const WASM_PRIORITY = 2;
/** What tfjs-backend-wasm registers on import: its single-threaded loader. */
let registeredThreads = 1;

/** Whether the 'wasm' backend registered now runs a different thread count than wasmThreads() asks for. */
export function wasmThreadsChanged(): boolean {
  return registeredThreads !== wasmThreads();
}

/**
 * Registers the 'wasm' backend with `threads` XNNPACK threads: the threaded build for more than
 * one, tfjs-backend-wasm's own (single-threaded SIMD) loader for one. Replaces any 'wasm' backend
 * already initialized; the caller then sets it with tf.setBackend.
 */
export function registerWasmBackend(threads: number, wasmFolder: string): void {
  if (threads === registeredThreads) return;
  singleThreadedFactory ??= tf.findBackendFactory('wasm');
  if (!singleThreadedFactory) throw new Error('tfjs-backend-wasm registered no wasm backend');
  tf.removeBackend('wasm');
  setThreadsCount(threads);
  registeredThreads = threads;
  if (threads === 1) {
    tf.registerBackend('wasm', singleThreadedFactory, WASM_PRIORITY);
    return;
  }
  tf.registerBackend('wasm', async () => {
    const module = await loadThreadedModule(threads, wasmFolder);
    const backend = new BackendWasm(module as unknown as ConstructorParameters<typeof BackendWasm>[0]);
    // The pool's workers hold a reference on the event loop while they run (wait for work): a
    // process that is done must still exit.
    for (const worker of module.PThread.runningWorkers) worker.unref();
    return backend;
  }, WASM_PRIORITY);
}
