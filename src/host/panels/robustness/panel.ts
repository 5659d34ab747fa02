/**
 * The robustness panel (webview type gccs.robustness): shows the summary of sweep results files
 * with the browser bundle dist/webview/robustness.js. One panel, revealed and refreshed on each
 * Open Report; restored after a reload by the registered serializer from the webview's state.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { HostToRobustness, RobustnessToHost, checkRestoredRobustness, checkRobustnessToHost } from './messages';
import { saveExport } from '../exportFile';
import type { FolderConsent } from '../../workspace/folderConsent';
import { robustnessData } from './data';
import { loadPanelPage, panelOptions } from '../shell';
import { receiveFromWebview, restoredState } from '../receive';

export const PANEL_TYPE = 'gccs.robustness';

export class RobustnessPanels implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private sources: string[] = [];
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    private readonly consent: FolderConsent,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(PANEL_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const restored = await restoredState(state, checkRestoredRobustness, { panel: 'GCCS Robustness', paths: (s) => [...new Set((s.sources ?? []).map((file) => path.dirname(file)))], consent, log });
          this.attach(panel, restored?.sources ?? []);
        },
      }),
    );
  }

  /** Shows the panel with these results files (the first is the newest). */
  show(sources: string[]): void {
    if (this.panel) {
      this.sources = sources;
      this.panel.reveal(undefined, true);
      this.post();
      return;
    }
    const panel = vscode.window.createWebviewPanel(PANEL_TYPE, 'GCCS Robustness', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, panelOptions(this.extensionUri));
    this.attach(panel, sources);
  }

  private attach(panel: vscode.WebviewPanel, sources: string[]): void {
    this.panel?.dispose();
    this.panel = panel;
    this.sources = sources;
    loadPanelPage(panel, this.extensionUri, 'GCCS Robustness', 'robustness', (fresh) => this.attach(fresh, this.sources));
    const subscription = receiveFromWebview(panel.webview, checkRobustnessToHost, { panel: 'GCCS Robustness', consent: this.consent, log: this.log }, (message) => this.onMessage(message));
    panel.onDidDispose(() => {
      subscription.dispose();
      if (this.panel === panel) this.panel = undefined;
    });
  }

  private post(): void {
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
    void this.panel.webview.postMessage(message);
  }

  private async onMessage(message: RobustnessToHost): Promise<void> {
    switch (message.type) {
      case 'ready':
        return this.post();
      case 'savePng':
      case 'saveCsv':
        return saveExport(message, this.log);
    }
  }

  dispose(): void {
    this.panel?.dispose();
    this.disposables.forEach((d) => d.dispose());
  }
}
