/**
 * The VS Code extension host: orchestration only. Training and attacks run in child processes
 * (dist/worker.js, dist/cli.js); this bundle never loads TensorFlow.js (a test checks it).
 * Every disposable is registered here, in context.subscriptions. In Restricted Mode the commands
 * that run workspace content explain that they need trust (host/workspace/trust.ts); the rest still work.
 */
import * as vscode from 'vscode';
import { trainCommand } from './host/commands/train';
import { evaluateRobustnessCommand } from './host/commands/evaluateRobustness';
import { reproduceCommand } from './host/commands/reproduce';
import { cancelJobCommand, openReportCommand } from './host/commands/openReport';
import { JobRunner } from './host/jobs/jobRunner';
import { RobustnessPanels } from './host/panels/robustness/panel';
import { enableNativeBackendCommand, nativeDirIn } from './host/commands/nativeBackend';
import { compareModelsCommand } from './host/commands/compare';
import { LatentPanels } from './host/panels/latent/panel';
import { TrainingPanels } from './host/panels/training/panel';
import { registerTrustedCommand, workspaceConsent } from './host/workspace/trust';
import { GccsView, VIEW_ID, deleteCheckpointCommand } from './host/sidebar/view';
import { newExperimentWizard } from './host/commands/newExperiment';
import { ModelDataMemory } from './host/workspace/modelData';

/** What activate() returns: the GCCS view's rows, for the integration tests. */
export interface GccsExports {
  view: GccsView;
}

export function activate(context: vscode.ExtensionContext): GccsExports {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('GCCS', { log: true });
  const runner = new JobRunner(log);
  const consent = workspaceConsent(context.workspaceState);
  const panels = new RobustnessPanels(context.extensionUri, log, consent);
  const view = new GccsView();
  const modelData = new ModelDataMemory(context.workspaceState);
  const deps = {
    extensionUri: context.extensionUri,
    runner,
    panels,
    log,
    nativeDir: nativeDirIn(context.globalStorageUri.fsPath),
    consent,
    modelData,
    trainingProgress: view.setProgress.bind(view),
  };
  const latent = new LatentPanels(context.extensionUri, log, consent, modelData);
  const training = new TrainingPanels(context.extensionUri, log, consent, context.workspaceState);
  context.subscriptions.push(
    log,
    runner,
    panels,
    registerTrustedCommand('gccs.train', (uri?: vscode.Uri) => trainCommand(deps, uri)),
    registerTrustedCommand('gccs.evaluateRobustness', (uri?: vscode.Uri) => evaluateRobustnessCommand(deps, uri)),
    registerTrustedCommand('gccs.reproducePaper', () => reproduceCommand(deps)),
    vscode.commands.registerCommand('gccs.cancelJob', () => cancelJobCommand(deps)),
    vscode.commands.registerCommand('gccs.openReport', (uri?: vscode.Uri) => openReportCommand(deps, uri)),
    registerTrustedCommand('gccs.enableNativeBackend', () => enableNativeBackendCommand({ ...deps, cliFile: vscode.Uri.joinPath(context.extensionUri, 'dist', 'cli.js').fsPath })),
    latent,
    training,
    registerTrustedCommand('gccs.showLatentSpace', (uri?: vscode.Uri) => latent.showCommand(uri)),
    vscode.commands.registerCommand('gccs.showTraining', (uri?: vscode.Uri) => training.showCommand(uri)),
    registerTrustedCommand('gccs.compareModels', (uri?: vscode.Uri, selected?: vscode.Uri[]) => compareModelsCommand(deps, uri, selected)),
    view,
    vscode.window.createTreeView(VIEW_ID, { treeDataProvider: view, canSelectMany: true, showCollapseAll: false }),
    vscode.commands.registerCommand('gccs.refreshView', () => view.refresh()),
    // Writes a new experiment file only (Train runs it, behind the trust check).
    vscode.commands.registerCommand('gccs.newExperiment', () => newExperimentWizard()),
    vscode.commands.registerCommand('gccs.deleteCheckpoint', (uri?: vscode.Uri) => deleteCheckpointCommand(view, uri)),
  );
  log.info(`activated in ${(performance.now() - started).toFixed(1)} ms`);
  return { view };
}

export function deactivate(): void {
  // Everything is in context.subscriptions: the runner's dispose cancels a running job.
}
