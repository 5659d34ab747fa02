import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TRAIN_DEFAULTS } from '../../src/core/train/defaults';
import { learningRateAt } from '../../src/core/train/optimizer';
import type { OptimizerConfig } from '../../src/core/train/options';

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected)), `${what}: ${actual} ≠ ${expected}`);

test('learning rate: a linear warm-up over the first epochs on top of the cosine decay', () => {
  const config: OptimizerConfig = { ...TRAIN_DEFAULTS.optimizer, learningRate: 0.02, schedule: 'cosine', warmupEpochs: 2 };
  const stepsPerEpoch = 10;
  const total = 100;
  const cosine = (step: number) => 0.01 * (1 + Math.cos((Math.PI * step) / total));
  // Warm-up: 20 steps, the rate of step s is cosine(s)·(s+1)/20.
  close(learningRateAt(config, 0, total, stepsPerEpoch), cosine(0) / 20, 'first step');
  close(learningRateAt(config, 9, total, stepsPerEpoch), cosine(9) * 0.5, 'middle of the warm-up');
  close(learningRateAt(config, 19, total, stepsPerEpoch), cosine(19), 'last warm-up step');
  close(learningRateAt(config, 50, total, stepsPerEpoch), 0.01, 'half-way: half the rate');
  close(learningRateAt(config, 100, total, stepsPerEpoch), 0, 'the end');
  const rate = (step: number) => learningRateAt(config, step, total, stepsPerEpoch);
  for (let step = 1; step < 20; step++) assert.ok(rate(step) > rate(step - 1), `rising at step ${step}`);
});

test('learning rate: without warm-up, cosine starts at the full rate; constant stays there after its warm-up', () => {
  const base: OptimizerConfig = { ...TRAIN_DEFAULTS.optimizer, learningRate: 0.003 };
  close(learningRateAt({ ...base, schedule: 'cosine', warmupEpochs: 0 }, 0, 50, 5), 0.003, 'cosine, no warm-up');
  const constant = { ...base, schedule: 'constant' as const, warmupEpochs: 0.5 };
  close(learningRateAt(constant, 0, 50, 10), 0.003 / 5, 'half an epoch of warm-up: 5 steps');
  close(learningRateAt(constant, 4, 50, 10), 0.003, 'warmed up');
  close(learningRateAt(constant, 49, 50, 10), 0.003, 'constant to the end');
});
