/**
 * The one message protocol between a background worker process (src/worker/) and its host (the
 * CLI, the sweep pool, the VS Code extension host). Types only: no vscode, no TensorFlow.js. The
 * messages between the extension host and its webviews are in src/host/panels/ (one module per panel).
 */
import type { BackendName } from './backend';
import type { CellEvaluation, SweepCell } from './sweep/types';
import type { TrainConfig, TrainEvent } from './train/trainer';

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
