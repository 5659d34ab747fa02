/**
 * Extension host ↔ training webview (webview/training.ts, src/host/panels/training/panel.ts).
 */
import type { EpochRecord } from '../../../core/io/modelDir';
import { absolutePath, saveMessages } from '../messages';
import { Checked, integer, optional, someFields, tagged } from '../messageCheck';

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
  /** A GCCS run: what its converged loss looks like (core/loss/converged.ts), to read the loss curve by. */
  converged?: string;
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
export type RestoredTraining = Checked<typeof checkRestoredTraining>;
