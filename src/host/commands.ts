/**
 * The command handlers: Train, Evaluate Robustness, Cancel Job, Open Report. They ask what they
 * need, check it, and hand a job to the JobRunner; the work itself runs in child processes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { modelFolderOf } from '../core/io/modelLocation';
import { parseGrid } from '../core/sweep/grid';
import { ExperimentError, loadExperiment } from './experiment';
import type { FolderConsent } from './folderConsent';
import { nativeEnv } from './nativeBackend';
import { folderWriteProblem, modelJsonOf, modelProblem } from './preflight';
import type { JobRunner } from './jobRunner';
import { modelName } from './compareData';
import { resultsFiles } from './panelData';
import type { ReportPanels } from './reportPanel';
import { readSettings } from './settings';
import { runCliSweep } from './sweepProcess';
import { runTrainWorker } from './trainWorker';
import { newExperimentWizard } from './wizardUi';

export const ATTACKS = ['fgsm', 'pgd', 'tgsm', 'jsma', 'deepfool', 'spsa'] as const;
/** Attacks with an ε grid; deepfool and jsma run once per model. */
const EPS_ATTACKS = ['fgsm', 'pgd', 'tgsm', 'spsa'];

export interface CommandDeps {
  extensionUri: vscode.Uri;
  runner: JobRunner;
  panels: ReportPanels;
  log: vscode.LogOutputChannel;
  /** Where GCCS: Enable Native Backend installs native TensorFlow (global storage). */
  nativeDir: string;
  /** Folders outside the workspace are written only after the user confirms them. */
  consent: FolderConsent;
  /** Told a training's progress in [0, 1] per experiment file, and undefined when it ends (the GCCS view shows it). */
  trainingProgress?: (experimentFile: string, fraction: number | undefined) => void;
}

const dist = (deps: CommandDeps, file: string) => vscode.Uri.joinPath(deps.extensionUri, 'dist', file).fsPath;

/** An error message whose button opens `file`. */
function errorWithFile(deps: CommandDeps, message: string, file: string): void {
  deps.log.error(message);
  void vscode.window.showErrorMessage(`GCCS: ${message}`, 'Open File').then((choice) => choice && vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false }));
}

/** False (after saying why, with a button to the setting) when the results folder cannot be written. */
function resultsFolderWritable(deps: CommandDeps, folder: string): boolean {
  const problem = folderWriteProblem(folder);
  if (!problem) return true;
  deps.log.error(problem);
  void vscode.window
    .showErrorMessage(`GCCS: the results folder ${problem}. Choose another folder in the gccs.resultsFolder setting.`, 'Open Settings')
    .then((choice) => choice && vscode.commands.executeCommand('workbench.action.openSettings', 'gccs.resultsFolder'));
  return false;
}

/** An existing experiment: the only one in the workspace, a pick among several, or a file dialog when there is none. */
async function pickExperimentFile(): Promise<vscode.Uri | undefined> {
  const found = await vscode.workspace.findFiles('**/*.gccs.json', '**/node_modules/**', 50);
  if (found.length === 0) {
    const picked = await vscode.window.showOpenDialog({ title: 'GCCS: experiment to train', canSelectMany: false, filters: { 'GCCS experiment': ['json'] }, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri });
    return picked?.[0];
  }
  if (found.length === 1) return found[0];
  const pick = await vscode.window.showQuickPick(
    found.map((file) => ({ label: path.basename(file.fsPath), description: vscode.workspace.asRelativePath(file), file })),
    { title: 'GCCS: Train', placeHolder: 'Experiment to train' },
  );
  return pick?.file;
}

