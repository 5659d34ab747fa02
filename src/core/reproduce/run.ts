/**
 * Carries out a reproduction plan: trains each model (or reuses it, or resumes its checkpoint),
 * evaluates each one as `gccs eval` and `gccs evaluate --preset quick` do, runs the paper's other
 * attacks (DeepFool, JSMA, SPSA) as sweeps, and writes the report. Every finished piece is a file
 * of the run's folder, named by a hash of its settings, so a second run reuses it and a killed run
 * continues where it stopped; a file the run did not write is never continued.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AttackCancelled } from '../attacks';
import type { BackendName } from '../backend';
import { subset } from '../data';
import { UserError } from '../errors';
import { writeJsonAtomic } from '../io/atomic';
import { META_FILE, ModelMeta } from '../io/modelDir';
import { evaluateModelSplit } from '../inspect/evaluate';
import { loadModelSplit } from '../inspect/modelSplit';
import { readModelMeta } from '../io/modelLocation';
import { CONFIG_LIMITS } from '../limits';
import type { Evaluation } from '../metrics';
import { evaluateRobustness, evaluationJson } from '../robustness/evaluate';
import { planSweep } from '../sweep/config';
import { readJsonFile } from '../sweep/jsonSchema';
import { SweepCancelled, runSweep } from '../sweep/pool';
import type { CellResult, SweepConfig } from '../sweep/types';
import { checkpointDir } from '../train/checkpoint';
import { TrainingCancelled, train } from '../train/trainer';
import { ENGINE_VERSION } from '../version';
import { LatentFigure, figureAttacks, latentFigure } from './figure3';
import { EVALUATION_SCHEMA, FIGURE3_SCHEMA, readPiece } from './pieces';
import type { ReproduceEvent } from './types';

export type { ReproduceEvent } from './types';
import { ATTACK_DEFAULTS, FIGURE3, PlannedModel, ROBUSTNESS_PRESET, ReproductionPlan, SPSA_TABLE_MODELS, settingsHash } from './plan';

/** The file that marks a folder as a `gccs reproduce` run (written first; a folder without it is not continued). */
export const RUN_MARKER = 'gccs-reproduce.json';

export interface ReproduceOptions {
  /** The backend this process initialised (recorded), and the one the sweep workers take. */
  backend: string;
  /** Sweep worker processes (default 1). */
  workers?: number;
  signal?: AbortSignal;
  onEvent?: (event: ReproduceEvent) => void;
}

/** A model's evaluation as stored in evaluations/: `gccs eval`'s numbers and `gccs evaluate`'s JSON. */
export interface ModelEvaluation {
  key: string;
  model: string;
  clean: Omit<Evaluation, 'latent'>;
  robustness: ReturnType<typeof evaluationJson>;
}

export interface ModelOutcome {
  model: PlannedModel;
  meta: ModelMeta;
  evaluation: ModelEvaluation;
}

export interface ReproductionOutcome {
  plan: ReproductionPlan;
  models: ModelOutcome[];
  /** Figure 3: the latent plots of the models trained without adversarial training. */
  figures: { id: string; figure: LatentFigure }[];
  /** The paper's other attacks: every model (DeepFool, JSMA, SPSA at the working point over ε), and Table 7's SPSA grid. */
  sweeps: { name: string; file: string; results: CellResult[] }[];
}

export async function runReproduction(plan: ReproductionPlan, options: ReproduceOptions): Promise<ReproductionOutcome> {
  const emit = options.onEvent ?? (() => undefined);
  claimRunFolder(plan.outDir);
  const figureModels = plan.models.filter((m) => m.training === FIGURE3.training);
  const sweepPlan = paperSweeps(plan);
  emit({ type: 'plan', models: plan.models.map((m) => m.id), figures: figureModels.map((m) => m.id), sweeps: sweepPlan.map((s) => s.name) });
  const trained: { model: PlannedModel; meta: ModelMeta }[] = [];
  for (const model of plan.models) trained.push({ model, meta: await ensureTrained(model, options, emit) });
  const outcomes: ModelOutcome[] = [];
  for (const { model, meta } of trained) outcomes.push({ model, meta, evaluation: await ensureEvaluated(model, plan, options, emit) });
  const figures = [];
  for (const model of figureModels) figures.push({ id: model.id, figure: await ensureLatentFigure(model, plan, options, emit) });
  const sweeps = [];
  for (const sweep of sweepPlan) sweeps.push(await ensureSweep(sweep.name, sweep.config, plan, options, emit));
  return { plan, models: outcomes, figures, sweeps };
}

/** Whether `error` is a run stopped by its signal (what finished stays in the run's folder). */
export function isReproductionCancelled(error: unknown): boolean {
  return error instanceof TrainingCancelled || error instanceof AttackCancelled || error instanceof SweepCancelled;
}

