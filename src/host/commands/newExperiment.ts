/**
 * The questions of the "New experiment…" wizard (quick picks, input boxes, folder dialogs); the
 * choices and the resulting file come from src/host/workspace/wizard.ts. Escape at any step cancels.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { writeJsonAtomic } from '../../core/io/atomic';
import {
  WIZARD_DATASETS,
  WIZARD_LOSSES,
  WIZARD_MODELS,
  WizardAnswers,
  defaultEpochs,
  epochsProblem,
  experimentFileName,
  experimentFromAnswers,
  nameProblem,
  suggestedName,
} from '../workspace/wizard';

const STEPS = 5;
const title = (step: number, what: string) => `GCCS: New experiment (${step}/${STEPS}): ${what}`;

async function pickFolder(titleText: string, openLabel: string): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title: titleText,
    openLabel,
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  return picked?.[0]?.fsPath;
}

/**
 * Asks dataset, data folder, loss, model (or the model to fine-tune), epochs and name; writes
 * <workspace>/<name>.gccs.json and opens it. Undefined when cancelled or without a workspace.
 */
export async function newExperimentWizard(): Promise<vscode.Uri | undefined> {
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (!root) {
    void vscode.window.showErrorMessage('GCCS: open a folder first: the new experiment file and its model are written into the workspace.');
    return undefined;
  }
  const data = await askDataset((what) => title(1, what));
  if (!data) return undefined;
  const { dataset, dataPath } = data;
  const loss = await vscode.window.showQuickPick(
    WIZARD_LOSSES.map((item) => ({ label: item.label, description: item.description, loss: item.kind })),
    { title: title(2, 'loss'), ignoreFocusOut: true },
  );
  if (!loss) return undefined;
  const start = loss.loss === 'finetune' ? await askFineTuneFrom() : await askModel(dataset.choice.models);
  if (!start) return undefined;
  const epochs = await vscode.window.showInputBox({
    title: title(4, 'epochs'),
    prompt: 'Passes over the training examples',
    value: String(defaultEpochs(loss.loss)),
    validateInput: epochsProblem,
    ignoreFocusOut: true,
  });
  if (epochs === undefined) return undefined;
  const kind = dataset.choice.kind;
  const name = await vscode.window.showInputBox({
    title: title(5, 'name'),
    prompt: 'The model goes to models/<name>, the experiment to <name>.gccs.json',
    value: suggestedName(kind, start.model, loss.loss),
    validateInput: (text) =>
      nameProblem(text) ?? (fs.existsSync(path.join(root, experimentFileName(text))) ? `${experimentFileName(text)} already exists` : undefined),
    ignoreFocusOut: true,
  });
  if (name === undefined) return undefined;
  const answers: WizardAnswers = { dataset: kind, dataPath, ...start, loss: loss.loss, epochs: Number(epochs), name: name.trim() };
  return writeExperiment(root, answers);
}

/**
 * Step 1: the dataset, and its data folder when it needs or may have one (undefined: cancelled).
 * Also asked for a model that names no dataset (commands/modelData.ts); `titled` words the titles.
 */
export async function askDataset(titled: (what: string) => string) {
  const dataset = await vscode.window.showQuickPick(
    WIZARD_DATASETS.map((choice) => ({ label: choice.label, description: choice.description, choice })),
    { title: titled('dataset'), ignoreFocusOut: true },
  );
  if (!dataset) return undefined;
  const { kind, folder } = dataset.choice;
  if (folder === 'none') return { dataset, dataPath: undefined };
  let choose = folder === 'required';
  if (!choose) {
    const cache = path.join(os.homedir(), '.cache', 'gccs-lab', kind);
    const where = await vscode.window.showQuickPick(
      [
        { label: 'Choose the data folder…', choose: true },
        { label: 'Use the download cache', description: cache, detail: `gccs download --dataset ${kind} fills it`, choose: false },
      ],
      { title: titled(`${dataset.label} data`), ignoreFocusOut: true },
    );
    if (!where) return undefined;
    choose = where.choose;
  }
  if (!choose) return { dataset, dataPath: undefined };
  const dataPath = await pickFolder(`GCCS: ${dataset.label} data folder`, 'Use this data folder');
  return dataPath ? { dataset, dataPath } : undefined;
}

/** Step 3 of a fine-tuning: the model folder to start from. */
async function askFineTuneFrom(): Promise<{ model: string; fineTuneFrom: string } | undefined> {
  const fineTuneFrom = await pickFolder('GCCS: model folder to fine-tune (with its model.json)', 'Fine-tune this model');
  if (!fineTuneFrom) return undefined;
  if (!fs.existsSync(path.join(fineTuneFrom, 'model.json'))) {
    void vscode.window.showErrorMessage(`GCCS: ${fineTuneFrom} has no model.json: pick a model folder written by GCCS: Train.`);
    return undefined;
  }
  return { model: '', fineTuneFrom };
}

/** Step 3: one of the dataset's built-in models. */
async function askModel(models: readonly string[]): Promise<{ model: string; fineTuneFrom: undefined } | undefined> {
  const picked = await vscode.window.showQuickPick(
    models.map((name) => ({ label: name, description: WIZARD_MODELS[name as keyof typeof WIZARD_MODELS] })),
    { title: title(3, 'model'), ignoreFocusOut: true },
  );
  return picked && { model: picked.label, fineTuneFrom: undefined };
}

/** Writes the experiment file (atomically) and opens it. */
async function writeExperiment(root: string, answers: WizardAnswers): Promise<vscode.Uri | undefined> {
  const file = path.join(root, experimentFileName(answers.name));
  try {
    writeJsonAtomic(file, experimentFromAnswers(answers, root));
  } catch (error) {
    void vscode.window.showErrorMessage(`GCCS: cannot write ${file}: ${(error as Error).message}`);
    return undefined;
  }
  const uri = vscode.Uri.file(file);
  await vscode.window.showTextDocument(uri, { preview: false });
  return uri;
}
