/**
 * What every GCCS webview panel sets up the same way: options limited to the extension's
 * dist/webview and media folders, and the CSP page (webviewHtml.ts) loading one script bundle.
 */
import * as vscode from 'vscode';
import { webviewHtml } from './webviewHtml';

export function panelOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    retainContextWhenHidden: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

/** Points the panel at dist/webview/<script>.js with a fresh nonce. */
export function loadPanelPage(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, title: string, script: string): void {
  const { webview } = panel;
  webview.options = panelOptions(extensionUri);
  webview.html = webviewHtml({
    title,
    cspSource: webview.cspSource,
    scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', `${script}.js`)).toString(),
    styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'panel.css')).toString(),
  });
}
