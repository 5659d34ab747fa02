import * as fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
// Importing a binding (not just the module) keeps bundlers from dropping the registration.
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { UserError } from '../errors';
import { customKernelNames, registerCustomKernels } from './kernels/register';
import { nativeModulesSearchPath } from './nativeInstall';
import { wasmThreads } from './threadCount';
import { registerWasmBackend, wasmThreadsChanged } from './threaded';

/** The backends a user may ask for (CLI --backend, the gccs.backend setting): the one list. */
export const BACKEND_NAMES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type ActiveBackend = Exclude<BackendName, 'auto'>;

export interface BackendInfo {
  name: ActiveBackend;
  /** One human-readable line: what runs the math, and why this one was picked. */
  detail: string;
  /** Set when something the user installed could not be used (a damaged record, a native package that fails to load). */
  warning?: string;
}

// createRequire keeps bundlers from resolving (and inlining or failing on) the optional native
// packages: they are looked up only when the program runs.
const runtimeRequire = createRequire(__filename);

const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

const initialized = new Map<BackendName, BackendInfo>();
let wasmPathsSet = false;

/**
 * Selects and initializes the TensorFlow.js backend. `auto` prefers native TensorFlow
 * (tfjs-node-gpu, then tfjs-node), then WebAssembly, then plain JavaScript. Calling again with
 * the same request while that backend is still active does nothing.
 */
export async function initBackend(requested: BackendName): Promise<BackendInfo> {
  const previous = initialized.get(requested);
  if (previous && tf.getBackend() === previous.name && !(previous.name === 'wasm' && wasmThreadsChanged())) return previous;
  const info = await select(requested);
  initialized.set(requested, info);
  return info;
}

async function select(requested: BackendName): Promise<BackendInfo> {
  // Production mode skips TensorFlow.js's debug checks and its console banners (the trainer
  // checks the loss for NaN itself).
  tf.enableProdMode();
  switch (requested) {
    case 'tensorflow': {
      const native = await tryTensorflow();
      if (typeof native !== 'string') return native;
      const install = native === NOT_INSTALLED
        ? '; install it with `gccs backend install` (or point GCCS_NATIVE_MODULES at the node_modules folder holding it),'
        : ';';
      throw new UserError(`${native}${install} or use --backend wasm`);
    }
    case 'wasm': {
      const wasm = await tryWasm();
      if (typeof wasm !== 'string') return wasm;
      throw new UserError(`${wasm}; use --backend cpu`);
    }
    case 'cpu':
      return useCpu('requested');
    case 'auto': {
      const native = await tryTensorflow();
      if (typeof native !== 'string') return native;
      const wasm = await tryWasm();
      // "Not installed" is the usual case; any other reason means an install the user made is not used.
      const warning = native === NOT_INSTALLED ? undefined : `native TensorFlow not used: ${native}`;
      if (typeof wasm !== 'string') return { name: 'wasm', detail: `${wasm.detail}; no native TensorFlow: ${native}`, ...(warning && { warning }) };
      return useCpu(`${native}; ${wasm}`);
    }
    default:
      throw new UserError(`unknown backend "${String(requested)}"; use ${BACKEND_NAMES.join(', ')}`);
  }
}

const NOT_INSTALLED = '@tensorflow/tfjs-node is not installed';

/** The active backend's info, or a short reason why native TensorFlow can't be used. */
async function tryTensorflow(): Promise<BackendInfo | string> {
  let found;
  try {
    found = findNativePackage(nativeModulesSearchPath());
  } catch (err) {
    return (err as Error).message;
  }
  if (!found) return NOT_INSTALLED;
  try {
    const nativeModule = requireSharingCore(found.file) as { version?: Record<string, string> };
    if (!(await tf.setBackend('tensorflow'))) return `${found.name} failed to initialize`;
    const version = nativeModule.version?.['tfjs-node'] ?? 'unknown version';
    return { name: 'tensorflow', detail: `native TensorFlow via ${found.name} ${version}` };
  } catch (err) {
    return `${found.name} could not be loaded (${(err as Error).message.split('\n')[0]})`;
  }
}

/** `extra`: a node_modules folder searched first (GCCS_NATIVE_MODULES, or the one `gccs backend install` recorded). */
function findNativePackage(extra: string | undefined): { name: string; file: string } | undefined {
  for (const name of NATIVE_PACKAGES) {
    for (const paths of extra ? [[extra], undefined] : [undefined]) {
      try {
        return { name, file: runtimeRequire.resolve(name, paths ? { paths } : undefined) };
      } catch {
        // Not in this location: try the next one.
      }
    }
  }
  return undefined;
}

type Resolver = (request: string, ...rest: unknown[]) => string;
const SHARED_CORE_ID = 'gccs:@tensorflow/tfjs-core';

/**
 * Requires tfjs-node so that it (and the tfjs packages it loads) see our tfjs-core: it registers
 * its backend and kernels with the core it imports, and its kernels create tensors through that
 * core's engine. Our core is inlined in the dist bundle and tfjs-node may come from
 * GCCS_NATIVE_MODULES, so resolution is redirected rather than left to node_modules.
 */
function requireSharingCore(file: string): unknown {
  const loader = Module as unknown as { _resolveFilename: Resolver; _cache: Record<string, unknown> };
  const resolve = loader._resolveFilename;
  loader._cache[SHARED_CORE_ID] = { id: SHARED_CORE_ID, filename: SHARED_CORE_ID, loaded: true, exports: tf, children: [], paths: [] };
  loader._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]) {
    return request === '@tensorflow/tfjs-core' ? SHARED_CORE_ID : resolve.call(this, request, ...rest);
  };
  // The packages it pulls in re-register kernels we already have (e.g. cpu's): silence those warnings.
  const prod = tf.env().getBool('PROD');
  tf.env().set('PROD', true);
  try {
    return runtimeRequire(file);
  } finally {
    loader._resolveFilename = resolve;
    tf.env().set('PROD', prod);
  }
}

async function tryWasm(): Promise<BackendInfo | string> {
  const threads = wasmThreads();
  try {
    if (!wasmPathsSet) {
      setWasmPaths(wasmDirectory());
      wasmPathsSet = true;
    }
    registerCustomKernels();
    registerWasmBackend(threads, wasmDirectory());
    if (!(await tf.setBackend('wasm'))) return 'the WebAssembly backend failed to initialize';
  } catch (err) {
    return `the WebAssembly backend failed to initialize (${(err as Error).message.split('\n')[0]})`;
  }
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? 'SIMD' : 'no SIMD';
  const threading = threads === 1 ? '1 thread' : `${threads} threads`;
  return { name: 'wasm', detail: `WebAssembly (XNNPACK, ${simd}, ${threading}) with custom kernels ${customKernelNames.join(', ')}` };
}

/**
 * The folder holding the .wasm binaries, with a trailing separator (the backend appends file
 * names to it). The build copies them next to the bundle; from source they are in the package.
 */
function wasmDirectory(): string {
  if (fs.existsSync(path.join(__dirname, WASM_FILES[1]))) return __dirname + path.sep;
  const packageDir = path.dirname(runtimeRequire.resolve('@tensorflow/tfjs-backend-wasm'));
  for (const file of WASM_FILES) {
    if (!fs.existsSync(path.join(packageDir, file))) throw new Error(`${file} not found in ${packageDir}`);
  }
  return packageDir + path.sep;
}

async function useCpu(reason: string): Promise<BackendInfo> {
  if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to initialize');
  return { name: 'cpu', detail: `plain JavaScript, tfjs-backend-cpu ${version_cpu} (${reason})` };
}
