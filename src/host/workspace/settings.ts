/** The extension's settings (contributes.configuration in package.json), read when a job starts. */
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BackendName } from '../../core/backend';

export interface Settings {
  backend: BackendName;
  /** ≥ 1; undefined (0 in the settings): the CLI's default, one per core up to its cap. */
  workers?: number;
  defaultAttacks: string[];
  defaultEpsilons: string;
  sampleCount: number;
  /** Relative to the first workspace folder unless absolute. */
  resultsFolder: string;
}

export function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration('gccs');
  const workers = config.get<number>('workers', 0);
  const folder = config.get<string>('resultsFolder', '.gccs/results');
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? os.homedir();
  return {
    backend: config.get<BackendName>('backend', 'auto'),
    workers: workers > 0 ? Math.floor(workers) : undefined,
    defaultAttacks: config.get<string[]>('defaultAttacks', ['fgsm', 'pgd']),
    defaultEpsilons: config.get<string>('defaultEpsilons', '0:0.3:0.05'),
    sampleCount: config.get<number>('sampleCount', 1000),
    resultsFolder: path.isAbsolute(folder) ? folder : path.join(root, folder),
  };
}
