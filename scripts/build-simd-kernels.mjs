// Compiles the C kernels (src/core/backend/kernels/simd/kernels.c) to WebAssembly SIMD with
// clang and wasm-ld (Debian: apt-get install clang lld) into dist/simd-kernels.wasm. The module
// runs on the wasm backend's memory, so it must hold no data and use no linear-memory stack:
// the generated assembly is checked for both before linking.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

const SOURCE = 'src/core/backend/kernels/simd/kernels.c';
export const SIMD_KERNELS_OUT = 'dist/simd-kernels.wasm';
const FLAGS = ['--target=wasm32', '-O3', '-msimd128', '-nostdlib', '-fno-builtin', '-Wall', '-Werror'];

export function buildSimdKernels() {
  let assembly;
  try {
    assembly = execFileSync('clang', [...FLAGS, '-S', '-o', '-', SOURCE], { encoding: 'utf8' });
  } catch (err) {
    const missing = err.code === 'ENOENT' ? ' (clang not found: apt-get install clang lld)' : '';
    throw new Error(`compiling ${SOURCE} failed${missing}: ${err.message}`, { cause: err });
  }
  if (assembly.includes('__stack_pointer')) throw new Error(`${SOURCE} uses a linear-memory stack`);
  if (/\.section\s+\.(data|rodata|bss)/.test(assembly)) throw new Error(`${SOURCE} has static data`);
  mkdirSync('dist', { recursive: true });
  execFileSync('clang', [...FLAGS, '-Wl,--no-entry', '-Wl,--import-memory', '-Wl,--strip-all', '-o', SIMD_KERNELS_OUT, SOURCE]);
}

if (import.meta.url === `file://${process.argv[1]}`) buildSimdKernels();
