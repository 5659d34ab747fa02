/**
 * The one message protocol between a background worker process (src/worker/) and its host: the CLI
 * now, the VS Code extension host and its webviews later. Types only: no vscode, no TensorFlow.js.
 */
import type { BackendName } from './core/backend';
import type { CellEvaluation, SweepCell } from './core/sweep/types';

/** Host → worker. */
export type HostRequest =
  /** First message: initialize the backend; the worker answers `ready` (or `error`). */
  | { type: 'init'; backend: BackendName }
  /** Evaluate one cell; one at a time. Answered by `progress`…, then `cellDone`, `cancelled` or `error`. */
  | { type: 'runCell'; cell: SweepCell }
  /** Abort the running cell (between two attack iterations); ignored when idle. */
  | { type: 'cancel' };

/** Worker → host. */
export type WorkerMessage =
  | { type: 'ready'; backend: string; detail: string }
  | { type: 'progress'; cellId: string; done: number; total: number }
  | { type: 'cellDone'; result: CellEvaluation }
  | { type: 'cancelled'; cellId: string }
  /** A failed request; `cellId` when a cell failed. User errors are bad input, shown as one line. */
  | { type: 'error'; cellId?: string; message: string; isUserError: boolean }
  | { type: 'log'; message: string };