/** The experiment to train: the explorer's resource, else the active *.gccs.json editor, else run one or create one. */
async function experimentFile(uri: vscode.Uri | undefined): Promise<vscode.Uri | undefined> {
  if (uri instanceof vscode.Uri) return uri;
  const active = vscode.window.activeTextEditor?.document;
  if (active && active.uri.scheme === 'file' && active.fileName.endsWith('.gccs.json')) {
    if (active.isDirty) await active.save();
    return active.uri;
  }
  const how = await vscode.window.showQuickPick(
    [
      { label: 'Run an experiment file…', description: 'a *.gccs.json of the workspace', create: false },
      { label: 'New experiment…', description: 'dataset, model, loss, epochs and name, then train', create: true },
    ],
    { title: 'GCCS: Train', placeHolder: 'No experiment file is open' },
  );
  if (!how) return undefined;
  return how.create ? newExperimentWizard() : pickExperimentFile();
}

export async function trainCommand(deps: CommandDeps, uri?: vscode.Uri): Promise<void> {
  const file = await experimentFile(uri);
  if (!file) return;
  let config;
  try {
    config = loadExperiment(file.fsPath);
  } catch (error) {
    if (error instanceof ExperimentError) return errorWithFile(deps, error.message, file.fsPath);
    throw error;
  }
  if (!(await deps.consent.allow(config.outDir, `GCCS: Train would write the model of ${path.basename(file.fsPath)} there (its outDir).`))) return;
  const outProblem = folderWriteProblem(config.outDir);
  if (outProblem) return errorWithFile(deps, `${path.basename(file.fsPath)}: outDir: ${outProblem}`, file.fsPath);
  const settings = readSettings();
  const name = path.basename(file.fsPath);
  await deps.runner.enqueue({
    title: `Training ${name}`,
    run: async ({ signal, report, log }) => {
      let epochs = config.epochs;
      deps.trainingProgress?.(file.fsPath, 0);
      const { outDir, testAccuracy } = await runTrainWorker(config, {
        workerFile: dist(deps, 'worker.js'),
        backend: settings.backend,
        env: nativeEnv(deps.nativeDir, log),
        signal,
        onLog: (line) => log.info(line),
        onEvent: (event) => {
          switch (event.type) {
            case 'start':
              epochs = event.epochs;
              log.info(`${name}: ${event.trainCount} train / ${event.validationCount} validation / ${event.testCount} test, ${event.epochs} epochs × ${event.stepsPerEpoch} steps on ${event.backend}`);
              return;
            case 'warning':
              return log.warn(`${name}: ${event.message}`);
            case 'step': {
              const fraction = (event.epoch - 1 + event.step / event.steps) / epochs;
              deps.trainingProgress?.(file.fsPath, fraction);
              return report(`epoch ${event.epoch}/${epochs}, step ${event.step}/${event.steps}, loss ${event.loss.toFixed(4)}`, fraction);
            }
            case 'epoch': {
              const r = event.record;
              const validation = r.validationAccuracy === null ? '' : `, validation ${(100 * r.validationAccuracy).toFixed(2)}%`;
              return log.info(`${name}: epoch ${r.epoch}/${epochs}: loss ${r.loss.toFixed(4)}, train ${(100 * r.trainAccuracy).toFixed(2)}%${validation} (${r.seconds.toFixed(1)} s)`);
            }
          }
        },
      }).finally(() => deps.trainingProgress?.(file.fsPath, undefined));
      return `trained ${name}: test accuracy ${(100 * testAccuracy).toFixed(2)}%, model in ${vscode.workspace.asRelativePath(outDir)}`;
    },
  });
}

