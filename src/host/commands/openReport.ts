/**
 * GCCS: Open Report and GCCS: Cancel Job.
 */
import * as vscode from 'vscode';
import { resultsFiles } from '../panels/robustness/data';
import { readSettings } from '../workspace/settings';
import type { CommandDeps } from './deps';

export function cancelJobCommand(deps: CommandDeps): void {
  if (!deps.runner.cancel()) void vscode.window.showInformationMessage('GCCS: no job is running.');
}

/** Open Report: the results file given (a *.jsonl, e.g. a row of the GCCS view), else every results file of the results folder. */
export function openReportCommand(deps: CommandDeps, uri?: vscode.Uri): void {
  if (uri instanceof vscode.Uri && uri.fsPath.endsWith('.jsonl')) return deps.panels.show([uri.fsPath]);
  const folder = readSettings().resultsFolder;
  const files = resultsFiles(folder);
  if (files.length === 0) {
    void vscode.window.showInformationMessage(`GCCS: no results in ${vscode.workspace.asRelativePath(folder)} yet: run GCCS: Evaluate Robustness first.`);
    return;
  }
  deps.panels.show(files);
}
