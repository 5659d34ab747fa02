/**
 * The robustness panel (webview type gccs.robustness): shows the summary of sweep results files
 * with the browser bundle dist/webview/robustness.js. One panel, revealed and refreshed on each
 * Open Report; restored after a reload by the registered serializer from the webview's state.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { UserError } from '../../../core/errors';
import { modelFolderOf } from '../../../core/io/modelLocation';
import { JobCancelled } from '../../../core/workerClient';
import { HostToRobustness, RobustnessToHost, RestoredRobustness, checkRestoredRobustness, checkRobustnessToHost } from './messages';
import type { FolderConsent } from '../../workspace/folderConsent';
import { readSettings } from '../../workspace/settings';
import { ReceivedSweep, findCell, robustnessData } from './data';
import { computeExamplesData, examplesTitle } from './examples';
import { FeatureMessage, Panels } from '../panel';

export const ROBUSTNESS_PANEL_TYPE = 'gccs.robustness';

export class RobustnessPanels extends Panels<HostToRobustness, RobustnessToHost, RestoredRobustness> {
  private sources: string[] = [];
  /** The sweep just run, as the host received it: shown without reading its results file back. */
  private received: ReceivedSweep | undefined;
  /** The gallery being computed. */
  private running: AbortController | undefined;

  constructor(extensionUri: vscode.Uri, log: vscode.LogOutputChannel, consent: FolderConsent) {
    super(extensionUri, log, consent, {
      type: ROBUSTNESS_PANEL_TYPE,
      title: 'GCCS Robustness',
      script: 'robustness',
      checkToHost: checkRobustnessToHost,
      checkRestored: checkRestoredRobustness,
      restoredPaths: (s) => [...new Set((s.sources ?? []).map((file) => path.dirname(file)))],
    });
  }

  /** Shows the panel with these results files (the first is the newest), one of them perhaps the sweep just run. */
  show(sources: string[], received?: ReceivedSweep): void {
    this.sources = sources;
    this.received = received;
    if (this.reveal()) this.showSources();
  }

  protected restore(state: RestoredRobustness | undefined): void {
    this.sources = state?.sources ?? [];
    this.received = undefined;
  }

  protected ready(): void {
    this.showSources();
  }

  protected override receive(message: FeatureMessage<RobustnessToHost>): void {
    switch (message.type) {
      case 'examples':
        return void this.showExamples(message.cell, message.count);
      case 'cancelExamples':
        return this.running?.abort();
    }
  }

  protected override closed(): void {
    this.running?.abort();
  }

  /** The gallery of a cell of the results shown: computed by a worker, cancellable, one status line when it cannot be. */
  private async showExamples(cellId: string, count: number): Promise<void> {
    const status = (message: string, isError = true, busy = false) => this.post({ type: 'examplesStatus', message, busy, isError });
    const cell = findCell(this.sources, this.received, cellId);
    if (!cell) return status('That point is no longer in the results shown: open the report again.');
    if (!vscode.workspace.isTrusted) return status('Restricted Mode: adversarial examples run the model, so they need a trusted workspace.', false);
    const model = modelFolderOf(cell.model);
    if (!(await this.consent.allow(model, `The GCCS Robustness panel asks to run the model in ${model} to show adversarial examples.`))) {
      return status(`${model} is outside the workspace and was not confirmed.`);
    }
    this.running?.abort();
    const controller = new AbortController();
    this.running = controller;
    const shown = Math.min(count, cell.count);
    status(`Attacking ${examplesTitle(cell, shown)} (in whole batches of ${cell.batchSize}, seed ${cell.seed} + batch, as the sweep did)…`, false, true);
    try {
      const data = await computeExamplesData(cell, count, { backend: readSettings().backend, signal: controller.signal });
      if (this.running === controller) this.post({ type: 'examples', data });
    } catch (error) {
      // Cancelled by the user, or replaced by a newer request (which says its own status).
      if (error instanceof JobCancelled) return void (this.running === controller && status('Cancelled.', false));
      this.log.error(`adversarial examples of ${cell.model}: ${(error as Error).message}`);
      if (this.running === controller) status(error instanceof UserError ? error.message : `${(error as Error).message} (see the GCCS log)`);
    } finally {
      if (this.running === controller) this.running = undefined;
    }
  }

  override dispose(): void {
    this.running?.abort();
    super.dispose();
  }

  private showSources(): void {
    if (!this.panel) return;
    let message: HostToRobustness;
    try {
      message = { type: 'show', data: robustnessData(this.sources, this.received) };
    } catch (error) {
      const problem = `cannot show the results: ${(error as Error).message}`;
      this.log.error(`robustness panel: ${problem}`);
      void vscode.window.showErrorMessage(`GCCS: ${problem}`);
      message = { type: 'error', message: `Cannot show the results: ${(error as Error).message}` };
    }
    this.post(message);
  }
}
