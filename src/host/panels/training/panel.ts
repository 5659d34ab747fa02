/**
 * The training panel (webview type gccs.training, script dist/webview/training.js): loss and
 * accuracy per epoch of one model folder, from its gccs.json (finished) or checkpoint (interrupted),
 * and live from the events of a training run (trainWorker.ts onTraining). Restored by its serializer.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TrainConfig } from '../../../core/train/trainer';
import { HostToTraining, RestoredTraining, TrainingData, TrainingToHost, checkRestoredTraining, checkTrainingToHost } from './messages';
import { modelFolderOf } from '../../../core/io/modelLocation';
import { DrawnSignal } from '../drawnSignal';
import type { FolderConsent } from '../../workspace/folderConsent';
import { FeatureMessage, Panels, ReadyMessage } from '../panel';
import { TrainingInputError, convergedField, epochCount, trainingData, withEpoch } from './data';
import { TrainingNotice, onTraining } from '../../jobs/trainWorker';

export const TRAINING_PANEL_TYPE = 'gccs.training';
/** workspaceState key: the model folder the training panel showed last. */
const LAST_SHOWN_KEY = 'gccs.training.lastShown';

export class TrainingPanels extends Panels<HostToTraining, TrainingToHost, RestoredTraining> {
  private data: TrainingData | undefined;
  /** The run going on now, which Show Training without a folder shows. */
  private live: TrainingData | undefined;
  /** The folder a restored panel showed (its saved state), for a replacement panel that has none. */
  private restoredOutDir: string | undefined;
  private readonly drawnEpochs = new DrawnSignal<number>();

  /**
   * `memory` keeps the folder last shown: a panel restored after a reload usually finds it in its
   * webview state, but a browser reload (code-server) can lose the state a webview set just before it.
   */
  constructor(
    extensionUri: vscode.Uri,
    log: vscode.LogOutputChannel,
    consent: FolderConsent,
    private readonly memory?: vscode.Memento,
  ) {
    super(extensionUri, log, consent, {
      type: TRAINING_PANEL_TYPE,
      title: 'GCCS Training',
      script: 'training',
      checkToHost: checkTrainingToHost,
      messagePaths: (m) => (m.type === 'ready' ? [m.outDir] : []),
      checkRestored: checkRestoredTraining,
      restoredPaths: (s) => [s.outDir],
    });
    this.disposables.push(onTraining((config, notice) => this.onTraining(config, notice)));
  }

  /**
   * GCCS: Show Training: the explorer's model folder / model.json / gccs.json, else the running
   * training, else a picked folder. Resolves with the number of epochs the panel drew.
   */
  async showCommand(uri?: vscode.Uri): Promise<number | undefined> {
    if (!(uri instanceof vscode.Uri) && this.live) return this.show(this.live);
    let location = uri instanceof vscode.Uri ? uri.fsPath : undefined;
    if (!location) {
      const picked = await vscode.window.showOpenDialog({ title: 'GCCS: model folder to show the training of', canSelectFiles: false, canSelectFolders: true, canSelectMany: false, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri });
      location = picked?.[0]?.fsPath;
      if (location) await this.consent.chosen(modelFolderOf(location));
    }
    if (!location) return undefined;
    try {
      return await this.show(trainingData(location));
    } catch (error) {
      if (!(error instanceof TrainingInputError)) throw error;
      void vscode.window.showErrorMessage(`GCCS: ${error.message}`);
      return undefined;
    }
  }

  private show(data: TrainingData): Promise<number | undefined> {
    this.data = data;
    const drawn = this.drawnEpochs.next(60_000);
    if (this.reveal()) this.postData();
    return drawn;
  }

  protected restore(state: RestoredTraining | undefined): void {
    this.restoredOutDir = state?.outDir;
  }

  protected async ready(message: ReadyMessage<TrainingToHost>): Promise<void> {
    // A restored panel reloads its folder: the run may have gone on or finished meanwhile.
    const outDir = this.data ? undefined : await this.restoredFolder(message.outDir ?? this.restoredOutDir);
    if (!this.data && outDir) {
      try {
        this.data = this.live?.outDir === outDir ? this.live : trainingData(outDir);
      } catch (error) {
        return this.post({ type: 'status', message: (error as Error).message, isError: true });
      }
    }
    if (this.data) return this.postData();
    this.post({ type: 'status', message: 'No training to show: start GCCS: Train, or run GCCS: Show Training on a model folder.', isError: false });
  }

  /**
   * The folder a restored panel shows: the one this workspace's panel showed last (the memento), else
   * the page's saved state. The memento first: a browser reload can restore an older webview state, or
   * none. It comes from an earlier session, whose consent to a folder outside the workspace is gone:
   * it is asked for again, like a saved state's paths.
   */
  private async restoredFolder(saved: string | undefined): Promise<string | undefined> {
    const remembered = this.memory?.get<unknown>(LAST_SHOWN_KEY);
    if (typeof remembered !== 'string' || remembered === saved) return saved;
    return (await this.consent.allow(remembered, `The GCCS Training panel asks to read ${remembered}, the folder it showed last.`)) ? remembered : saved;
  }

  protected override receive(message: FeatureMessage<TrainingToHost>): void {
    this.drawnEpochs.drawn(message.epochs);
  }

  protected override closed(): void {
    this.drawnEpochs.cancel();
  }

  private onTraining(config: TrainConfig, notice: TrainingNotice): void {
    const outDir = config.outDir;
    const base = this.live?.outDir === outDir ? this.live : undefined;
    switch (notice.type) {
      case 'start': {
        let epochs: TrainingData['epochs'] = [];
        // A resumed run starts with the checkpoint's epochs.
        if (notice.startEpoch > 1) {
          try {
            epochs = trainingData(outDir).epochs.filter((r) => r.epoch < notice.startEpoch);
          } catch {
            epochs = [];
          }
        }
        const status = `training: waiting for epoch ${notice.startEpoch}/${notice.epochs}`;
        const converged = convergedField(config.loss, notice.numClasses, config.batchSize, config.workers);
        this.live = { outDir, title: `Training: ${path.basename(outDir)}`, epochs, totalEpochs: notice.epochs, status, live: true, ...converged };
        break;
      }
      case 'epoch':
        if (!base) return;
        this.live = withEpoch(base, notice.record);
        break;
      case 'finished': {
        if (!base) return;
        const last = base.epochs.length ? ` at epoch ${base.epochs[base.epochs.length - 1].epoch}` : '';
        const status = notice.outcome === 'done' ? `finished: ${epochCount(base.epochs.length)}` : notice.outcome === 'cancelled' ? `cancelled${last}` : `failed${last}: ${notice.message}`;
        const ended = { ...base, status, live: false };
        this.live = undefined;
        if (this.data?.outDir === outDir) this.data = ended;
        return this.postData();
      }
      default:
        return;
    }
    // A panel that is open follows the newest run.
    if (this.panel && (notice.type === 'start' || this.data?.outDir === outDir)) {
      this.data = this.live;
      this.postData();
    }
  }

  private postData(): void {
    if (!this.data) return;
    this.post({ type: 'training', data: this.data });
    void this.memory?.update(LAST_SHOWN_KEY, this.data.outDir);
  }
}
