/**
 * Installing native TensorFlow (@tensorflow/tfjs-node or -gpu) into a folder of its own, outside
 * the extension and the project: `npm install --prefix <dir> --no-save`, then a check in a child
 * process that the package loads and becomes the active backend, then a record
 * (<dir>/gccs-native.json) that backend selection (./index.ts) reads. No TensorFlow.js and no
 * vscode here: the CLI and the extension host both use it.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../errors';
import { writeJsonAtomic } from '../io/atomic';

/** The tfjs-node release matching our tfjs-core (a test keeps them equal): its kernels run on our engine. */
export const NATIVE_VERSION = '4.22.0';
export const NATIVE_RECORD_FILE = 'gccs-native.json';
/** Folder holding tfjs-node's node_modules; set by the extension for its workers, and by `gccs backend verify`. */
export const NATIVE_MODULES_ENV = 'GCCS_NATIVE_MODULES';

export const nativePackage = (gpu: boolean) => (gpu ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node');

/** The CLI's install folder: ~/.cache/gccs-lab/native (the extension uses its global storage instead). */
export function defaultNativeDir(): string {
  return path.join(os.homedir(), '.cache', 'gccs-lab', 'native');
}

export interface NativeRecord {
  package: string;
  version: string;
  /** The node_modules folder to load it from. */
  modules: string;
  /** The backend's own description, from the verification. */
  detail: string;
  verifiedAt: string;
}

/** The verified install recorded in `dir`, undefined when there is none; a damaged record is a UserError naming it. */
export function readNativeRecord(dir: string): NativeRecord | undefined {
  const file = path.join(dir, NATIVE_RECORD_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const record = JSON.parse(text) as NativeRecord;
    if (typeof record.modules !== 'string' || typeof record.package !== 'string') throw new Error('no "modules" or "package"');
    return record;
  } catch (error) {
    throw new UserError(`${file}: not a native backend record (${(error as Error).message}); delete it or run gccs backend install again`);
  }
}

export function writeNativeRecord(dir: string, record: NativeRecord): void {
  writeJsonAtomic(path.join(dir, NATIVE_RECORD_FILE), record);
}

/** Installing or loading native TensorFlow failed; `output` is the tail of what npm or the check printed. */
export class NativeInstallError extends UserError {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
    this.name = 'NativeInstallError';
  }
}

const TAIL_LINES = 15;
const tail = (text: string) => text.trimEnd().split('\n').slice(-TAIL_LINES).join('\n');

/** What most likely went wrong, from npm's output. */
export function diagnoseNpmOutput(output: string): string {
  if (/libtensorflow|storage\.googleapis\.com/.test(output) && /ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|ECONNRESET|404|403/.test(output)) {
    return "its install script could not download the libtensorflow library (from storage.googleapis.com)";
  }
  if (/ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|ECONNRESET|ENETUNREACH|request to .* failed/.test(output)) return 'the npm registry could not be reached';
  if (/EACCES|EPERM/.test(output)) return 'permission denied writing the install folder';
  if (/ENOSPC/.test(output)) return 'no space left on the device';
  return 'see npm\'s output';
}

export interface NpmInstallOptions {
  dir: string;
  gpu: boolean;
  /** The npm executable; default `npm` from PATH. */
  npm?: string;
  /** Extra npm arguments, e.g. ["--registry", url]. */
  npmArgs?: string[];
  signal?: AbortSignal;
  onLine?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** Runs npm install of the native package into `dir`; a NativeInstallError with npm's last lines when it fails. */
export function npmInstallNative(options: NpmInstallOptions): Promise<void> {
  const spec = `${nativePackage(options.gpu)}@${NATIVE_VERSION}`;
  fs.mkdirSync(options.dir, { recursive: true });
  const args = ['install', '--prefix', options.dir, '--no-save', '--no-audit', '--no-fund', '--no-package-lock', ...(options.npmArgs ?? []), spec];
  return new Promise((resolve, reject) => {
    const child = spawn(options.npm ?? 'npm', args, {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // npm is npm.cmd on Windows, which only a shell runs.
      shell: process.platform === 'win32',
    });
    let output = '';
    let partial = '';
    const onData = (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) options.onLine?.(line);
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const onAbort = () => child.kill('SIGTERM');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => {
      options.signal?.removeEventListener('abort', onAbort);
      reject(new NativeInstallError(`npm could not be started (${error.message}): install Node.js with npm, or put npm on the PATH`, ''));
    });
    child.on('close', (code) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (partial) options.onLine?.(partial);
      if (code === 0) return resolve();
      if (options.signal?.aborted) return reject(new NativeInstallError(`npm install ${spec} was cancelled`, tail(output)));
      reject(new NativeInstallError(`npm install ${spec} failed (exit code ${code}): ${diagnoseNpmOutput(output)}`, tail(output)));
    });
  });
}

export interface VerifyOptions {
  dir: string;
  /** The CLI bundle (dist/cli.js): `backend verify` runs in a child process, so a library that crashes on load cannot take the caller down. */
  cliFile: string;
  /** Node to run it with (the extension host: its Electron as Node). */
  execPath?: string;
  env?: NodeJS.ProcessEnv;
}

/** Loads the native package installed in `dir` in a child process; its backend description, or a NativeInstallError. */
export function verifyNativeInChild(options: VerifyOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.execPath ?? process.execPath, [options.cliFile, 'backend', 'verify', '--prefix', options.dir, '--json'], {
      env: { ...process.env, ...options.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-20_000)));
    child.on('error', (error) => reject(new NativeInstallError(`the check could not run (${error.message})`, '')));
    child.on('close', (code, signal) => {
      if (code === 0) {
        try {
          return resolve((JSON.parse(stdout.trim().split('\n').pop() ?? '') as { detail: string }).detail);
        } catch {
          // fall through: an unreadable answer is a failed check
        }
      }
      const said = stderr.split('\n').find((line) => line.startsWith('gccs: error: '))?.slice('gccs: error: '.length);
      const how = code === null ? `signal ${signal}` : `exit code ${code}`;
      reject(new NativeInstallError(`the installed native TensorFlow could not be loaded (${said ?? how})`, tail(stderr)));
    });
  });
}

/**
 * The whole installation: npm install, the check in a child process, the record. Nothing is
 * recorded unless the check passed, so after a failure backend selection is unchanged (wasm).
 */
export async function installNative(options: NpmInstallOptions & Omit<VerifyOptions, 'dir' | 'env'>): Promise<NativeRecord> {
  await npmInstallNative(options);
  options.onLine?.(`checking that ${nativePackage(options.gpu)} loads…`);
  const detail = await verifyNativeInChild({ dir: options.dir, cliFile: options.cliFile, execPath: options.execPath, env: options.env });
  const modules = path.join(options.dir, 'node_modules');
  const record: NativeRecord = { package: nativePackage(options.gpu), version: NATIVE_VERSION, modules, detail, verifiedAt: new Date().toISOString() };
  writeNativeRecord(options.dir, record);
  return record;
}

/**
 * Where backend selection looks for the native package besides the usual node_modules: the
 * GCCS_NATIVE_MODULES folder, else the verified install of the CLI's default folder.
 */
export function nativeModulesSearchPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[NATIVE_MODULES_ENV] || readNativeRecord(defaultNativeDir())?.modules;
}
