/**
 * `npm run bench`, part "hostEventLoop": the event-loop lag of the process that hosts a training
 * worker (what the VS Code extension host does: src/host/jobs/trainWorker.ts forks dist/worker.js and
 * handles its progress messages), while a small MLP trains. The integration test measures the same
 * inside the real extension host but fails only on a gross stall; the figures belong here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BackendName } from '../src/core/backend';
import { lossConfig } from '../src/core/loss';
import { TRAIN_DEFAULTS } from '../src/core/train/defaults';
import type { TrainConfig } from '../src/core/train/trainer';
import { runTrainWorker } from '../src/host/jobs/trainWorker';
import { measuringEventLoopLag } from './eventLoopLag';

const round = (value: number) => Number(value.toPrecision(3));

export async function hostEventLoopFigures(backend: BackendName, quick: boolean, workDir: string) {
  const workerFile = path.resolve(__dirname, '../dist/worker.js');
  if (!fs.existsSync(workerFile)) return { skipped: 'dist/worker.js is missing: npm run build first' };
  const examples = quick ? 200 : 1500;
  const config: TrainConfig = {
    dataset: { kind: 'synthetic', syntheticTrain: examples, syntheticTest: 100, seed: 0 },
    split: { trainRange: null, testRange: null, validationFraction: 0 },
    model: 'mlp',
    fineTuneFrom: null,
    loss: lossConfig('gccs'),
    optimizer: TRAIN_DEFAULTS.optimizer,
    batchSize: 50,
    epochs: quick ? 1 : 2,
    seed: 0,
    outDir: path.join(workDir, 'host-lag'),
    resume: false,
  };
  let events = 0;
  const { lag } = await measuringEventLoopLag(() => runTrainWorker(config, { entry: { file: workerFile, execArgv: [] }, backend, onEvent: () => events++ }));
  return {
    training: `GCCS mlp, ${examples} synthetic examples, ${config.epochs} epoch(s), batch ${config.batchSize}, in dist/worker.js`,
    events,
    seconds: round(lag.ms / 1000),
    samples: lag.samples,
    intervalDriftMs: { max: round(lag.max), p99: round(lag.p99) },
    monitorEventLoopDelayMs: { max: round(lag.histMax), p99: round(lag.histP99) },
  };
}
