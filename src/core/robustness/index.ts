/** Robustness evaluations: presets, the per-sample worst case, the cascade and the diagnostics. */
export { decodeBits, encodeBits } from './bits';
export { displayName, roleOf } from '../catalog';
export type { AttackRole } from '../catalog';
export { DIAGNOSTIC_DEFAULTS, resultChecks } from './checks';
export type { AttackSeries, Diagnostic, DiagnosticId } from './checks';
export { probeModel } from './diagnostics';
export type { ProbeContext } from './diagnostics';
export { checkEpsList, estimateEvaluation, evaluateRobustness, evaluationJson, formatEvaluation } from './evaluate';
export type { AttackRun, EpsEvaluation, EvaluationEvent, EvaluationOptions, RobustnessEvaluation } from './evaluate';
export { ATTACK_PASSES, attackPasses, estimateBasis, evaluationEstimate, formatDuration, formatEstimate, sweepEstimate } from './estimate';
export type { Estimate, PassCount, PassTimes } from './estimate';
export { PRESETS, PRESET_NAMES, isPresetName, planPreset } from './presets';
export type { Preset, PresetAttack, PresetName, PresetPlan } from './presets';
export { attackSamples, cleanCorrect, evaluateAttack, fractionOf } from './samples';
export type { AttackEvaluation, AttackEvaluationOptions } from './samples';
export { worstCase } from './worstCase';