/** Makes outDir this run's folder: new, empty, or already marked as a reproduction's. */
function claimRunFolder(outDir: string): void {
  const marker = path.join(outDir, RUN_MARKER);
  if (fs.existsSync(marker)) {
    const read = readJsonFile(marker);
    if ('problem' in read || (read.value as { tool?: string } | null)?.tool !== 'gccs reproduce')
      throw new UserError(`${marker}: not a gccs reproduce marker: use another --out`);
    return;
  }
  if (fs.existsSync(outDir)) {
    if (!fs.statSync(outDir).isDirectory()) throw new UserError(`--out ${outDir}: not a folder`);
    if (fs.readdirSync(outDir).length)
      throw new UserError(`--out ${outDir}: a folder that gccs reproduce did not make (no ${RUN_MARKER}) and not empty: use another --out`);
  }
  writeJsonAtomic(marker, { tool: 'gccs reproduce', engineVersion: ENGINE_VERSION, createdAt: new Date().toISOString() });
}

/** Whether a folder holds nothing but (possibly nested) empty folders: what a run killed before its first save leaves. */
function holdsNoFiles(dir: string): boolean {
  return fs.readdirSync(dir, { withFileTypes: true }).every((entry) => entry.isDirectory() && holdsNoFiles(path.join(dir, entry.name)));
}

/** The model's gccs.json once it is trained: reused when finished, resumed from its checkpoint, else trained. */
async function ensureTrained(model: PlannedModel, options: ReproduceOptions, emit: (event: ReproduceEvent) => void): Promise<ModelMeta> {
  const { dir, config } = model;
  const checkpointState = path.join(checkpointDir(dir), 'state.json');
  const metaFile = path.join(dir, META_FILE);
  const resume = fs.existsSync(checkpointState);
  if (!resume && fs.existsSync(metaFile)) {
    const meta = readModelMeta(path.join(dir, 'model.json'));
    if (!meta || !sameTraining(meta, model)) throw new UserError(`${metaFile}: a model trained with other settings than ${model.id}'s: use another --out`);
    emit({ type: 'model', id: model.id, action: 'reuse', dir });
    return meta;
  }
  if (!resume && fs.existsSync(dir) && !holdsNoFiles(dir))
    throw new UserError(`${dir}: holds files but neither a finished model nor a checkpoint: not this run's; use another --out`);
  emit({ type: 'model', id: model.id, action: resume ? 'resume' : 'train', dir });
  // The checkpoint's own identity check refuses one of another configuration.
  const result = await train({ ...config, resume }, options.backend, (event) => emit({ type: 'train', id: model.id, event }), options.signal);
  // The committed model does not need its checkpoint (a crash before this line resumes with nothing left to train).
  fs.rmSync(checkpointDir(dir), { recursive: true, force: true });
  return result.meta;
}

/** What a finished model's gccs.json says about its training, against the plan. */
function sameTraining(meta: ModelMeta, model: PlannedModel): boolean {
  const { config } = model;
  const training = meta.training;
  return (
    meta.seed === config.seed &&
    training.epochs === config.epochs &&
    training.batchSize === config.batchSize &&
    JSON.stringify(meta.loss) === JSON.stringify(config.loss) &&
    JSON.stringify(training.defence ?? null) === JSON.stringify(config.defence ?? null) &&
    JSON.stringify(training.adversarial ?? null) === JSON.stringify(config.adversarial ?? null) &&
    // A fine-tuning's optimizer differs from a regular training's (older versions lost fineTunedFrom when a fine-tuning resumed).
    JSON.stringify(training.optimizer) === JSON.stringify(config.optimizer)
  );
}

