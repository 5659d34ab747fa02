/**
 * What every command handler is given, and the small dialogs they share.
 */
import * as vscode from 'vscode';
import type { FolderConsent } from '../workspace/folderConsent';
import type { JobRunner } from '../jobs/jobRunner';
import { folderWriteProblem } from '../workspace/preflight';
import type { RobustnessPanels } from '../panels/robustness/panel';
import type { ModelDataMemory } from '../workspace/modelData';

export interface CommandDeps {
  extensionUri: vscode.Uri;
  runner: JobRunner;
  panels: RobustnessPanels;
  log: vscode.LogOutputChannel;
  /** Where GCCS: Enable Native Backend installs native TensorFlow (global storage). */
  nativeDir: string;
  /** Folders outside the workspace are written only after the user confirms them. */
  consent: FolderConsent;
  /** The data each model without gccs.json (an .onnx file) was last run on (asked by commands/modelData.ts). */
  modelData: ModelDataMemory;
  /** Told a training's progress in [0, 1] per experiment file, and undefined when it ends (the GCCS view shows it). */
  trainingProgress?: (experimentFile: string, fraction: number | undefined) => void;
}

export const dist = (deps: CommandDeps, file: string) => vscode.Uri.joinPath(deps.extensionUri, 'dist', file).fsPath;

/** An error message whose button opens `file`. */
export function errorWithFile(deps: CommandDeps, message: string, file: string): void {
  deps.log.error(message);
  void vscode.window
    .showErrorMessage(`GCCS: ${message}`, 'Open File')
    .then((choice) => choice && vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false }));
}

/** False (after saying why, with a button to the setting) when the results folder cannot be written. */
export function resultsFolderWritable(deps: CommandDeps, folder: string): boolean {
  const problem = folderWriteProblem(folder);
  if (!problem) return true;
  deps.log.error(problem);
  void vscode.window
    .showErrorMessage(`GCCS: the results folder ${problem}. Choose another folder in the gccs.resultsFolder setting.`, 'Open Settings')
    .then((choice) => choice && vscode.commands.executeCommand('workbench.action.openSettings', 'gccs.resultsFolder'));
  return false;
}
