/** Robustness sweeps: models × attacks × grids, run on a pool of worker processes. */
export { SWEEP_DEFAULTS, SWEEP_SCHEMA, SweepConfigError, describeCell, loadSweepConfig, planSweep, validateSweepConfig } from './config';
export type { NormalizedSweep, SweepPlan } from './config';
export { CellEvaluator } from './evaluateCell';
export { parseGrid } from './grid';
export { SweepCancelled, runSweep } from './pool';
export type { SweepEvent, SweepOptions, SweepResult } from './pool';
export { renderReport, writeReport } from './report';
export type { ReportInfo } from './report';
export { appendResult, openResults, readResultsFile } from './results';
export type { ResultsFile } from './results';
export { formatSummary, summarizeSweep } from './summary';
export type { SummaryChart, SummarySection, SummaryTable, SweepSummary } from './summary';
export { GRID_KEYS } from './types';
export type { CellData, CellEvaluation, CellResult, Grid, GridKey, SweepAttackConfig, SweepCell, SweepConfig, SweepDataConfig } from './types';
