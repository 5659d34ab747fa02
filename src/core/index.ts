/** The GCCS Robustness Lab engine as a library: `require('gccs-lab/core')`. No `vscode` here. */
export { initBackend } from './backend';
export type { BackendName } from './backend';
export * from './data';
export { UserError } from './errors';
export { loadModelDir, saveModelDir, resolveModelJson } from './io/modelDir';
export type { EpochRecord, LoadedModel, ModelMeta } from './io/modelDir';
export * from './loss';
export * from './metrics';
export { ARCHITECTURES, createModel, withLinearHead } from './models';
export type { Architecture, ModelSource } from './models';
export { FINE_TUNE_DEFAULTS, TRAIN_DEFAULTS } from './train/defaults';
export { learningRateAt } from './train/optimizer';
export type { OptimizerConfig } from './train/optimizer';
export { TrainingCancelled, train } from './train/trainer';
export type { TrainConfig, TrainEvent, TrainResult } from './train/trainer';
export { ENGINE_VERSION } from './version';
