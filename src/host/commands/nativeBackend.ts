/**
 * GCCS: Enable Native Backend: installs @tensorflow/tfjs-node (or -gpu) into the extension's
 * global storage (never into the extension's folder, which an update replaces), checks in a child
 * process that it loads, and records it; from then on every worker and sweep gets
 * GCCS_NATIVE_MODULES pointing at it, so `auto` prefers it. The install logic is the CLI's
 * (src/core/backend/nativeInstall.ts).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { NATIVE_MODULES_ENV, NativeInstallError, NativeRecord, installNative, nativePackage, readNativeRecord } from '../../core/backend/nativeInstall';
import type { JobRunner } from '../jobs/jobRunner';
import { UserError } from '../../core/errors';
import { JobCancelled } from '../../core/workerClient';

/** The install folder inside the extension's global storage. */
export const nativeDirIn = (globalStorage: string) => path.join(globalStorage, 'native');

/** The verified install recorded in `dir`; a damaged record is logged and ignored. */
function verifiedInstall(dir: string, log?: vscode.LogOutputChannel): NativeRecord | undefined {
  try {
    return readNativeRecord(dir);
  } catch (error) {
    log?.warn((error as Error).message);
    return undefined;
  }
}

/** Environment for the worker and CLI children: where the verified install is, if any. */
export function nativeEnv(dir: string, log?: vscode.LogOutputChannel): NodeJS.ProcessEnv {
  const record = verifiedInstall(dir, log);
  return record ? { [NATIVE_MODULES_ENV]: record.modules } : {};
}

export interface NativeDeps {
  runner: JobRunner;
  log: vscode.LogOutputChannel;
  nativeDir: string;
  cliFile: string;
}

export async function enableNativeBackendCommand(deps: NativeDeps): Promise<void> {
  const current = verifiedInstall(deps.nativeDir, deps.log);
  const pick = await vscode.window.showQuickPick(
    [
      { label: 'CPU', description: nativePackage(false), detail: 'Linux, macOS, Windows on x86-64 (and macOS/Linux arm64)', gpu: false },
      { label: 'GPU (CUDA)', description: nativePackage(true), detail: 'Linux x86-64 with an NVIDIA GPU, CUDA 11.2 and cuDNN 8.1 installed', gpu: true },
    ],
    {
      title: 'GCCS: Enable Native Backend',
      placeHolder: current ? `Installed: ${current.package} (${current.detail}); install again or switch` : 'Native TensorFlow is downloaded (about 100–400 MB) into the extension\'s storage',
    },
  );
  if (!pick) return;
  const name = nativePackage(pick.gpu);
  await deps.runner.enqueue({
    title: `Installing ${name}`,
    run: async ({ signal, report, log }) => {
      report(`npm install ${name} into ${deps.nativeDir}`);
      try {
        const record = await installNative({
          dir: deps.nativeDir,
          gpu: pick.gpu,
          cliFile: deps.cliFile,
          signal,
          onLine: (line) => {
            log.info(`npm: ${line}`);
            if (line.trim()) report(line.trim().slice(0, 120));
          },
        });
        return `native TensorFlow enabled: ${record.detail}. New jobs use it when gccs.backend is auto or tensorflow.`;
      } catch (error) {
        if (signal.aborted) throw new JobCancelled(`installing ${name}`);
        if (!(error instanceof NativeInstallError)) throw error;
        if (error.output) log.error(`last lines of the output:\n${error.output}`);
        throw new UserError(`${error.message}. The WebAssembly backend stays in use.`);
      }
    },
  });
}
