/**
 * Forks the bundled CLI (dist/cli.js) the way the extension host runs every computing command: on
 * VS Code's own Node (`ELECTRON_RUN_AS_NODE`), killed when `signal` aborts. No vscode import.
 */
import { ChildProcess, fork } from 'node:child_process';

export interface CliProcessOptions {
  signal?: AbortSignal;
  /** Node to run the CLI with (the extension host: its own Electron as Node). */
  execPath?: string;
  env?: NodeJS.ProcessEnv;
  /** Pipe the CLI's stdout (for --json); otherwise it is ignored. */
  stdout?: boolean;
}

export function forkCli(cliFile: string, args: string[], options: CliProcessOptions): { child: ChildProcess; cancelled: () => boolean } {
  const child = fork(cliFile, args, {
    execPath: options.execPath ?? process.execPath,
    execArgv: [],
    env: { ...process.env, ...options.env, ELECTRON_RUN_AS_NODE: '1' },
    stdio: ['ignore', options.stdout ? 'pipe' : 'ignore', 'pipe', 'ipc'],
  });
  let cancelled = false;
  const onAbort = () => {
    cancelled = true;
    child.kill('SIGTERM');
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  child.on('exit', () => options.signal?.removeEventListener('abort', onAbort));
  return { child, cancelled: () => cancelled };
}
