/**
 * The one message protocol between a worker process (src/worker/) and its host: the CLI, the
 * sweep pool, the data-parallel training leader and the VS Code extension host all speak it, through
 * src/core/workerClient.ts. Types only: no vscode, no TensorFlow.js. The messages between the
 * extension host and its webviews are in src/host/panels/ (one module per panel).
 *
 * Every worker starts with `init` (→ `ready`), then serves one request at a time, in arrival order;
 * `cancel` is handled at once. It sends `heartbeat` while its event loop runs, so a host can tell a
 * hung worker from a busy one.
 */
import type { BackendName } from './backend';
import type { ExamplesOptions, ExamplesOutput, LatentOptions, LatentOutput, ModelEvaluation, ModelSplitOptions } from './inspect/types';
import type { LossConfig } from './loss';
import type { PassTimes } from './robustness/estimate';
import type { ReproduceRequest } from './reproduce/plan';
import type { ReportFiles, ReproduceEvent } from './reproduce/types';
import type { CellEvaluation, SweepCell } from './sweep/types';
import type { io } from './tf';
import type { TrainConfig } from './train/config';
import type { TrainEvent } from './train/events';
import type { OptimizerConfig } from './train/options';

/** Host → worker. */
export type HostRequest =
  /** First message: initialize the backend; the worker answers `ready` (or `error`). */
  | { type: 'init'; backend: BackendName }
  /** Evaluate one sweep cell. Answered by `progress`…, then `cellDone`, `cancelled` or `error`. */
  | { type: 'runCell'; cell: SweepCell }
  /** Train a model. Answered by `trainEvent`…, then `trainDone`, `cancelled` or `error`. */
  | { type: 'train'; config: TrainConfig }
  /** The outputs z of a model's first samples (the latent panel). Answered by `latentDone` or `error`. */
  | { type: 'latent'; options: LatentOptions }
  /** Clean metrics of a model on a split (Compare Models). Answered by `evaluated` or `error`. */
  | { type: 'evaluate'; options: ModelSplitOptions }
  /** Time one batch of each model's forward and forward + backward passes (the time estimate). Answered by `calibrated` or `error`. */
  | { type: 'calibrate'; models: string[]; batchSize: number }
  /**
   * The first samples of a sweep cell, clean and attacked as the cell attacked them (the robustness panel's gallery).
   * Answered by `examplesDone` or `error`.
   */
  | { type: 'examples'; options: ExamplesOptions }
  /** The paper's comparison (`gccs reproduce`), `workers` processes for its attack sweeps. Answered by `reproduceEvent`…, then `reproduceDone`, `cancelled` or `error`. */
  | { type: 'reproduce'; request: ReproduceRequest; workers: number }
  /** Abort the running cell (between two attack iterations), training (between two steps) or reproduction; ignored when idle. */
  | { type: 'cancel' }
  | ReplicaRequest;

/**
 * A data-parallel training leader → its replica workers (src/core/train/dataParallel.ts), after
 * `init`. `replicaStep` is answered by `gradients`, `digest` by `digest`; the updates are not answered.
 */
export type ReplicaRequest =
  /** The model, its weights, the loss and (when replicas apply updates themselves) the optimizer state. Answered by `replicaReady`. */
  | {
      type: 'replicaInit';
      artifacts: io.ModelArtifacts;
      loss: LossConfig;
      optimizer: OptimizerConfig;
      optimizerState: { steps: number; slots: Float32Array[] } | null;
    }
  | { type: 'replicaStep'; x: Float32Array; shape: number[]; labels: Int32Array; dropoutSeed: number }
  /** Apply the leader's averaged gradients, as the leader does. */
  | { type: 'applyGradients'; gradients: Float32Array[]; learningRate: number }
  /** Take the leader's updated weights. */
  | { type: 'setWeights'; weights: Float32Array[] }
  | { type: 'digest' };

/** Worker → host. */
export type WorkerMessage =
  | { type: 'ready'; backend: string; detail: string }
  | { type: 'progress'; cellId: string; done: number; total: number }
  | { type: 'cellDone'; result: CellEvaluation }
  /** `cellId` is "" when a training was cancelled (its last epoch checkpoint stays usable). */
  | { type: 'cancelled'; cellId: string }
  /** One progress event of the engine's train(). */
  | { type: 'trainEvent'; event: TrainEvent }
  | { type: 'trainDone'; outDir: string; testAccuracy: number }
  | { type: 'latentDone'; data: LatentOutput }
  | { type: 'evaluated'; evaluation: ModelEvaluation }
  /** One per model of `calibrate`, in its order. */
  | { type: 'calibrated'; times: PassTimes[] }
  | { type: 'examplesDone'; data: ExamplesOutput }
  | { type: 'reproduceEvent'; event: ReproduceEvent }
  /** The report's files, and its HTML page as written (the extension shows it without reading the file back). */
  | { type: 'reproduceDone'; outDir: string; files: ReportFiles; html: string }
  /** A failed request; `cellId` when a cell failed. User errors are bad input, shown as one line. */
  | { type: 'error'; cellId?: string; message: string; isUserError: boolean }
  | { type: 'log'; message: string }
  /** Sent every WORKER_LIMITS.heartbeatIntervalMs while the worker's event loop runs; a worker silent for heartbeatTimeoutMs is hung. */
  | { type: 'heartbeat' }
  | ReplicaMessage;

/** A replica worker → its leader. */
export type ReplicaMessage =
  | { type: 'replicaReady' }
  | { type: 'gradients'; gradients: Float32Array[]; loss: number; hits: number }
  | { type: 'digest'; digest: string };
