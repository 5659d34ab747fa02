/**
 * The host side of a worker process (src/worker/, protocol src/core/protocol.ts), in one place for
 * every host: the sweep pool, the data-parallel leader, and the extension host's trainings, latent
 * spaces and evaluations. WorkerClient forks one worker, keeps the end of its stderr, kills it when
 * its heartbeat stops, and reports how it ended; runWorkerJob runs one request on a fresh worker
 * (init → ready → request → events… → answer, cancel on abort). No TensorFlow.js here.
 */
import * as fs from 'node:fs';
import { fork } from 'node:child_process';
import type { BackendName } from './backend';
import { UserError } from './errors';
import { WORKER_LIMITS } from './limits';
import type { HostRequest, WorkerMessage } from './protocol';
import { processEntry } from './processEntry';

/** The job was cancelled (a training's last epoch checkpoint, a sweep's finished cells stay usable). */
export class JobCancelled extends Error {
  constructor(what: string) {
    super(`${what} cancelled`);
    this.name = 'JobCancelled';
  }
}

export interface WorkerProcessOptions {
  /** Node to run the worker with (the extension host: its own Electron, as Node); default process.execPath. */
  execPath?: string;
  /** Added to this process's environment (e.g. where native TensorFlow is installed). */
  env?: NodeJS.ProcessEnv;
  /** The script to fork and its Node flags; default the engine's worker (processEntry). Tests give others. */
  entry?: { file: string; execArgv: string[] };
  /** 'advanced' sends typed arrays as bytes, not JSON (data-parallel replicas); default 'json'. */
  serialization?: 'json' | 'advanced';
  /** A worker silent this long is hung and killed; default WORKER_LIMITS.heartbeatTimeoutMs. */
  heartbeatTimeoutMs?: number;
}

/** How a worker ended. */
export interface WorkerEnd {
  /** "exit code 7", "signal SIGKILL", or why it could not start. */
  how: string;
  /** It stopped sending heartbeats and was killed. */
  hung: boolean;
  /** The last line it wrote to stderr, if any. */
  said?: string;
}

export interface WorkerHandlers {
  onMessage(message: WorkerMessage): void;
  /** Called once, when the process has ended (or could not start). */
  onExit(end: WorkerEnd): void;
}

/** One forked worker process. */
export class WorkerClient {
  readonly pid: number;
  readonly heartbeatTimeoutMs: number;
  private readonly child;
  private stderr = '';
  private heardAt = Date.now();
  /** Heard from since the watchdog's last check: that check takes a new CPU baseline. */
  private heardSinceCheck = true;
  /** The worker's CPU time (ticks) at the first check after it was last heard from, or last found computing. */
  private cpuAtHeard: number | undefined;
  private hung = false;
  private ended = false;
  private readonly watchdog: NodeJS.Timeout;
  private markExited!: () => void;
  /** Resolves once the process has ended (or could not start). */
  readonly exited = new Promise<void>((resolve) => (this.markExited = resolve));

  constructor(options: WorkerProcessOptions, private readonly handlers: WorkerHandlers) {
    const entry = options.entry ?? processEntry();
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? WORKER_LIMITS.heartbeatTimeoutMs;
    // stdout is unused (the channel carries everything); stderr is kept for crash reports.
    this.child = fork(entry.file, [], {
      execPath: options.execPath ?? process.execPath,
      execArgv: entry.execArgv,
      // Inside VS Code process.execPath is Electron: ELECTRON_RUN_AS_NODE makes it a plain Node.
      env: { ...process.env, ...options.env, ELECTRON_RUN_AS_NODE: '1' },
      serialization: options.serialization ?? 'json',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.pid = this.child.pid ?? -1;
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-2000)));
    this.child.on('message', (message: WorkerMessage) => {
      // No /proc read per message (progress events are many): the watchdog's next check takes the baseline.
      this.heardAt = Date.now();
      this.heardSinceCheck = true;
      handlers.onMessage(message);
    });
    this.child.on('error', (error) => {
      // A process that never started has no exit to wait for.
      if (this.child.pid === undefined) this.end({ how: `could not start: ${error.message}`, hung: false });
    });
    this.child.on('exit', (code, signal) => this.end({ how: code !== null ? `exit code ${code}` : `signal ${signal}`, hung: this.hung, said: this.stderr.trim().split('\n').pop() || undefined }));
    // A hung worker (its event loop blocked, or stuck in native code) sends nothing: it is killed.
    // The check waits for setImmediate, so that messages that arrived while this process was
    // itself busy are counted first.
    this.watchdog = setInterval(() => setImmediate(() => this.checkHeartbeat()), Math.min(1000, this.heartbeatTimeoutMs / 4));
    this.watchdog.unref();
  }

  /** Whether the channel is open: requests can still be sent. */
  get connected(): boolean {
    return this.child.connected;
  }

  /** Sends a request; resolves once it is written to the channel (a failed write shows as the worker's exit). */
  send(request: HostRequest): Promise<void> {
    return new Promise((resolve) => {
      if (!this.child.connected) return resolve();
      this.child.send(request, () => resolve());
    });
  }

  /** Ends the worker: it exits when its channel closes. */
  close(): void {
    if (this.child.connected) this.child.disconnect();
    else if (!this.ended) this.child.kill();
  }

  /** Ends the worker at once, even in the middle of a computation that does not yield. */
  kill(): void {
    if (!this.ended) this.child.kill('SIGTERM');
  }

  private checkHeartbeat(): void {
    if (this.ended || this.hung) return;
    if (this.heardSinceCheck) {
      this.heardSinceCheck = false;
      this.cpuAtHeard = cpuTicks(this.pid);
    }
    if (Date.now() - this.heardAt <= this.heartbeatTimeoutMs) return;
    // Silent but computing is not hung: one synchronous step can outlast the timeout (the cpu
    // backend, a huge packed batch on a loaded machine). It must have used a tenth of the timeout in
    // CPU time since it was last heard from; where that cannot be read (no /proc), silence decides.
    const cpu = cpuTicks(this.pid);
    if (cpu !== undefined && this.cpuAtHeard !== undefined && (cpu - this.cpuAtHeard) * TICK_MS >= this.heartbeatTimeoutMs / 10) {
      this.heardAt = Date.now();
      this.cpuAtHeard = cpu;
      return;
    }
    this.hung = true;
    this.child.kill('SIGKILL');
  }

  private end(end: WorkerEnd): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.watchdog);
    this.markExited();
    this.handlers.onExit(end);
  }
}

