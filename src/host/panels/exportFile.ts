/**
 * The panels' PNG and CSV export, host side: a webview posts a SaveMessage (src/host/panels/messages.ts) and
 * the host asks where to save it (a save dialog in the first workspace folder) and writes it.
 */
import * as vscode from 'vscode';
import { writeFileAtomic } from '../../core/io/atomic';
import type { SaveMessage } from './messages';

export async function saveExport(message: SaveMessage, log: vscode.LogOutputChannel): Promise<void> {
  const { file, filters, bytes } =
    message.type === 'savePng'
      ? { file: `${message.name}.png`, filters: { 'PNG image': ['png'] }, bytes: Buffer.from(message.dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64') }
      : { file: `${message.name}.csv`, filters: { CSV: ['csv'] }, bytes: Buffer.from(message.csv, 'utf8') };
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({ defaultUri: folder ? vscode.Uri.joinPath(folder, file) : undefined, filters });
  if (!target) return;
  try {
    // Atomic: a file replaced in place (an earlier export) is never left half written.
    writeFileAtomic(target.fsPath, bytes);
    log.info(`saved ${target.fsPath}`);
  } catch (error) {
    void vscode.window.showErrorMessage(`GCCS: cannot save ${target.fsPath}: ${(error as Error).message}`);
  }
}
