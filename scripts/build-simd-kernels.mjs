// Compiles the C kernels (src/core/backend/kernels/simd/kernels.c) to WebAssembly SIMD with
// clang and wasm-ld (Debian: apt-get install clang lld) into dist/simd-kernels.wasm, and a second
// build for the threaded wasm backend (its memory is shared: the import must say so, and the
// atomics feature comes with it) into dist/simd-kernels-shared.wasm. The module runs on the wasm
// backend's memory, so it must hold no data and use no linear-memory stack: the generated
// assembly is checked for both before linking.
// It also puts the threaded backend's loader beside the bundles (src/core/backend/threaded.ts):
// the Emscripten factory, which each pthread worker evaluates, with its pool of pthread workers
// sized by the loader instead of a fixed 8 (each is a V8 isolate: ~10 MiB and start-up time), and
// the pthread worker script, which tfjs-backend-wasm ships only as a string for browsers' Blob URLs.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const SOURCE = 'src/core/backend/kernels/simd/kernels.c';
export const SIMD_KERNELS_OUT = 'dist/simd-kernels.wasm';
export const SIMD_KERNELS_SHARED_OUT = 'dist/simd-kernels-shared.wasm';
const FLAGS = ['--target=wasm32', '-O3', '-msimd128', '-nostdlib', '-fno-builtin', '-Wall', '-Werror'];
const LINK = ['-Wl,--no-entry', '-Wl,--import-memory', '-Wl,--strip-all'];
// Shared memory needs a declared maximum: the backend's (4 GiB).
const SHARED = ['-matomics', '-mbulk-memory'];
const SHARED_LINK = ['-Wl,--shared-memory', '-Wl,--max-memory=4294967296'];
const THREADED = 'tfjs-backend-wasm-threaded-simd';
const FIXED_POOL = 'var pthreadPoolSize=8;';
const LOADER_POOL = 'var pthreadPoolSize=Module["pthreadPoolSize"]??8;';

function compile(flags, link, out) {
  let assembly;
  try {
    assembly = execFileSync('clang', [...FLAGS, ...flags, '-S', '-o', '-', SOURCE], { encoding: 'utf8' });
  } catch (err) {
    const missing = err.code === 'ENOENT' ? ' (clang not found: apt-get install clang lld)' : '';
    throw new Error(`compiling ${SOURCE} failed${missing}: ${err.message}`, { cause: err });
  }
  if (assembly.includes('__stack_pointer')) throw new Error(`${SOURCE} uses a linear-memory stack`);
  if (/\.section\s+\.(data|rodata|bss)/.test(assembly)) throw new Error(`${SOURCE} has static data`);
  execFileSync('clang', [...FLAGS, ...flags, ...LINK, ...link, '-o', out, SOURCE]);
}

export function buildSimdKernels() {
  mkdirSync('dist', { recursive: true });
  compile([], [], SIMD_KERNELS_OUT);
  compile(SHARED, SHARED_LINK, SIMD_KERNELS_SHARED_OUT);
  const wasmOut = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
  const factory = readFileSync(join(wasmOut, `${THREADED}.js`), 'utf8');
  if (factory.split(FIXED_POOL).length !== 2) throw new Error(`${THREADED}.js: "${FIXED_POOL}" not found once (another tfjs-backend-wasm release?)`);
  writeFileSync(join('dist', `${THREADED}.js`), factory.replace(FIXED_POOL, LOADER_POOL));
  const { wasmWorkerContents } = createRequire(import.meta.url)(join(wasmOut, `${THREADED}.worker.js`));
  // The string holds "\n" escapes that became newlines inside string literals (tfjs re-escapes them too).
  writeFileSync(join('dist', `${THREADED}.worker.js`), wasmWorkerContents.replace(/\n/g, '\\n'));
}

if (import.meta.url === `file://${process.argv[1]}`) buildSimdKernels();
