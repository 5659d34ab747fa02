/**
 * The latent space panel (webview type gccs.latent, script dist/webview/latent.js). The host asks
 * a worker for the shown model's z (compute.ts, a `latent` request) and posts the points; the webview projects
 * and draws them. The panel follows the work: it reloads when the model's files change on disk,
 * switches to the model of the active *.gccs.json experiment, and during a training shows the
 * checkpoint written at each epoch end. Restored after a reload by its serializer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TrainConfig } from '../../../core/train/trainer';
import { HostToLatent, LatentRequest, LatentToHost, RestoredLatent, checkLatentToHost, checkRestoredLatent } from './messages';
import { ExperimentError, loadExperiment } from '../../workspace/experiment';
import { LATENT_DEFAULTS, LatentInputError, modelFolder } from './data';
import { LatentTarget, computeLatentData } from './compute';
import { DrawnSignal } from '../drawnSignal';
import type { FolderConsent } from '../../workspace/folderConsent';
import { FeatureMessage, Panels, ReadyMessage } from '../panel';
import { TrainingNotice, onTraining } from '../../jobs/trainWorker';
import { UserError } from '../../../core/errors';
import { JobCancelled } from '../../../core/workerClient';
import { META_FILE, isExperimentFile, isOnnxFile, modelFolderOf, onnxSidecarOf } from '../../../core/io/modelLocation';
import { ModelDataMemory, needsData } from '../../workspace/modelData';
import { modelData } from '../../commands/modelData';

export const LATENT_PANEL_TYPE = 'gccs.latent';

export class LatentPanels extends Panels<HostToLatent, LatentToHost, RestoredLatent> {
  private target: LatentTarget | undefined;
  private request: LatentRequest = LATENT_DEFAULTS;
  private running: AbortController | undefined;
  private watcher: vscode.FileSystemWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private readonly drawnPoints = new DrawnSignal<number>();
  /** modelFilesVersion of the model z was last computed from. */
  private computedVersion = '';
  /** The model folder a restored panel showed (its saved state), for a replacement panel that has none. */
  private restoredModelDir: string | undefined;

  constructor(
    extensionUri: vscode.Uri,
    log: vscode.LogOutputChannel,
    consent: FolderConsent,
    private readonly modelData: ModelDataMemory,
  ) {
    super(extensionUri, log, consent, {
      type: LATENT_PANEL_TYPE,
      title: 'GCCS Latent Space',
      script: 'latent',
      checkToHost: checkLatentToHost,
      messagePaths: (m) => (m.type === 'ready' ? [m.modelDir] : []),
      checkRestored: checkRestoredLatent,
      restoredPaths: (s) => [s.modelDir],
    });
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor((editor) => this.followExperiment(editor?.document)),
      onTraining((config, notice) => this.onTraining(config, notice)),
      // Trusted now: compute what Restricted Mode left waiting.
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.compute()),
    );
  }

  /**
   * GCCS: Show Latent Space: on the explorer's model.json / gccs.json / folder / experiment / .onnx
   * file, else the active experiment, else a picked folder. A model without gccs.json (an .onnx
   * file) is run on the data last chosen for it, else asked. Resolves with the number of points the
   * panel drew (undefined if it did not draw within 3 minutes or the input was refused).
   */
  async showCommand(uri?: vscode.Uri): Promise<number | undefined> {
    let location = uri instanceof vscode.Uri ? uri.fsPath : undefined;
    const active = vscode.window.activeTextEditor?.document;
    if (!location && isExperimentFile(active?.fileName)) location = active!.fileName;
    if (!location) {
      location = await pickModelFolder();
      if (!location) return;
      await this.consent.chosen(modelFolderOf(location));
    }
    try {
      const modelDir = isExperimentFile(location) ? experimentModel(location) : modelFolder(location);
      const data = await modelData(this.modelData, modelDir, { remembered: 'use' });
      if (data === undefined) return undefined;
      const drawn = this.drawnPoints.next(180_000);
      this.reveal();
      this.follow({ modelDir, ...(data && { data }) });
      return await drawn;
    } catch (error) {
      if (!(error instanceof LatentInputError || error instanceof ExperimentError)) throw error;
      void vscode.window.showErrorMessage(`GCCS: ${error.message}`);
      return undefined;
    }
  }

  /** The script's `ready` carries the saved model folder and request too; kept here for a replacement panel. */
  protected restore(state: RestoredLatent | undefined): void {
    this.restoredModelDir = state?.modelDir;
    this.request = state?.request ?? LATENT_DEFAULTS;
  }

  protected ready(message: ReadyMessage<LatentToHost>): void {
    this.request = message.request;
    if (this.target) return void this.compute();
    // A panel restored while it showed a training's checkpoint shows the model folder instead.
    const modelDir = message.modelDir ?? this.restoredModelDir;
    if (modelDir) return this.followFolder(path.basename(modelDir) === 'checkpoint' ? path.dirname(modelDir) : modelDir);
    this.post({ type: 'status', message: 'No model yet: run GCCS: Show Latent Space on a model folder, or open a *.gccs.json experiment that has been trained.', busy: false, isError: false });
  }

  protected override receive(message: FeatureMessage<LatentToHost>): void {
    switch (message.type) {
      case 'request':
        this.request = message.request;
        return void this.compute();
      case 'pickModel':
        // Through the command: in Restricted Mode it explains why it needs trust.
        return void vscode.commands.executeCommand('gccs.showLatentSpace');
      case 'drawn':
        return this.drawnPoints.drawn(message.points);
    }
  }

  protected override closed(): void {
    this.target = undefined;
    this.running?.abort();
    this.watch(undefined);
    this.drawnPoints.cancel();
  }

  private followFolder(location: string): void {
    try {
      const modelDir = modelFolder(location);
      const data = this.modelData.get(modelDir);
      this.follow({ modelDir, ...(data && { data }) });
    } catch (error) {
      if (!(error instanceof LatentInputError)) throw error;
      this.post({ type: 'status', message: error.message, busy: false, isError: true });
    }
  }

  private follow(target: LatentTarget): void {
    this.target = target;
    this.watch(target.training ? undefined : target.modelDir);
    void this.compute();
  }

  /** Reload when the model is rewritten (a training finishing, gccs train from a terminal). */
  private watch(modelDir: string | undefined): void {
    this.watcher?.dispose();
    this.watcher = undefined;
    if (!modelDir) return;
    const [folder, files] = modelFiles(modelDir);
    this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(folder), `{${files.join(',')}}`));
    const reload = () => {
      clearTimeout(this.reloadTimer);
      // Several files change per save: wait for the last one.
      // A late event for files already computed from (e.g. the finished training's own writes) changes nothing.
      const stale = () => this.target?.modelDir === modelDir && !this.target.training && modelFilesVersion(modelDir) !== this.computedVersion;
      this.reloadTimer = setTimeout(() => stale() && void this.compute(), 700);
    };
    this.watcher.onDidChange(reload);
    this.watcher.onDidCreate(reload);
  }

  private followExperiment(document: vscode.TextDocument | undefined): void {
    if (!this.panel || !isExperimentFile(document?.fileName) || this.target?.training) return;
    try {
      const modelDir = experimentModel(document.fileName);
      if (modelDir !== this.target?.modelDir) this.follow({ modelDir });
    } catch (error) {
      this.post({ type: 'status', message: (error as Error).message, busy: false, isError: true });
    }
  }

  private onTraining(config: TrainConfig, notice: TrainingNotice): void {
    if (!this.panel) return;
    const modelDir = path.join(config.outDir, 'checkpoint');
    switch (notice.type) {
      case 'start':
        this.running?.abort();
        this.target = { modelDir, training: { config, epoch: 0 } };
        this.watch(undefined);
        return this.post({ type: 'status', message: `Training ${path.basename(config.outDir)}: the latent space appears after epoch ${notice.startEpoch}.`, busy: true, isError: false });
      case 'epoch':
        return this.follow({ modelDir, training: { config, epoch: notice.record.epoch } });
      case 'finished':
        if (this.target?.modelDir !== modelDir) return;
        // The finished model replaces the checkpoint; a failed run leaves its last checkpoint shown.
        if (notice.outcome === 'done') this.follow({ modelDir: config.outDir });
        else this.target = { modelDir };
        return;
    }
  }

  private async compute(): Promise<void> {
    const target = this.target;
    if (!target || !this.panel) return;
    if (!vscode.workspace.isTrusted) {
      return this.post({ type: 'status', message: 'Restricted Mode: computing the latent space runs the model, so it needs a trusted workspace. The points shown (if any) are the ones saved with this panel.', busy: false, isError: false });
    }
    const name = path.basename(target.training ? path.dirname(target.modelDir) : target.modelDir);
    if (!target.training && !target.data && needsData(target.modelDir)) {
      return this.post({ type: 'status', message: `${name} names no dataset (it has no gccs.json): run GCCS: Show Latent Space on it to choose its data.`, busy: false, isError: false });
    }
    this.running?.abort();
    const controller = new AbortController();
    this.running = controller;
    const attack = this.request.attack === 'none' ? '' : ` and ${this.request.attack.toUpperCase()} at ε = ${this.request.eps}`;
    this.post({ type: 'status', message: `Computing z of ${this.request.count} samples of ${name}${attack}…`, busy: true, isError: false });
    this.computedVersion = target.training ? '' : modelFilesVersion(target.modelDir);
    try {
      const data = await computeLatentData(target, this.request, { backend: 'auto', signal: controller.signal });
      if (this.running === controller) this.post({ type: 'latent', data });
    } catch (error) {
      if (error instanceof JobCancelled) return;
      const message = error instanceof UserError || error instanceof LatentInputError ? error.message : `${(error as Error).message} (see the GCCS log)`;
      this.log.error(`latent space of ${target.modelDir}: ${(error as Error).message}`);
      if (this.running === controller) this.post({ type: 'status', message, busy: false, isError: true });
      this.drawnPoints.cancel();
    } finally {
      if (this.running === controller) this.running = undefined;
    }
  }

  override dispose(): void {
    this.running?.abort();
    clearTimeout(this.reloadTimer);
    this.watcher?.dispose();
    super.dispose();
  }
}

/** The folder and names of a model's files: a model folder's model.json and gccs.json, an .onnx file and its sidecar. */
function modelFiles(model: string): [string, string[]] {
  if (isOnnxFile(model)) return [path.dirname(model), [path.basename(model), path.basename(onnxSidecarOf(model))]];
  return [model, ['model.json', META_FILE]];
}

/** The modification times of a model's files: changes when the model is rewritten. */
function modelFilesVersion(model: string): string {
  const [folder, files] = modelFiles(model);
  return files.map((file) => fs.statSync(path.join(folder, file), { throwIfNoEntry: false })?.mtimeMs ?? 0).join(':');
}

/** The model folder of an experiment file (its outDir); throws naming the file when it was not trained yet. */
function experimentModel(file: string): string {
  const { outDir } = loadExperiment(file);
  if (!fs.existsSync(path.join(outDir, 'model.json'))) {
    throw new LatentInputError(`${path.basename(file)}: not trained yet (no model in ${outDir}): run GCCS: Train on it first`);
  }
  return outDir;
}

async function pickModelFolder(): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title: 'GCCS: model folder (with model.json and gccs.json)',
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  return picked?.[0]?.fsPath;
}