/** Linux's clock tick (USER_HZ), the unit of /proc/<pid>/stat's CPU times. */
const TICK_MS = 10;

/** The CPU time (user + system, in ticks) the process has used; undefined where /proc cannot tell. */
function cpuTicks(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name (in parentheses, may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/** "worker 123 stopped answering (no heartbeat for 120 s) and was killed" */
export const hungText = (client: WorkerClient) => `worker ${client.pid} stopped answering (no heartbeat for ${client.heartbeatTimeoutMs / 1000} s) and was killed`;

type Answer<T extends WorkerMessage['type']> = Extract<WorkerMessage, { type: T }>;

export interface WorkerJobOptions extends WorkerProcessOptions {
  backend: BackendName;
  /** Aborting sends `cancel`; the job then rejects with JobCancelled. */
  signal?: AbortSignal;
  /** Every message from the worker, before it is handled (progress events, tests). */
  onMessage?: (message: WorkerMessage) => void;
  /** The worker's log lines and its backend, prefixed with its process id. */
  onLog?: (line: string) => void;
}

/**
 * Runs one request on a fresh worker: init → ready → `request` → its events… → the `answer`
 * message, then closes the worker. `what` names the work in errors ("training"). Aborting cancels a
 * training, a cell or a reproduction through the worker (which stops at a safe point); any other request's worker is
 * ended at once. Rejects with JobCancelled when aborted, a UserError for bad input (one line), else
 * an Error naming the failure or the crash (exit code or signal, and the last line the worker wrote to stderr).
 */
export function runWorkerJob<T extends WorkerMessage['type']>(request: HostRequest, answer: T, what: string, options: WorkerJobOptions): Promise<Answer<T>> {
  return new Promise((resolve, reject) => {
    let outcome: { ok: Answer<T> } | { error: Error } | undefined;
    const finish = (result: NonNullable<typeof outcome>) => {
      outcome ??= result;
      worker.close();
    };
    const onAbort = () => {
      if (request.type === 'train' || request.type === 'runCell' || request.type === 'reproduce') return void worker.send({ type: 'cancel' });
      finish({ error: new JobCancelled(what) });
      worker.kill();
    };
    const worker: WorkerClient = new WorkerClient(options, {
      onMessage: (message) => {
        options.onMessage?.(message);
        switch (message.type) {
          case 'ready':
            options.onLog?.(`worker ${worker.pid}: backend ${message.backend} (${message.detail})`);
            if (options.signal?.aborted) return finish({ error: new JobCancelled(what) });
            return void worker.send(request);
          case 'cancelled':
            return finish({ error: new JobCancelled(what) });
          case 'error':
            return finish({ error: message.isUserError ? new UserError(message.message) : new Error(`${what} failed: ${message.message}`) });
          case 'log':
            return options.onLog?.(`worker ${worker.pid}: ${message.message}`);
          default:
            if (message.type === answer) finish({ ok: message as Answer<T> });
        }
      },
      onExit: ({ how, hung, said }) => {
        options.signal?.removeEventListener('abort', onAbort);
        if (!outcome) {
          const error = hung ? `the GCCS ${hungText(worker)} while ${what}` : `the GCCS worker crashed (${how}) while ${what}${said ? `: ${said}` : ''}`;
          outcome = { error: new Error(error) };
        }
        if ('ok' in outcome) resolve(outcome.ok);
        else reject(outcome.error);
      },
    });
    options.signal?.addEventListener('abort', onAbort, { once: true });
    void worker.send({ type: 'init', backend: options.backend });
  });
}
