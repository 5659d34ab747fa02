/**
 * GCCS: Evaluate Robustness: asks for the model, presets and attacks, ε grid, whether to resume
 * earlier results, and the sample count, shows how long the cells still to run will take (the model
 * timed in a worker, src/core/sweep/estimate.ts) with Start or Fewer Samples…, writes the sweep
 * configuration and runs the sweep as a job, in this process on the engine's pool of workers
 * (src/core/sweep/pool.ts, typed messages); the robustness panel shows the results it received.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { modelFolderOf } from '../../core/io/modelLocation';
import { nativeEnv } from './nativeBackend';
import { modelJsonOf, modelProblem } from '../workspace/preflight';
import { modelName } from '../panels/robustness/compareData';
import { resultsFiles } from '../panels/robustness/data';
import { Settings, readSettings } from '../workspace/settings';
import { sweepEventLine } from '../../core/sweep/pool';
import { formatSummary } from '../../core/sweep/summary';
import { runHostSweep } from '../jobs/sweepJob';
import type { Job } from '../jobs/jobRunner';
import { estimateSweep } from '../../core/sweep/estimate';
import type { SweepConfig } from '../../core/sweep/types';
import { VIEW_ID } from '../sidebar/view';
import { AttackPickItem, ESTIMATE_CHOICES, countProblem, epsGridProblem, estimateDialog, pickItems, pickNeedsEps, pickedSweepEntries } from './attackPicker';
import { CommandDeps, errorWithFile, resultsFolderWritable } from './deps';
import { modelData } from './modelData';

/** The model to evaluate: the explorer's model.json / gccs.json (or folder) or .onnx file (or its sidecar), else a file picker. */
async function modelPath(uri: vscode.Uri | undefined): Promise<string | undefined> {
  if (uri instanceof vscode.Uri) return uri.fsPath;
  const picked = await vscode.window.showOpenDialog({
    title: 'GCCS: model to evaluate (its model.json or gccs.json, or an .onnx file)',
    canSelectMany: false,
    filters: { 'GCCS model': ['json', 'onnx'] },
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  return picked?.[0]?.fsPath;
}

export async function evaluateRobustnessCommand(deps: CommandDeps, uri?: vscode.Uri): Promise<void> {
  const picked0 = await modelPath(uri);
  if (!picked0) return;
  // The model's folder: results and charts are labelled by its name.
  const model = modelFolderOf(picked0);
  const problem = await modelProblem(model);
  if (problem) return errorWithFile(deps, `cannot load the model: ${problem}`, modelJsonOf(model));
  const settings = readSettings();
  if (!(await deps.consent.allow(settings.resultsFolder, 'GCCS: Evaluate Robustness would write its results, sweep configuration and report there (the gccs.resultsFolder setting).'))) return;
  if (!resultsFolderWritable(deps, settings.resultsFolder)) return;
  // A model without gccs.json (an .onnx file) is attacked on the data the user names.
  const data = await modelData(deps.modelData, model);
  if (data === undefined) return;
  const chosen = await vscode.window.showQuickPick(withSeparators(pickItems(settings.defaultAttacks)), {
    title: `GCCS: presets and attacks on ${modelName(model)}`,
    canPickMany: true,
  });
  // Separators cannot be picked.
  const picked = chosen?.filter((item): item is AttackPickItem => 'group' in item);
  if (!picked?.length) return;
  let eps = settings.defaultEpsilons;
  if (pickNeedsEps(picked)) {
    const entered = await vscode.window.showInputBox({
      title: 'GCCS: ε grid',
      prompt: 'start:stop:step (stop included) or a comma list; ε is relative to each image (‖n‖∞ ≤ ε·‖x‖∞)',
      value: settings.defaultEpsilons,
      validateInput: epsGridProblem,
    });
    if (entered === undefined) return;
    eps = entered.trim();
  }
  const name = modelName(model);
  const resultsFile = path.join(settings.resultsFolder, `${name}.jsonl`);
  const reportFile = path.join(settings.resultsFolder, `${name}.html`);
  const configFile = path.join(settings.resultsFolder, `${name}.sweep.json`);
  // Asked before the estimate, which then counts only the cells that will run.
  const earlier = await earlierResultsChoice(resultsFile);
  if (earlier === undefined) return;
  const resume = earlier === 'Resume';
  const $schema = vscode.Uri.joinPath(deps.extensionUri, 'schema', 'sweep.schema.json').toString();
  const configOf = (count: number): SweepConfig => ({ models: [model], ...(data && { data }), ...pickedSweepEntries(picked, eps), count });
  const config = await confirmedConfig(deps, settings, configOf, resume ? resultsFile : undefined);
  if (!config) return;
  // Start Over deletes the old results only now: cancelled at the estimate, they stay.
  if (earlier === 'Start Over') fs.rmSync(resultsFile, { force: true });
  fs.writeFileSync(configFile, JSON.stringify({ $schema, ...config }, null, 2) + '\n');
  await deps.runner.enqueue(sweepJob(deps, settings, name, { configFile, resultsFile, reportFile }, resume));
}

/** What to do with the results `resultsFile` already holds: 'none' when it holds none, undefined when the user cancelled. */
async function earlierResultsChoice(resultsFile: string): Promise<'none' | 'Resume' | 'Start Over' | undefined> {
  if (!(fs.existsSync(resultsFile) && fs.statSync(resultsFile).size > 0)) return 'none';
  return vscode.window.showWarningMessage(
    `GCCS: ${vscode.workspace.asRelativePath(resultsFile)} already has results.`,
    {
      modal: true,
      detail: 'Resume runs only the missing cells (same attacks, grid and samples); Start Over deletes the old results when the new sweep starts.',
    },
    'Resume',
    'Start Over',
  );
}

/** The picker's items with a separator before the presets and one before the attacks. */
function withSeparators(items: AttackPickItem[]): (AttackPickItem | vscode.QuickPickItem)[] {
  return items.flatMap((item, i) =>
    i === 0 || items[i - 1].group !== item.group ? [{ label: item.group, kind: vscode.QuickPickItemKind.Separator }, item] : [item],
  );
}

/**
 * Asks for the sample count and shows the time estimate of the sweep with that many (its model
 * timed in a worker; resuming `resumeFrom`, only the cells it lacks, and no dialog when it lacks
 * none) until the user starts it (the sweep configuration) or cancels (undefined).
 */
async function confirmedConfig(
  deps: CommandDeps,
  settings: Settings,
  configOf: (count: number) => SweepConfig,
  resumeFrom: string | undefined,
): Promise<SweepConfig | undefined> {
  for (let count = settings.sampleCount; ;) {
    const countText = await vscode.window.showInputBox({
      title: 'GCCS: samples',
      prompt: 'Attack the first N test samples',
      value: String(count),
      validateInput: countProblem,
    });
    if (countText === undefined) return undefined;
    count = Number(countText);
    const config = configOf(count);
    let estimate;
    try {
      estimate = await vscode.window.withProgress({ location: { viewId: VIEW_ID }, title: 'GCCS: timing the model for the estimate' }, () =>
        estimateSweep(config, { workers: settings.workers, backend: settings.backend, env: nativeEnv(deps.nativeDir, deps.log), resumeFrom }),
      );
    } catch (error) {
      deps.log.error(`time estimate: ${(error as Error).message}`);
      void vscode.window.showErrorMessage(`GCCS: ${(error as Error).message}`);
      return undefined;
    }
    if (estimate.runs === 0) return config;
    const { message, detail } = estimateDialog(estimate, resumeFrom === undefined ? '' : ' not yet in the results file');
    const choice = await vscode.window.showInformationMessage(message, { modal: true, detail }, ESTIMATE_CHOICES.start, ESTIMATE_CHOICES.fewer);
    if (choice === ESTIMATE_CHOICES.start) return config;
    if (choice !== ESTIMATE_CHOICES.fewer) return undefined;
  }
}

/** The sweep of `configFile` as a job: run in this process on the engine's pool of workers; the panel is given what it received. */
interface SweepFiles {
  configFile: string;
  resultsFile: string;
  reportFile: string;
}

function sweepJob(deps: CommandDeps, settings: Settings, name: string, files: SweepFiles, resume: boolean): Job {
  const { resultsFile, reportFile } = files;
  return {
    title: `Robustness of ${name}`,
    run: async ({ signal, report, log }) => {
      const sweep = await runHostSweep({
        ...files,
        resume,
        // 0: one per core.
        workers: settings.workers || undefined,
        backend: settings.backend,
        process: { env: nativeEnv(deps.nativeDir, log) },
        signal,
        onEvent: (event) => {
          if (event.type === 'workerReady') log.info(`${name}: worker ${event.pid}: backend ${event.backend} (${event.detail})`);
          if (event.type === 'cellDone') report(`${event.finished}/${event.total} cells`, event.finished / event.total);
          const line = sweepEventLine(event, resultsFile);
          if (line !== undefined) log.info(`${name}: ${line}`);
        },
      });
      // The tables and warnings, as the CLI prints them.
      formatSummary(sweep.summary).forEach((line) => log.info(`${name}: ${line}`));
      deps.panels.show(resultsFiles(settings.resultsFolder), { file: resultsFile, results: sweep.results, summary: sweep.summary });
      return `robustness of ${name}: results in ${vscode.workspace.asRelativePath(resultsFile)}, report ${vscode.workspace.asRelativePath(reportFile)}`;
    },
  };
}
