/**
 * The VS Code extension host: orchestration only. Training and attacks run in child processes
 * (dist/worker.js, dist/cli.js); this bundle never loads TensorFlow.js (a test checks it).
 * Every disposable is registered here, in context.subscriptions.
 */
import * as vscode from 'vscode';
import { cancelJobCommand, evaluateRobustnessCommand, openReportCommand, trainCommand } from './host/commands';
import { JobRunner } from './host/jobRunner';
import { ReportPanels } from './host/reportPanel';
import { enableNativeBackendCommand, nativeDirIn } from './host/nativeBackend';
import { compareModelsCommand } from './host/compare';
import { LatentPanels } from './host/latentPanel';
import { TrainingPanels } from './host/trainingPanel';

export function activate(context: vscode.ExtensionContext): void {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('GCCS', { log: true });
  const runner = new JobRunner(log);
  const panels = new ReportPanels(context.extensionUri, log);
  const deps = { extensionUri: context.extensionUri, runner, panels, log, nativeDir: nativeDirIn(context.globalStorageUri.fsPath) };
  const latent = new LatentPanels(context.extensionUri, log);
  const training = new TrainingPanels(context.extensionUri, log);
  context.subscriptions.push(
    log,
    runner,
    panels,
    vscode.commands.registerCommand('gccs.train', (uri?: vscode.Uri) => trainCommand(deps, uri)),
    vscode.commands.registerCommand('gccs.evaluateRobustness', (uri?: vscode.Uri) => evaluateRobustnessCommand(deps, uri)),
    vscode.commands.registerCommand('gccs.cancelJob', () => cancelJobCommand(deps)),
    vscode.commands.registerCommand('gccs.openReport', () => openReportCommand(deps)),
    vscode.commands.registerCommand('gccs.enableNativeBackend', () => enableNativeBackendCommand({ ...deps, cliFile: vscode.Uri.joinPath(context.extensionUri, 'dist', 'cli.js').fsPath })),
    latent,
    training,
    vscode.commands.registerCommand('gccs.showLatentSpace', (uri?: vscode.Uri) => latent.showCommand(uri)),
    vscode.commands.registerCommand('gccs.showTraining', (uri?: vscode.Uri) => training.showCommand(uri)),
    vscode.commands.registerCommand('gccs.compareModels', (uri?: vscode.Uri, selected?: vscode.Uri[]) => compareModelsCommand(deps, uri, selected)),
  );
  log.info(`activated in ${(performance.now() - started).toFixed(1)} ms`);
}

export function deactivate(): void {
  // Everything is in context.subscriptions: the runner's dispose cancels a running job.
}