/** `gccs eval` and `gccs evaluate --preset quick --eps … --count …` of one model, kept in evaluations/. */
async function ensureEvaluated(
  model: PlannedModel,
  plan: ReproductionPlan,
  options: ReproduceOptions,
  emit: (event: ReproduceEvent) => void,
): Promise<ModelEvaluation> {
  const { count, eps } = plan.settings;
  const key = settingsHash({ preset: ROBUSTNESS_PRESET, eps, count, ...ATTACK_DEFAULTS, model: path.basename(model.dir) });
  const file = path.join(plan.outDir, 'evaluations', `${path.basename(model.dir)}-${key}.json`);
  if (fs.existsSync(file)) {
    const stored = readPiece<ModelEvaluation>(file, EVALUATION_SCHEMA, key, 'an evaluation');
    emit({ type: 'evaluation', id: model.id, action: 'reuse', file });
    return stored;
  }
  emit({ type: 'evaluation', id: model.id, action: 'run', file });
  // Exactly `gccs eval --model DIR` …
  const { latent: _latent, model: modelJson, split: _split, dataset: _dataset, classNames: _names, ...clean } = await evaluateModelSplit({ model: model.dir });
  // … and `gccs evaluate --model DIR --preset quick --eps … --count …`: the model's own test split, its first `count` samples.
  const { model: network, meta, examples } = await loadModelSplit({ model: model.dir });
  try {
    const attacked = subset(
      examples,
      Int32Array.from({ length: Math.min(count, examples.labels.length) }, (_, i) => i),
    );
    const robustness = await evaluateRobustness(network, attacked, {
      preset: ROBUSTNESS_PRESET,
      eps,
      ...ATTACK_DEFAULTS,
      muT: meta?.loss.kind === 'gccs' ? meta.loss.muT : undefined,
      diagnostics: true,
      signal: options.signal,
      onEvent: (event) => emit({ type: 'evaluationProgress', id: model.id, event }),
    });
    const evaluation: ModelEvaluation = { key, model: modelJson, clean, robustness: evaluationJson(robustness) };
    writeJsonAtomic(file, evaluation);
    return evaluation;
  } finally {
    network.dispose();
  }
}

/** Figure 3 of one model (figure3.ts), kept in figure3/. */
async function ensureLatentFigure(
  model: PlannedModel,
  plan: ReproductionPlan,
  options: ReproduceOptions,
  emit: (event: ReproduceEvent) => void,
): Promise<LatentFigure> {
  const settings = { eps: Math.max(...plan.settings.eps), jsmaIterations: plan.settings.jsmaIterations };
  const attacks = figureAttacks(settings.eps, settings.jsmaIterations);
  const key = settingsHash({ ...FIGURE3, attacks, seed: ATTACK_DEFAULTS.seed, model: path.basename(model.dir) });
  const file = path.join(plan.outDir, 'figure3', `${path.basename(model.dir)}-${key}.json`);
  if (fs.existsSync(file)) {
    const { key: _key, ...stored } = readPiece<LatentFigure & { key: string }>(file, FIGURE3_SCHEMA, key, 'a Figure 3');
    emit({ type: 'figure', id: model.id, action: 'reuse', file });
    return stored;
  }
  emit({ type: 'figure', id: model.id, action: 'run', file });
  const { model: network, meta, examples } = await loadModelSplit({ model: model.dir });
  try {
    const figure = await latentFigure(network, meta?.loss.kind === 'gccs' ? meta.loss.muT : null, examples, settings, options.signal);
    writeJsonAtomic(file, { key, ...figure });
    return figure;
  } finally {
    network.dispose();
  }
}

/** The paper's attacks that `gccs evaluate` does not run: DeepFool (Table 6), JSMA, SPSA over ε (Figure 5) and SPSA's IT × BS grid (Table 7). */
function paperSweeps(plan: ReproductionPlan): { name: string; config: SweepConfig }[] {
  const { count, eps, jsmaIterations, spsa, spsaTableEps } = plan.settings;
  const common = { count, batchSize: ATTACK_DEFAULTS.batchSize, seed: ATTACK_DEFAULTS.seed };
  return [
    {
      name: 'paper-attacks',
      config: {
        models: plan.models.map((m) => m.dir),
        attacks: [
          { name: 'deepfool' },
          { name: 'jsma', params: { maxIterations: jsmaIterations } },
          { name: 'spsa', eps, iterations: [spsa.iterations], samples: [spsa.samples] },
        ],
        ...common,
      },
    },
    {
      name: 'spsa-grid',
      config: {
        models: plan.models.filter((m) => SPSA_TABLE_MODELS.includes(m.id)).map((m) => m.dir),
        attacks: [{ name: 'spsa', eps: [spsaTableEps], iterations: spsa.tableIterations, samples: spsa.tableSamples }],
        ...common,
      },
    },
  ];
}

/** A sweep in sweeps/<name>-<configHash>.results.jsonl: resumed when the file exists (the sweep refuses one of another configuration). */
async function ensureSweep(name: string, config: SweepConfig, plan: ReproductionPlan, options: ReproduceOptions, emit: (event: ReproduceEvent) => void) {
  const { configHash } = planSweep(config, name);
  const file = path.join(plan.outDir, 'sweeps', `${name}-${configHash}.results.jsonl`);
  const result = await runSweep(config, {
    workers: Math.min(options.workers ?? 1, CONFIG_LIMITS.workers),
    backend: options.backend as BackendName,
    resultsFile: file,
    resume: fs.existsSync(file),
    signal: options.signal,
    label: name,
    onEvent: (event) => emit({ type: 'sweep', name, file, event }),
  });
  return { name, file, results: result.results };
}
