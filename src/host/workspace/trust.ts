/**
 * Workspace trust and folders outside the workspace, the VS Code side. In Restricted Mode
 * (package.json capabilities.untrustedWorkspaces: limited) existing results, reports and panels
 * can be viewed; the commands below run workspace content, so they explain why they need trust and
 * offer Manage Workspace Trust instead of running. Folders outside the workspace are used after a
 * modal confirmation (folderConsent.ts), remembered in the workspace's extension state.
 */
import * as vscode from 'vscode';
import { FolderConsent } from './folderConsent';

/** Commands that run workspace content: their title and why they need trust. */
export const TRUSTED_COMMANDS: Readonly<Record<string, { title: string; why: string }>> = {
  'gccs.train': { title: 'GCCS: Train', why: 'It runs the experiment file: loads the dataset and model it names, trains in a worker process and writes its outDir.' },
  'gccs.evaluateRobustness': { title: 'GCCS: Evaluate Robustness', why: 'It loads the model and runs attacks on it in worker processes, and writes the results folder.' },
  'gccs.reproducePaper': { title: 'GCCS: Reproduce the Paper', why: 'It loads the dataset, trains and attacks models in worker processes, writes the results folder.' },
  'gccs.showLatentSpace': { title: 'GCCS: Show Latent Space', why: "It loads the model and computes its outputs on the model's data in a child process." },
  'gccs.compareModels': { title: 'GCCS: Compare Models', why: 'It loads each model and evaluates it on its data in a child process.' },
  'gccs.enableNativeBackend': { title: 'GCCS: Enable Native Backend', why: 'It installs native TensorFlow with npm and loads it, for jobs of this workspace.' },
};

export const MANAGE_TRUST = 'Manage Workspace Trust';

/**
 * True in a trusted workspace. In Restricted Mode: a modal saying why `command` needs trust, whose
 * button opens the workspace trust editor (workbench.trust.manage); false.
 */
export async function requireTrust(command: string): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const { title, why } = TRUSTED_COMMANDS[command];
  const choice = await vscode.window.showWarningMessage(
    `GCCS: ${title} needs a trusted workspace.`,
    { modal: true, detail: `${why} In Restricted Mode GCCS only shows existing results, reports and training curves. Trust this workspace, then run ${title} again.` },
    MANAGE_TRUST,
  );
  if (choice === MANAGE_TRUST) await vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}

/** Registers a command that runs only in a trusted workspace (else requireTrust's modal). */
export function registerTrustedCommand(command: string, handler: (...args: never[]) => unknown): vscode.Disposable {
  return vscode.commands.registerCommand(command, async (...args: never[]) => ((await requireTrust(command)) ? handler(...args) : undefined));
}

const REMEMBERED_KEY = 'gccs.confirmedFolders';
/** The most folders remembered per workspace (the oldest are forgotten). */
const REMEMBERED_MAX = 200;
export const ALLOW_FOLDER = 'Allow';

/** The workspace's FolderConsent: its folders, a modal to confirm others, confirmations kept in `state`. */
export function workspaceConsent(state: vscode.Memento): FolderConsent {
  return new FolderConsent({
    roots: () => (vscode.workspace.workspaceFolders ?? []).filter((folder) => folder.uri.scheme === 'file').map((folder) => folder.uri.fsPath),
    remembered: () => {
      const saved = state.get<unknown>(REMEMBERED_KEY);
      return Array.isArray(saved) ? saved.filter((item): item is string => typeof item === 'string') : [];
    },
    remember: (folders) => state.update(REMEMBERED_KEY, folders.slice(-REMEMBERED_MAX)),
    ask: async (target, purpose) =>
      (await vscode.window.showWarningMessage(`GCCS: ${target} is outside the workspace.`, { modal: true, detail: `${purpose} Allow GCCS to use this folder? (Remembered for this workspace.)` }, ALLOW_FOLDER)) === ALLOW_FOLDER,
  });
}
