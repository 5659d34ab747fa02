/**
 * The robustness panel (webview type gccs.robustness): shows the summary of sweep results files
 * with the browser bundle dist/webview/robustness.js. One panel, revealed and refreshed on each
 * Open Report; restored after a reload by the registered serializer from the webview's state.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { HostToRobustness, RobustnessToHost, RestoredRobustness, checkRestoredRobustness, checkRobustnessToHost } from './messages';
import type { FolderConsent } from '../../workspace/folderConsent';
import { robustnessData } from './data';
import { Panels } from '../panel';

export const ROBUSTNESS_PANEL_TYPE = 'gccs.robustness';

export class RobustnessPanels extends Panels<HostToRobustness, RobustnessToHost, RestoredRobustness> {
  private sources: string[] = [];

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

  /** Shows the panel with these results files (the first is the newest). */
  show(sources: string[]): void {
    this.sources = sources;
    if (this.reveal()) this.showSources();
  }

  protected restore(state: RestoredRobustness | undefined): void {
    this.sources = state?.sources ?? [];
  }

  protected ready(): void {
    this.showSources();
  }

  private showSources(): void {
    if (!this.panel) return;
    let message: HostToRobustness;
    try {
      message = { type: 'show', data: robustnessData(this.sources) };
    } catch (error) {
      const problem = `cannot show the results: ${(error as Error).message}`;
      this.log.error(`robustness panel: ${problem}`);
      void vscode.window.showErrorMessage(`GCCS: ${problem}`);
      message = { type: 'error', message: `Cannot show the results: ${(error as Error).message}` };
    }
    this.post(message);
  }
}
