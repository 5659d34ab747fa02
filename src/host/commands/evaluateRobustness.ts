/**
 * GCCS: Evaluate Robustness: asks for the model, attacks, ε grid and sample count, writes the sweep
 * configuration and runs the sweep as a job; the robustness panel shows the results.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { modelFolderOf } from '../../core/io/modelLocation';
import { parseGrid } from '../../core/sweep/grid';
import { nativeEnv } from './nativeBackend';
import { modelJsonOf, modelProblem } from '../workspace/preflight';
import { modelName } from '../panels/robustness/compareData';
import { resultsFiles } from '../panels/robustness/data';
import { readSettings } from '../workspace/settings';
import { runCliSweep } from '../jobs/sweepProcess';
import { attackPickItems, needsEps, pickedSweepAttacks } from './attackPicker';
import { CommandDeps, dist, errorWithFile, resultsFolderWritable } from './deps';

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
    attackPickItems(settings.defaultAttacks),
    { title: `GCCS: attacks on ${modelName(model)}`, canPickMany: true },
  );
  if (!picked?.length) return;
  const attacks = picked.map((item) => item.label);
  let eps = settings.defaultEpsilons;
  if (needsEps(attacks)) {
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
    attacks: pickedSweepAttacks(attacks, eps),
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

