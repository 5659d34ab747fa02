/**
 * Background jobs: queued, run one at a time, each with a cancellable progress notification, a
 * status-bar item (click: cancel) and its lines in the "GCCS" log. A failed job becomes one clear
 * error message with a button to the log; a cancelled one a short note.
 */
import * as vscode from 'vscode';
import { UserError } from '../../core/errors';
import { JobCancelled } from '../../core/workerClient';

export interface JobContext {
  signal: AbortSignal;
  /** `fraction` in [0, 1] when known. */
  report(message: string, fraction?: number): void;
  log: vscode.LogOutputChannel;
}

export interface Job {
  /** e.g. "Training mnist.gccs.json". */
  title: string;
  /** Resolves with a message to show when done. */
  run(context: JobContext): Promise<string>;
}

interface Queued {
  job: Job;
  settle: () => void;
}

export class JobRunner implements vscode.Disposable {
  private readonly queue: Queued[] = [];
  private running: { job: Job; controller: AbortController } | undefined;
  private readonly status: vscode.StatusBarItem;

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.status = vscode.window.createStatusBarItem('gccs.job', vscode.StatusBarAlignment.Left, 10);
    this.status.name = 'GCCS job';
    this.status.command = 'gccs.cancelJob';
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Queues a job; resolves when it has finished, failed or been cancelled (never rejects). */
  enqueue(job: Job): Promise<void> {
    return new Promise((settle) => {
      this.queue.push({ job, settle });
      if (this.running) {
        this.log.info(`queued: ${job.title} (${this.queue.length} waiting)`);
        this.showStatus();
      } else void this.next();
    });
  }

  /** Cancels the running job; false when there is none. Queued jobs stay queued. */
  cancel(): boolean {
    if (!this.running) return false;
    this.log.info(`cancelling: ${this.running.job.title}`);
    this.running.controller.abort();
    return true;
  }

  private showStatus(text?: string): void {
    if (!this.running) return this.status.hide();
    const waiting = this.queue.length ? ` (+${this.queue.length} queued)` : '';
    this.status.text = `$(sync~spin) GCCS: ${text ?? this.running.job.title}${waiting}`;
    this.status.tooltip = `${this.running.job.title}: click to cancel`;
    this.status.show();
  }

  private async next(): Promise<void> {
    const item = this.queue.shift();
    if (!item) return;
    const { job, settle } = item;
    const controller = new AbortController();
    this.running = { job, controller };
    this.showStatus();
    this.log.info(`start: ${job.title}`);
    const started = Date.now();
    try {
      const message = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `GCCS: ${job.title}`, cancellable: true },
        (progress, token) => {
          token.onCancellationRequested(() => controller.abort());
          let shown = 0;
          return job.run({
            signal: controller.signal,
            log: this.log,
            report: (message, fraction) => {
              const percent = fraction === undefined ? undefined : Math.round(100 * Math.min(Math.max(fraction, 0), 1));
              const increment = percent === undefined ? undefined : Math.max(percent - shown, 0);
              if (percent !== undefined) shown = Math.max(shown, percent);
              progress.report({ message, increment });
              this.showStatus(percent === undefined ? message : `${job.title} ${percent}%`);
            },
          });
        },
      );
      this.log.info(`done: ${job.title} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${message}`);
      void vscode.window.showInformationMessage(`GCCS: ${message}`);
    } catch (error) {
      if (error instanceof JobCancelled) {
        this.log.warn(`${job.title}: ${error.message}`);
        void vscode.window.showInformationMessage(`GCCS: ${error.message}`);
      } else {
        const text = error instanceof Error ? error.message : String(error);
        if (error instanceof UserError) this.log.error(`${job.title}: ${text}`);
        else this.log.error(`${job.title}: ${text}`, ...(error instanceof Error && error.stack ? [error.stack] : []));
        void vscode.window.showErrorMessage(`GCCS: ${job.title} failed: ${text}`, 'Show Log').then((choice) => choice && this.log.show());
      }
    } finally {
      this.running = undefined;
      this.showStatus();
      settle();
      void this.next();
    }
  }

  dispose(): void {
    this.queue.length = 0;
    this.running?.controller.abort();
    this.status.dispose();
  }
}
