/**
 * `gccs backend install [--gpu]`, `gccs backend status` and `gccs backend verify`: native
 * TensorFlow in a folder of its own (default ~/.cache/gccs-lab/native, or --prefix), which
 * backend selection then prefers. The work is in src/core/backend/nativeInstall.ts.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../core/backend';
import { NATIVE_MODULES_ENV, NativeInstallError, defaultNativeDir, installNative, nativePackage, readNativeRecord } from '../core/backend/nativeInstall';
import { UserError } from '../core/errors';
import type { FlagSpecs } from './args';
import type { CommandContext } from './commands';

const PREFIX_FLAG: FlagSpecs = {
  prefix: { type: 'string', description: 'the install folder', default: '~/.cache/gccs-lab/native' },
};

export const BACKEND_INSTALL_FLAGS: FlagSpecs = {
  ...PREFIX_FLAG,
  gpu: { type: 'boolean', description: 'install @tensorflow/tfjs-node-gpu (Linux x86-64, NVIDIA GPU, CUDA 11.2 and cuDNN 8.1) instead of @tensorflow/tfjs-node' },
  registry: { type: 'string', description: 'npm registry URL (default: npm\'s configuration)' },
};
export const BACKEND_STATUS_FLAGS = PREFIX_FLAG;
export const BACKEND_VERIFY_FLAGS = PREFIX_FLAG;

const prefixOf = (context: CommandContext) => path.resolve((context.flags.prefix as string | undefined) ?? defaultNativeDir());

export async function backendInstallCommand(context: CommandContext) {
  const dir = prefixOf(context);
  const gpu = context.flags.gpu === true;
  const registry = context.flags.registry as string | undefined;
  context.log(`installing ${nativePackage(gpu)} into ${dir} (npm; its install script downloads libtensorflow)`);
  try {
    const record = await installNative({
      dir,
      gpu,
      npmArgs: registry ? ['--registry', registry] : [],
      cliFile: process.argv[1],
      onLine: (line) => context.flags.verbose && context.log(`npm: ${line}`),
    });
    context.log(`native TensorFlow is ready: ${record.detail}; --backend auto now picks it`);
    return { installed: record, dir };
  } catch (error) {
    if (error instanceof NativeInstallError && error.output) context.log(`last lines of the output:\n${error.output}`);
    if (error instanceof UserError) throw new UserError(`${error.message}; the WebAssembly backend stays in use`);
    throw error;
  }
}

export async function backendStatusCommand(context: CommandContext) {
  const dir = prefixOf(context);
  const record = readNativeRecord(dir);
  // Show what `auto` would pick with this folder's install (the default folder is read by selection itself).
  if (record && !process.env[NATIVE_MODULES_ENV]) process.env[NATIVE_MODULES_ENV] = record.modules;
  const info = await initBackend('auto');
  context.log(record ? `installed in ${dir}: ${record.package} ${record.version}, verified ${record.verifiedAt}` : `no native TensorFlow installed in ${dir} (gccs backend install)`);
  context.log(`--backend auto picks: ${info.name} (${info.detail})`);
  return { dir, installed: record ?? null, auto: info };
}

/** Loads the package installed under --prefix and checks that it runs as the 'tensorflow' backend. */
export async function backendVerifyCommand(context: CommandContext) {
  const dir = prefixOf(context);
  process.env[NATIVE_MODULES_ENV] = path.join(dir, 'node_modules');
  const info = await initBackend('tensorflow');
  if (tf.getBackend() !== 'tensorflow') throw new UserError(`the active backend is ${tf.getBackend()}, not tensorflow`);
  const product = tf.tidy(() => tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).dataSync());
  if (Array.from(product).some((value) => value !== 3)) throw new UserError(`a 2×3 by 3×2 matrix product of ones gave [${Array.from(product).join(', ')}], not 3s`);
  context.log(`ok: ${info.detail}`);
  return { backend: info.name, detail: info.detail };
}
