/**
 * GCCS: Compare Models: pick two or more model folders, .onnx files or results files; evaluates each
 * model's clean metrics and r_AB (an `evaluate` request to a worker, as `gccs eval` computes them, as a
 * job; a model without gccs.json, such as an .onnx file, on the data its results were attacked on) and
 * opens the robustness panel with their accuracy-vs-ε curves overlaid and the models table above them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { runWorkerJob } from '../../core/workerClient';
import { comparisonFiles, evaluationFile, evaluationIsCurrent, modelName, resultsModels } from '../panels/robustness/compareData';
import { readSettings } from '../workspace/settings';
import { needsData, resultsDataOf, splitOptionsOf } from '../workspace/modelData';
import type { CommandDeps } from './deps';
import { nativeEnv } from './nativeBackend';

export async function compareModelsCommand(deps: CommandDeps, _clicked?: vscode.Uri, selected?: vscode.Uri[]): Promise<void> {
  const { resultsFolder } = readSettings();
  // From the explorer with several items selected: those; else a picker.
  let picked = selected && selected.length > 1 ? selected : undefined;
  picked ??= await vscode.window.showOpenDialog({
    title: 'GCCS: Compare Models: two or more model folders, .onnx files or results files (*.jsonl)',
    canSelectFiles: true,
    canSelectFolders: true,
    canSelectMany: true,
    defaultUri: fs.existsSync(resultsFolder) ? vscode.Uri.file(resultsFolder) : vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  if (!picked?.length) return;
  const { files, problems } = comparisonFiles(picked.map((u) => u.fsPath), resultsFolder);
  if (problems.length) {
    void vscode.window.showErrorMessage(`GCCS: cannot compare: ${problems.join('; ')}`);
    return;
  }
  if (files.length < 2) {
    void vscode.window.showErrorMessage(`GCCS: Compare Models needs two or more models with results (got ${files.length}: ${files.map((f) => modelName(f)).join(', ') || 'none'}).`);
    return;
  }
  // Each evaluation is written beside its results file.
  for (const folder of new Set(files.map((file) => path.dirname(file)))) {
    if (!(await deps.consent.allow(folder, 'GCCS: Compare Models would write the clean evaluation of the models (<model>.eval.json) there.'))) return;
  }
  await deps.runner.enqueue({
    title: `Comparing ${files.length} models`,
    run: async ({ signal, report, log }) => {
      const settings = readSettings();
      for (const [i, file] of files.entries()) {
        // One evaluation per results file, redone when the model is newer than it or it predates the paper's r_AB.
        const [model] = resultsModels(file);
        const target = evaluationFile(file);
        if (!model || !fs.existsSync(model)) {
          log.warn(`${file}: its model ${model ?? '(none named)'} is gone: no clean metrics for it`);
          continue;
        }
        if (fs.existsSync(target) && fs.statSync(target).mtimeMs >= fs.statSync(model).mtimeMs && evaluationIsCurrent(target)) continue;
        const data = needsData(model) ? resultsDataOf(file, model) : undefined;
        report(`evaluating ${modelName(model)}`, i / files.length);
        const { evaluation } = await runWorkerJob({ type: 'evaluate', options: { model, ...(data && splitOptionsOf(data)) } }, 'evaluated', `evaluating ${modelName(model)}`, {
          backend: settings.backend,
          env: nativeEnv(deps.nativeDir, log),
          signal,
          onLog: (line) => log.info(line),
        });
        fs.writeFileSync(target, JSON.stringify(evaluation) + '\n');
        log.info(`${modelName(model)}: test accuracy ${(100 * evaluation.accuracy).toFixed(2)}%, r_AB ${evaluation.separation.mean.toFixed(3)}`);
      }
      deps.panels.show(files);
      return `compared ${files.map((f) => modelName(f)).join(', ')}`;
    },
  });
}
