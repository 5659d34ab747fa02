/**
 * A self-contained HTML report (the reproduction's report.html: inline styles, chart.js and the
 * chart script inline) made fit for a webview: a strict Content-Security-Policy (nothing remote,
 * nothing loaded, scripts and styles only with this page's nonce) and the nonce on the page's own
 * <script> and <style> elements. The page is the one the worker just wrote and returned, never a
 * file read back. No vscode import: tested directly.
 */
import { newNonce } from './html';

export function reportPageCsp(nonce: string): string {
  return ["default-src 'none'", 'img-src data:', `style-src 'nonce-${nonce}'`, `script-src 'nonce-${nonce}'`].join('; ');
}

/** The page with the CSP as its first <head> element and the nonce on each of its <script> and <style> tags. */
export function reportPageHtml(html: string, nonce = newNonce()): string {
  const csp = `<meta http-equiv="Content-Security-Policy" content="${reportPageCsp(nonce)}">`;
  const withNonce = html.replace(/<(script|style)>/g, `<$1 nonce="${nonce}">`);
  if (!/<head>/.test(withNonce)) throw new Error('the report has no <head>');
  return withNonce.replace('<head>', `<head>\n${csp}`);
}
