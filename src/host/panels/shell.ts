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
 * first. A panel restored while the window reloads can miss its page (seen in code-server: the
 * service worker that serves webview resources is not up yet for the first restored panels) and
 * would stay blank: until `ready`, the page is set again every 3 s, and after 3 tries the panel is
 * replaced by a fresh one in the same column, handed to `recreate` (which attaches it; the owner
 * keeps what it shows host-side).
 */
export function loadPanelPage(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, title: string, script: string, recreate: (fresh: vscode.WebviewPanel) => void): void {
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
  let attempts = 1;
  const retry = setInterval(() => {
    if (attempts++ < PAGE_ATTEMPTS) return setPage();
    stop();
    recreate(vscode.window.createWebviewPanel(panel.viewType, panel.title, { viewColumn: panel.viewColumn ?? vscode.ViewColumn.Beside, preserveFocus: true }, panelOptions(extensionUri)));
  }, READY_WAIT_MS);
  const ready = webview.onDidReceiveMessage((message: { type?: string }) => message?.type === 'ready' && stop());
  const disposed = panel.onDidDispose(() => stop());
  function stop() {
    clearInterval(retry);
    ready.dispose();
    disposed.dispose();
  }
  setPage();
}
