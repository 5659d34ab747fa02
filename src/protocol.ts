/**
 * The one message protocol between a background worker process (src/worker/) and its host: the CLI
 * now, the VS Code extension host and its webviews later. Types only: no vscode, no TensorFlow.js.
 */
import type { BackendName } from './core/backend';
import type { EpochRecord } from './core/io/modelDir';
import type { SweepSummary } from './core/sweep/summary';
import type { CellEvaluation, SweepCell } from './core/sweep/types';
import type { TrainConfig, TrainEvent } from './core/train/trainer';

/** Host → worker. */
export type HostRequest =
  /** First message: initialize the backend; the worker answers `ready` (or `error`). */
  | { type: 'init'; backend: BackendName }
  /** Evaluate one cell; one at a time. Answered by `progress`…, then `cellDone`, `cancelled` or `error`. */
  | { type: 'runCell'; cell: SweepCell }
  /** Train a model; one at a time. Answered by `trainEvent`…, then `trainDone`, `cancelled` or `error`. */
  | { type: 'train'; config: TrainConfig }
  /** Abort the running cell (between two attack iterations) or training (between two steps); ignored when idle. */
  | { type: 'cancel' };

/** Worker → host. */
export type WorkerMessage =
  | { type: 'ready'; backend: string; detail: string }
  | { type: 'progress'; cellId: string; done: number; total: number }
  | { type: 'cellDone'; result: CellEvaluation }
  /** `cellId` is "" when training was cancelled (its last epoch checkpoint stays usable). */
  | { type: 'cancelled'; cellId: string }
  /** One progress event of the engine's train(). */
  | { type: 'trainEvent'; event: TrainEvent }
  | { type: 'trainDone'; outDir: string; testAccuracy: number }
  /** A failed request; `cellId` when a cell failed. User errors are bad input, shown as one line. */
  | { type: 'error'; cellId?: string; message: string; isUserError: boolean }
  | { type: 'log'; message: string };

// ---- Extension host ↔ robustness webview (webview/robustness.ts, src/host/reportPanel.ts) ----

/** What the robustness panel shows: the summary of one or more sweeps' results. */
export interface PanelData {
  title: string;
  /** The results files the summary was made from. */
  sources: string[];
  summary: SweepSummary;
}

/** The panel's persisted state (vscode getState/setState, and the serializer's restore argument). */
export interface PanelState {
  /** The results files to reload when the panel comes back after a reload. */
  sources: string[];
  /** The last data shown, to draw at once when the panel becomes visible again. */
  data?: PanelData;
}

/** Host → webview. */
export type HostToWebview =
  | { type: 'show'; data: PanelData }
  /** The results could not be read: shown in the panel instead of a chart. */
  | { type: 'error'; message: string };

/** Webview → host, from every panel: save an export where the user picks (src/host/exportFile.ts); `name` is the file name without extension. */
export type SaveMessage =
  /** Save a chart as PNG: `dataUrl` from chart.toBase64Image('image/png'). */
  | { type: 'savePng'; name: string; dataUrl: string }
  /** Save a table (or a chart's points) as CSV text. */
  | { type: 'saveCsv'; name: string; csv: string };

/** Webview → host. */
export type WebviewToHost =
  /** The script is running and wants its data. */
  | { type: 'ready' }
  | SaveMessage;

// ---- Extension host ↔ latent space webview (webview/latent.ts, src/host/latentPanel.ts) ----

/** One sample's outputs z, and its outputs after the attack when one was asked for. */
export interface LatentSample {
  label: number;
  z: number[];
  zAttacked?: number[];
}

/** Latent vectors of one model, from `gccs latent --json`. */
export interface LatentData {
  /** The model folder (or its checkpoint/ during training). */
  modelDir: string;
  title: string;
  /** Where the points come from, e.g. "test split, 500 samples, checkpoint after epoch 3". */
  detail: string;
  classNames: string[];
  dims: number;
  /** μ_T of a GCCS model; null for cross-entropy. */
  muT: number | null;
  attack: { name: string; eps: number } | null;
  samples: LatentSample[];
}

/** What the host computes: the samples and the attack. Projection and classes are the webview's own. */
export interface LatentRequest {
  count: number;
  attack: 'none' | 'fgsm' | 'pgd' | 'tgsm';
  eps: number;
}

export interface LatentView {
  projection: 'vertices' | 'simplex' | 'pca';
  /** 2 or 3 classes for the vertex plane; the classes drawn otherwise (empty: all). */
  classes: number[];
}

export interface LatentState {
  modelDir?: string;
  request: LatentRequest;
  view: LatentView;
  data?: LatentData;
}

export type HostToLatent =
  | { type: 'latent'; data: LatentData }
  /** A computation started (busy) or failed; the panel says it instead of staying blank. */
  | { type: 'status'; message: string; busy: boolean; isError: boolean };

export type LatentToHost =
  /** The script runs; `modelDir` from its saved state, if any. */
  | { type: 'ready'; modelDir?: string; request: LatentRequest }
  /** Recompute with another sample count or attack. */
  | { type: 'request'; request: LatentRequest }
  /** Pick another model folder. */
  | { type: 'pickModel' }
  /** The chart was drawn with this many points (clean and attacked); Show Latent Space resolves with it. */
  | { type: 'drawn'; points: number }
  | SaveMessage;

// ---- Extension host ↔ training webview (webview/training.ts, src/host/trainingPanel.ts) ----

export interface TrainingData {
  /** The model's output folder. */
  outDir: string;
  title: string;
  /** Finished epochs, in order. */
  epochs: EpochRecord[];
  /** Planned epochs (the x axis), ≥ epochs.length. */
  totalEpochs: number;
  /** "training: epoch 3/10", "finished", "cancelled at epoch 2", … */
  status: string;
  live: boolean;
}

export interface TrainingState {
  outDir?: string;
  data?: TrainingData;
}

export type HostToTraining = { type: 'training'; data: TrainingData } | { type: 'status'; message: string; isError: boolean };
export type TrainingToHost =
  | { type: 'ready'; outDir?: string }
  /** The curves were drawn with this many epochs; Show Training resolves with it. */
  | { type: 'drawn'; epochs: number }
  | SaveMessage;
