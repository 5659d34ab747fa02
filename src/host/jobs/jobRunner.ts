/**
 * Background jobs: queued, run one at a time. While one runs, its progress shows where it does not
 * cover the panels' charts: a status-bar item (title and percent; click: cancel), a progress bar at
 * the top of the GCCS view with the activity-bar badge, and its lines in the "GCCS" log. When it
 * ends: success is a status-bar message for a few seconds (plus the log line), and an information
 * message only when no GCCS panel is on screen to show the result (a training finished while the
 * user edits code); a failure is one error message with a button to the log; a cancel, a
 * status-bar message.
 */
import * as vscode from 'vscode';
import { UserError } from '../../core/errors';
import { JobCancelled } from '../../core/workerClient';
import { VIEW_ID } from '../sidebar/view';
import { LATENT_PANEL_TYPE } from '../panels/latent/panel';
import { ROBUSTNESS_PANEL_TYPE } from '../panels/robustness/panel';
import { TRAINING_PANEL_TYPE } from '../panels/training/panel';

/** How long a job's outcome stays in the status bar: long enough to read a one-line result. */
const OUTCOME_MS = 10_000;
/** A panel a job opens as it ends reaches vscode.window.tabGroups a moment later (a round trip to the workbench). */
const TABS_SETTLE_MS = 1000;

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

  private showStatus(text?: string, detail?: string): void {
    if (!this.running) return this.status.hide();
    const waiting = this.queue.length ? ` (+${this.queue.length} queued)` : '';
    this.status.text = `$(sync~spin) GCCS: ${text ?? this.running.job.title}${waiting}`;
    this.status.tooltip = `${this.running.job.title}${detail ? `: ${detail}` : ''}. Click to cancel.`;
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
      // A progress bar in the GCCS view and a badge on its activity-bar icon; the percent and the
      // cancel click are the status item's (a view's progress has neither text nor a cancel button).
      const message = await vscode.window.withProgress({ location: { viewId: VIEW_ID }, title: `GCCS: ${job.title}` }, (progress) =>
        job.run({
          signal: controller.signal,
          log: this.log,
          report: (message, fraction) => {
            const percent = fraction === undefined ? undefined : Math.round(100 * Math.min(Math.max(fraction, 0), 1));
            progress.report({ message });
            this.showStatus(percent === undefined ? undefined : `${job.title} ${percent}%`, message);
          },
        }),
      );
      this.log.info(`done: ${job.title} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${message}`);
      vscode.window.setStatusBarMessage(`$(check) GCCS: ${message}`, OUTCOME_MS);
      setTimeout(() => {
        if (!gccsPanelOnScreen()) void vscode.window.showInformationMessage(`GCCS: ${message}`);
      }, TABS_SETTLE_MS);
    } catch (error) {
      if (error instanceof JobCancelled) {
        this.log.warn(`${job.title}: ${error.message}`);
        vscode.window.setStatusBarMessage(`$(circle-slash) GCCS: ${error.message}`, OUTCOME_MS);
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

/** Whether a GCCS panel is the visible tab of an editor group (Evaluate Robustness and Compare open theirs; an open training panel follows its run). */
function gccsPanelOnScreen(): boolean {
  const types = [ROBUSTNESS_PANEL_TYPE, LATENT_PANEL_TYPE, TRAINING_PANEL_TYPE];
  return vscode.window.tabGroups.all.some((group) => {
    const input = group.activeTab?.input;
    // A panel's tab carries its type with a prefix ("mainThreadWebview-gccs.robustness").
    return input instanceof vscode.TabInputWebview && types.some((type) => input.viewType.endsWith(type));
  });
}
