/**
 * The HTML shell of a webview: a strict Content-Security-Policy (nothing remote; scripts only with
 * this page's nonce; styles and images from the extension), the panel's stylesheet and its script
 * bundle. No vscode import: the panel passes the URIs (from asWebviewUri) as strings; tested directly.
 */
import { randomBytes } from 'node:crypto';

export interface WebviewPage {
  title: string;
  /** webview.cspSource: the origin asWebviewUri URIs are served from. */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  /** Fresh per render; default: 128 random bits. */
  nonce?: string;
}

export const newNonce = () => randomBytes(16).toString('base64').replace(/[+/=]/g, '');

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

export function webviewHtml({ title, cspSource, scriptUri, styleUri, nonce = newNonce() }: WebviewPage): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escape(contentSecurityPolicy(cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${escape(styleUri)}">
<title>${escape(title)}</title>
</head>
<body>
<main id="app"><p class="empty">Loading…</p></main>
<script nonce="${nonce}" src="${escape(scriptUri)}"></script>
</body>
</html>`;
}
