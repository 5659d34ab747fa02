/**
 * GCCS: Train: runs an experiment file (*.gccs.json) in a background worker as a job.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ExperimentError, loadExperiment } from '../workspace/experiment';
import { nativeEnv } from './nativeBackend';
import { folderWriteProblem } from '../workspace/preflight';
import { readSettings } from '../workspace/settings';
import { runTrainWorker } from '../jobs/trainWorker';
import type { TrainEvent } from '../../core/train/trainer';
import { isExperimentFile } from '../../core/io/modelLocation';
import { newExperimentWizard } from './newExperiment';
import { CommandDeps, errorWithFile } from './deps';

/** An existing experiment: the only one in the workspace, a pick among several, or a file dialog when there is none. */
async function pickExperimentFile(): Promise<vscode.Uri | undefined> {
  // A model's sidecar (net.onnx.gccs.json, model.json.gccs.json) is not an experiment.
  const found = (await vscode.workspace.findFiles('**/*.gccs.json', '**/node_modules/**', 50)).filter((uri) => isExperimentFile(uri.fsPath));
  if (found.length === 0) {
    const picked = await vscode.window.showOpenDialog({
      title: 'GCCS: experiment to train',
      canSelectMany: false,
      filters: { 'GCCS experiment': ['json'] },
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    });
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
  if (active && active.uri.scheme === 'file' && isExperimentFile(active.fileName)) {
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
  const name = path.basename(file.fsPath);
  // One run per experiment file: a second Train while it trains (or waits) would only repeat it.
  if (inFlight.has(file.fsPath)) {
    void vscode.window.showInformationMessage(`GCCS: ${name} is already training or queued; cancel it first (GCCS: Cancel Job) to start over.`);
    return;
  }
  const settings = readSettings();
  inFlight.add(file.fsPath);
  await deps.runner
    .enqueue({
      title: `Training ${name}`,
      run: async ({ signal, report, log }) => {
        deps.trainingProgress?.(file.fsPath, 0);
        const progress = trainingProgress(name, config.epochs, log, (message, fraction) => {
          deps.trainingProgress?.(file.fsPath, fraction);
          report(message, fraction);
        });
        const { outDir, testAccuracy } = await runTrainWorker(config, {
          backend: settings.backend,
          env: nativeEnv(deps.nativeDir, log),
          signal,
          onLog: (line) => log.info(line),
          onEvent: progress,
        }).finally(() => deps.trainingProgress?.(file.fsPath, undefined));
        return `trained ${name}: test accuracy ${(100 * testAccuracy).toFixed(2)}%, model in ${vscode.workspace.asRelativePath(outDir)}`;
      },
    })
    .finally(() => inFlight.delete(file.fsPath));
}

/** Experiment files training now or queued. */
const inFlight = new Set<string>();

/** Turns the engine's training events into log lines and step progress (a fraction of all steps). */
function trainingProgress(
  name: string,
  plannedEpochs: number,
  log: vscode.LogOutputChannel,
  report: (message: string, fraction: number) => void,
): (event: TrainEvent) => void {
  let epochs = plannedEpochs;
  return (event) => {
    switch (event.type) {
      case 'start':
        epochs = event.epochs;
        return log.info(
          `${name}: ${event.trainCount} train / ${event.validationCount} validation / ${event.testCount} test, ${event.epochs} epochs × ${event.stepsPerEpoch} steps on ${event.backend}`,
        );
      case 'warning':
        return log.warn(`${name}: ${event.message}`);
      case 'step':
        return report(
          `epoch ${event.epoch}/${epochs}, step ${event.step}/${event.steps}, loss ${event.loss.toFixed(4)}`,
          (event.epoch - 1 + event.step / event.steps) / epochs,
        );
      case 'epoch': {
        const r = event.record;
        const validation = r.validationAccuracy === null ? '' : `, validation ${(100 * r.validationAccuracy).toFixed(2)}%`;
        return log.info(
          `${name}: epoch ${r.epoch}/${epochs}: loss ${r.loss.toFixed(4)}, train ${(100 * r.trainAccuracy).toFixed(2)}%${validation} (${r.seconds.toFixed(1)} s)`,
        );
      }
    }
  };
}
