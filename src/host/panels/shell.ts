/**
 * What every GCCS webview panel sets up the same way: options limited to the extension's
 * dist/webview and media folders, and the CSP page (webviewHtml.ts) loading one script bundle.
 */
import * as vscode from 'vscode';
import { webviewHtml } from './html';

export function panelOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    retainContextWhenHidden: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

const READY_WAIT_MS = 3000;
const PAGE_ATTEMPTS = 3;

/**
 * Points the panel at dist/webview/<script>.js with a fresh nonce. Every panel script says `ready`
 * each time its page loads. A page can fail to load and stay blank (seen in code-server: the service
 * worker that serves webview resources is not up yet for a fresh frame, as for the first panels
 * restored while the window reloads). A panel's page loads at the start and again each time the
 * panel is shown after being hidden or moved to another editor group (hidden panels do not keep their
 * page). After each load, until `ready`, the page is set again every 3 s, and after 3 tries the panel
 * is replaced by a fresh one in the same column, handed to `recreate` (which attaches it; the owner
 * keeps what it shows host-side).
 */
export function loadPanelPage(
  panel: vscode.WebviewPanel,
  extensionUri: vscode.Uri,
  title: string,
  script: string,
  recreate: (fresh: vscode.WebviewPanel) => void,
): void {
  const { webview } = panel;
  const setPage = () => {
    webview.options = panelOptions(extensionUri);
    webview.html = webviewHtml({
      title,
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', `${script}.js`)).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'panel.css')).toString(),
    });
  };
  let retry: NodeJS.Timeout | undefined;
  const awaitReady = () => {
    clearInterval(retry);
    let attempts = 1;
    retry = setInterval(() => {
      if (attempts++ < PAGE_ATTEMPTS) return setPage();
      stop();
      const sameColumn = { viewColumn: panel.viewColumn ?? vscode.ViewColumn.Beside, preserveFocus: true };
      recreate(vscode.window.createWebviewPanel(panel.viewType, panel.title, sameColumn, panelOptions(extensionUri)));
    }, READY_WAIT_MS);
  };
  let shown = { visible: panel.visible, column: panel.viewColumn };
  const subscriptions = [
    webview.onDidReceiveMessage((message: { type?: string }) => message?.type === 'ready' && clearInterval(retry)),
    panel.onDidChangeViewState(() => {
      // Shown again, or moved: its page loads again.
      if (panel.visible && (!shown.visible || panel.viewColumn !== shown.column)) awaitReady();
      shown = { visible: panel.visible, column: panel.viewColumn };
    }),
    panel.onDidDispose(() => stop()),
  ];
  function stop() {
    clearInterval(retry);
    subscriptions.forEach((subscription) => subscription.dispose());
  }
  setPage();
  awaitReady();
}
