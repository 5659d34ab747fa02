/**
 * The one message protocol between a background worker process (src/worker/) and its host (the
 * CLI, the VS Code extension host), and between the extension host and its webviews. No vscode, no
 * TensorFlow.js. What a webview sends is declared once as a run-time check (src/messageCheck.ts)
 * whose result type is the message type: the host checks every message before it uses it.
 */
import type { BackendName } from './core/backend';
import { WEBVIEW_LIMITS } from './core/limits';
import { Checked, array, finite, integer, object, oneOf, optional, someFields, tagged, text } from './messageCheck';
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
  | { type: 'log'; message: string }
  /** Sent every WORKER_LIMITS.heartbeatIntervalMs while the worker's event loop runs; a worker silent for heartbeatTimeoutMs is hung. */
  | { type: 'heartbeat' };

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

// ---- Checks of what webviews send (shape, allowed values, sizes). Paths are absolute here; the
// host also requires them inside the workspace or confirmed by the user (src/host/folderConsent.ts).

/** An absolute file path (POSIX, or Windows drive / UNC), no NUL. */
const absolutePath = text({ maxLength: WEBVIEW_LIMITS.pathChars, pattern: /^(?:\/|[A-Za-z]:[\\/]|\\\\)[^\0]*$/, what: 'an absolute path' });
/** An export's suggested file name (webview/export.ts slug): no separators, no leading dot. */
const exportName = text({ maxLength: WEBVIEW_LIMITS.exportNameChars, pattern: /^[a-z0-9][a-z0-9.-]*$/, what: 'a file name of a-z, 0-9, "." and "-"' });
/** A PNG as a base64 data URL: the PNG signature (iVBORw0KGgo) first. */
const pngDataUrl = text({ maxLength: WEBVIEW_LIMITS.exportChars, pattern: /^data:image\/png;base64,iVBORw0KGgo[A-Za-z0-9+/]*={0,2}$/, what: 'a base64 PNG data URL' });

/** Webview → host, from every panel: save an export where the user picks (src/host/exportFile.ts); `name` is the file name without extension. */
const saveMessages = {
  /** Save a chart as PNG: `dataUrl` from chart.toBase64Image('image/png'). */
  savePng: { name: exportName, dataUrl: pngDataUrl },
  /** Save a table (or a chart's points) as CSV text. */
  saveCsv: { name: exportName, csv: text({ maxLength: WEBVIEW_LIMITS.exportChars }) },
};

/** Webview → host (robustness panel): `ready` when the script runs and wants its data. */
export const checkWebviewToHost = tagged({ ready: {}, ...saveMessages });
export type WebviewToHost = Checked<typeof checkWebviewToHost>;
export type SaveMessage = Extract<WebviewToHost, { type: 'savePng' | 'saveCsv' }>;

/** What the host reads of a restored robustness panel's saved state (PanelState). */
export const checkRestoredPanel = someFields({ sources: optional(array(absolutePath, WEBVIEW_LIMITS.panelSources)) });

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
const checkLatentRequest = object({
  count: integer(1, WEBVIEW_LIMITS.latentSamples),
  attack: oneOf('none', 'fgsm', 'pgd', 'tgsm'),
  eps: finite(0, 1),
});
export type LatentRequest = Checked<typeof checkLatentRequest>;
/** The latent panel's first request: the one home of its defaults (host and webview). */
export const LATENT_DEFAULTS: LatentRequest = { count: 500, attack: 'none', eps: 0.1 };

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

export const checkLatentToHost = tagged({
  /** The script runs; `modelDir` from its saved state, if any. */
  ready: { modelDir: optional(absolutePath), request: checkLatentRequest },
  /** Recompute with another sample count or attack. */
  request: { request: checkLatentRequest },
  /** Pick another model folder. */
  pickModel: {},
  /** The chart was drawn with this many points (clean and attacked); Show Latent Space resolves with it. */
  drawn: { points: integer(0, 2 * WEBVIEW_LIMITS.latentSamples) },
  ...saveMessages,
});
export type LatentToHost = Checked<typeof checkLatentToHost>;

/** What the host reads of a restored latent panel's saved state (LatentState). */
export const checkRestoredLatent = someFields({ modelDir: optional(absolutePath), request: optional(checkLatentRequest) });

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
export const checkTrainingToHost = tagged({
  /** The script runs; `outDir` from its saved state, if any. */
  ready: { outDir: optional(absolutePath) },
  /** The curves were drawn with this many epochs; Show Training resolves with it. */
  drawn: { epochs: integer(0, Number.MAX_SAFE_INTEGER) },
  ...saveMessages,
});
export type TrainingToHost = Checked<typeof checkTrainingToHost>;

/** What the host reads of a restored training panel's saved state (TrainingState). */
export const checkRestoredTraining = someFields({ outDir: optional(absolutePath) });
