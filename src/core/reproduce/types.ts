/**
 * The types a reproduction's worker sends its host (src/core/protocol.ts `reproduceEvent`,
 * `reproduceDone`): type imports only, so the protocol depends on nothing that runs.
 */
import type { EvaluationEvent } from '../robustness/evaluate';
import type { SweepEvent } from '../sweep/types';
import type { TrainEvent } from '../train/events';

/** What a run reports, in order. */
export type ReproduceEvent =
  /** First: what the run will do, in order (progress bars count these pieces). */
  | { type: 'plan'; models: string[]; figures: string[]; sweeps: string[] }
  | { type: 'model'; id: string; action: 'reuse' | 'train' | 'resume'; dir: string }
  | { type: 'train'; id: string; event: TrainEvent }
  | { type: 'evaluation'; id: string; action: 'reuse' | 'run'; file: string }
  | { type: 'evaluationProgress'; id: string; event: EvaluationEvent }
  | { type: 'figure'; id: string; action: 'reuse' | 'run'; file: string }
  | { type: 'sweep'; name: string; file: string; event: SweepEvent };

/** report.{json,md,html} in the run's folder. */
export interface ReportFiles {
  json: string;
  markdown: string;
  html: string;
}
