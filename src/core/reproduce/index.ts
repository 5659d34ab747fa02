/** `gccs reproduce`: the paper's comparison (plan.ts: which models and settings; run.ts: training and evaluation; report.ts: the tables). */
export {
  ATTACK_DEFAULTS,
  DEFAULT_SCALE,
  PAPER_MODELS,
  ROBUSTNESS_PRESET,
  SCALES,
  SCALE_NAMES,
  SPSA_TABLE_MODELS,
  paperEps,
  planReproduction,
  settingsHash,
} from './plan';
export type { PlannedModel, PlannedModelSpec, ReproduceRequest, ReproduceScale, ReproductionPlan, ScaleName } from './plan';
export { RUN_MARKER, isReproductionCancelled, runReproduction } from './run';
export type { ModelEvaluation, ModelOutcome, ReproduceEvent, ReproduceOptions, ReproductionOutcome } from './run';
export { machineDescription, reportData, reproduce, writeReproductionReport } from './report';
export type { ReportContext, ReportFiles } from './report';
export { reproduceEventLine, reproduceTracker } from './progress';
export type { ReproduceStep } from './progress';