/** The model to evaluate: the explorer's model.json / gccs.json (or folder), else a file picker. */
async function modelPath(uri: vscode.Uri | undefined): Promise<string | undefined> {
  if (uri instanceof vscode.Uri) return uri.fsPath;
  const picked = await vscode.window.showOpenDialog({
    title: 'GCCS: model to evaluate (its model.json or gccs.json)',
    canSelectMany: false,
    filters: { 'GCCS model': ['json'] },
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  return picked?.[0]?.fsPath;
}

export function gridProblem(text: string): string | undefined {
  try {
    parseGrid(text);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

export async function evaluateRobustnessCommand(deps: CommandDeps, uri?: vscode.Uri): Promise<void> {
  const picked0 = await modelPath(uri);
  if (!picked0) return;
  // The model's folder: results and charts are labelled by its name.
  const model = modelFolderOf(picked0);
  const problem = modelProblem(model);
  if (problem) return errorWithFile(deps, `cannot load the model: ${problem}`, modelJsonOf(model));
  const settings = readSettings();
  if (!(await deps.consent.allow(settings.resultsFolder, 'GCCS: Evaluate Robustness would write its results, sweep configuration and report there (the gccs.resultsFolder setting).'))) return;
  if (!resultsFolderWritable(deps, settings.resultsFolder)) return;
  const picked = await vscode.window.showQuickPick(
    ATTACKS.map((name) => ({ label: name, description: EPS_ATTACKS.includes(name) ? 'ε grid' : 'once per model', picked: settings.defaultAttacks.includes(name) })),
    { title: `GCCS: attacks on ${modelName(model)}`, canPickMany: true },
  );
  if (!picked?.length) return;
  const attacks = picked.map((item) => item.label);
  let eps = settings.defaultEpsilons;
  if (attacks.some((name) => EPS_ATTACKS.includes(name))) {
    const entered = await vscode.window.showInputBox({
      title: 'GCCS: ε grid',
      prompt: 'start:stop:step (stop included) or a comma list; ε is relative to each image (‖n‖∞ ≤ ε·‖x‖∞)',
      value: settings.defaultEpsilons,
      validateInput: gridProblem,
    });
    if (entered === undefined) return;
    eps = entered.trim();
  }
  const countText = await vscode.window.showInputBox({
    title: 'GCCS: samples',
    prompt: 'Attack the first N test samples',
    value: String(settings.sampleCount),
    validateInput: (text) => (/^\s*[1-9]\d*\s*$/.test(text) ? undefined : 'a whole number ≥ 1'),
  });
  if (countText === undefined) return;

  const name = modelName(model);
  const resultsFile = path.join(settings.resultsFolder, `${name}.jsonl`);
  const reportFile = path.join(settings.resultsFolder, `${name}.html`);
  const configFile = path.join(settings.resultsFolder, `${name}.sweep.json`);
  let resume = false;
  if (fs.existsSync(resultsFile) && fs.statSync(resultsFile).size > 0) {
    const choice = await vscode.window.showWarningMessage(
      `GCCS: ${vscode.workspace.asRelativePath(resultsFile)} already has results.`,
      { modal: true, detail: 'Resume runs only the missing cells (same attacks, grid and samples); Start Over deletes the old results.' },
      'Resume',
      'Start Over',
    );
    if (!choice) return;
    if (choice === 'Start Over') fs.rmSync(resultsFile);
    resume = choice === 'Resume';
  }
  const config = {
    $schema: vscode.Uri.joinPath(deps.extensionUri, 'schema', 'sweep.schema.json').toString(),
    models: [model],
    attacks: attacks.map((attack) => (EPS_ATTACKS.includes(attack) ? { name: attack, eps } : { name: attack })),
    count: Number(countText),
  };
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n');
  await deps.runner.enqueue({
    title: `Robustness of ${name}`,
    run: async ({ signal, report, log }) => {
      await runCliSweep({
        cliFile: dist(deps, 'cli.js'),
        configFile,
        resultsFile,
        reportFile,
        resume,
        workers: settings.workers,
        backend: settings.backend,
        env: nativeEnv(deps.nativeDir, log),
        signal,
        onLine: (line) => log.info(`${name}: ${line}`),
        onProgress: (finished, total) => report(`${finished}/${total} cells`, finished / total),
      });
      deps.panels.show(resultsFiles(settings.resultsFolder));
      return `robustness of ${name}: results in ${vscode.workspace.asRelativePath(resultsFile)}, report ${vscode.workspace.asRelativePath(reportFile)}`;
    },
  });
}

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
