/**
 * The robustness panel (webview type gccs.robustness): shows the summary of sweep results files
 * with the browser bundle dist/webview/robustness.js. One panel, revealed and refreshed on each
 * Open Report; restored after a reload by the registered serializer from the webview's state.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { HostToRobustness, RobustnessToHost, RestoredRobustness, checkRestoredRobustness, checkRobustnessToHost } from './messages';
import type { FolderConsent } from '../../workspace/folderConsent';
import { ReceivedSweep, robustnessData } from './data';
import { Panels } from '../panel';

export const ROBUSTNESS_PANEL_TYPE = 'gccs.robustness';

export class RobustnessPanels extends Panels<HostToRobustness, RobustnessToHost, RestoredRobustness> {
  private sources: string[] = [];
  /** The sweep just run, as the host received it: shown without reading its results file back. */
  private received: ReceivedSweep | undefined;

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
