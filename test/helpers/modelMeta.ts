/** A complete gccs.json (schema/model-meta.schema.json) for tests that hand-write model folders. */
import type { ModelMeta } from '../../src/core/io/modelDir';

export function sampleModelMeta(overrides: Partial<ModelMeta> = {}): ModelMeta {
  return {
    engineVersion: '0.1.0',
    createdAt: '2025-01-01T00:00:00.000Z',
    dataset: {
      spec: { kind: 'synthetic', syntheticTrain: 600, syntheticTest: 300, seed: 1 },
      kind: 'synthetic',
      source: 'synthetic (seed 1)',
      trainRange: null,
      testRange: null,
      validationFraction: 0.1,
      splitSeed: 1,
      trainCount: 540,
      validationCount: 60,
      testCount: 300,
    },
    inputShape: [28, 28, 1],
    numClasses: 10,
    classNames: Array.from({ length: 10 }, (_, i) => `class ${i}`),
    architecture: 'cnn',
    loss: { kind: 'gccs', muT: 50, sigmaT: 1, lambda: 0.2, kurtosis: 'linear', ridge: 1e-4 },
    training: {
      optimizer: { kind: 'adam', learningRate: 0.02, momentum: 0.9, beta2: 0.999, weightDecay: 0, clipNorm: null, schedule: 'cosine', warmupEpochs: 2 },
      batchSize: 100,
      epochs: 1,
      augmentShift: 1,
      fineTunedFrom: null,
    },
    backend: 'wasm',
    seed: 1,
    epochs: [{ epoch: 1, loss: 1.5, trainAccuracy: 0.5, validationAccuracy: 0.6, learningRate: 0.02, seconds: 1 }],
    trainingSeconds: 1,
    ...overrides,
  };
}
