/**
 * Runs one training in a forked background worker (dist/worker.js) over the typed protocol of
 * src/core/protocol.ts: init → ready → train → trainEvent… → trainDone. Aborting the signal sends
 * `cancel` (training stops between two steps; the last epoch checkpoint stays). A worker that dies
 * becomes an error naming its exit code and the last line it wrote to stderr.
 * No vscode import: the extension host and the tests both use it.
 */
import { fork } from 'node:child_process';
import type { BackendName } from '../../core/backend';
import type { TrainConfig, TrainEvent } from '../../core/train/trainer';
import type { HostRequest, WorkerMessage } from '../../core/protocol';
import { JobCancelled, JobUserError } from './errors';

export interface TrainWorkerOptions {
  workerFile: string;
  backend: BackendName;
  signal?: AbortSignal;
  onEvent?: (event: TrainEvent) => void;
  onLog?: (line: string) => void;
  /** Every message from the worker, before it is handled (tests). */
  onMessage?: (message: WorkerMessage) => void;
  /** Node to run the worker with (the extension host: its own Electron as Node); default process.execPath. */
  execPath?: string;
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
}

/** What panels that follow trainings see: the engine's events, then how the training ended. */
export type TrainingNotice = TrainEvent | { type: 'finished'; outcome: 'done' | 'cancelled' | 'failed'; message: string };
type TrainingListener = (config: TrainConfig, notice: TrainingNotice) => void;
const trainingListeners = new Set<TrainingListener>();

/** Follow every training run through runTrainWorker (the latent and training panels); dispose to stop. */
export function onTraining(listener: TrainingListener): { dispose(): void } {
  trainingListeners.add(listener);
  return { dispose: () => trainingListeners.delete(listener) };
}

const notify = (config: TrainConfig, notice: TrainingNotice) => trainingListeners.forEach((listener) => listener(config, notice));

export function runTrainWorker(config: TrainConfig, options: TrainWorkerOptions): Promise<{ outDir: string; testAccuracy: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(options.workerFile, [], {
      execPath: options.execPath ?? process.execPath,
      execArgv: options.execArgv ?? [],
      // Inside VS Code process.execPath is Electron: ELECTRON_RUN_AS_NODE makes it a plain Node.
      env: { ...process.env, ...options.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    let outcome: { ok: { outDir: string; testAccuracy: number } } | { error: Error } | undefined;
    const send = (request: HostRequest) => child.connected && child.send(request);
    const finish = (result: NonNullable<typeof outcome>) => {
      outcome ??= result;
      if (child.connected) child.disconnect();
    };
    const onAbort = () => send({ type: 'cancel' });
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.on('message', (message: WorkerMessage) => {
      options.onMessage?.(message);
      switch (message.type) {
        case 'ready':
          options.onLog?.(`worker ${child.pid}: backend ${message.backend} (${message.detail})`);
          if (options.signal?.aborted) return finish({ error: new JobCancelled('training') });
          return void send({ type: 'train', config });
        case 'trainEvent':
          notify(config, message.event);
          return options.onEvent?.(message.event);
        case 'trainDone':
          return finish({ ok: { outDir: message.outDir, testAccuracy: message.testAccuracy } });
        case 'cancelled':
          return finish({ error: new JobCancelled('training') });
        case 'error':
          return finish({ error: message.isUserError ? new JobUserError(message.message) : new Error(`training failed: ${message.message}`) });
        case 'log':
          return options.onLog?.(`worker ${child.pid}: ${message.message}`);
        default:
          return;
      }
    });
    child.on('error', (error) => finish({ error: new Error(`the GCCS worker could not run (${options.workerFile}): ${error.message}`) }));
    child.on('exit', (code, signalName) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (!outcome) {
        const said = stderr.trim().split('\n').pop();
        const how = code !== null ? `exit code ${code}` : `signal ${signalName}`;
        outcome = { error: new Error(`the GCCS worker crashed (${how}) while training${said ? `: ${said}` : ''}`) };
      }
      const { error } = outcome as { error?: Error };
      notify(config, { type: 'finished', outcome: !error ? 'done' : error instanceof JobCancelled ? 'cancelled' : 'failed', message: error?.message ?? '' });
      if ('ok' in outcome) resolve(outcome.ok);
      else reject(outcome.error);
    });
    send({ type: 'init', backend: options.backend });
  });
}
