/**
 * `gccs evaluate`: a robustness evaluation with a preset (paper, autoattack, quick) at one or more
 * ε: per-attack and per-sample worst-case accuracy, the diagnostics and the verdict, after a time
 * estimate (its first line: estimate.ts's pass counts × one batch timed here). Runs in this
 * process; --out keeps everything, per-sample outcomes included, as JSON.
 */
import * as fs from 'node:fs';
import { AttackCancelled, ThreatModel } from '../core/attacks';
import { THREAT_MODELS } from '../core/attacks/common';
import { DATASET_KINDS } from '../core/data';
import { subset } from '../core/data/split';
import { UserError } from '../core/errors';
import { createFileAtomic, jsonText } from '../core/io/atomic';
import { lossLabel } from '../core/catalog';
import { CONFIG_LIMITS } from '../core/limits';
import {
  EvaluationEvent,
  PRESETS,
  PRESET_NAMES,
  checkEpsList,
  estimateEvaluation,
  evaluateRobustness,
  evaluationJson,
  formatDuration,
  formatEstimate,
  formatEvaluation,
  planPreset,
} from '../core/robustness';
import { parseGrid } from '../core/sweep/grid';
import { writeEvaluationReport } from '../core/sweep/report';
import type { FlagSpecs } from './args';
import { CommandContext, modelAndSplit } from './commands';
import { checkOutputs, modelInputs } from './outputPaths';
import { ProgressBar } from './progress';

const DEFAULTS = { preset: 'autoattack', eps: '0.1', count: 1000, batchSize: 100, seed: 0 };

export const EVALUATE_FLAGS: FlagSpecs = {
  model: { type: 'string', description: 'model folder, model.json or gccs.json (required)' },
  preset: {
    type: 'string',
    description: `attacks: ${PRESET_NAMES.map((name) => `${name} — ${PRESETS[name].description}`).join('; ')}`,
    default: DEFAULTS.preset,
  },
  eps: { type: 'string', description: 'ε values in (0, 1], relative to each image (‖n‖∞ ≤ ε·‖x‖∞): a comma list or start:stop:step', default: DEFAULTS.eps },
  norm: {
    type: 'string',
    choices: THREAT_MODELS,
    description: 'threat model: linf, or l2 (ε relative to ‖x‖₂; attacks without an L2 version are left out)',
    default: 'linf',
  },
  count: { type: 'integer', description: 'attack the first N test samples', default: String(DEFAULTS.count) },
  'batch-size': { type: 'integer', description: 'attack batch size', default: String(DEFAULTS.batchSize) },
  seed: { type: 'integer', description: 'attack seed (batch i of an attack uses seed + i)', default: String(DEFAULTS.seed) },
  dataset: { type: 'string', choices: DATASET_KINDS, description: "attack on this dataset instead of the model's own test split" },
  data: { type: 'string', description: 'folder of --dataset' },
  'test-range': { type: 'string', description: 'test examples as start:end indices into the pool' },
  'skip-probes': { type: 'boolean', description: 'skip the diagnostics that probe the model (the checks on the results still run)' },
  out: { type: 'string', description: 'write the whole evaluation here as JSON, per-sample outcomes included (a new file: nothing is overwritten)' },
  report: {
    type: 'string',
    description: 'write the HTML report here (verdict, worst-case and per-attack curves, tables, diagnostics)',
    default: '<out without .json>.html, when there is an --out',
  },
};

const pct = (value: number) => `${(100 * value).toFixed(1)}%`;

/** Everything the flags can get wrong, checked before the model loads. */
function evaluationFlags(flags: CommandContext['flags']) {
  const location = flags.model as string | undefined;
  if (!location) throw new UserError('flag --model is required (a model folder, model.json or gccs.json)');
  const preset = (flags.preset as string | undefined) ?? DEFAULTS.preset;
  const plan = planPreset(preset);
  const eps = checkEpsList(parseGrid((flags.eps as string | undefined) ?? DEFAULTS.eps));
  const count = (flags.count as number | undefined) ?? DEFAULTS.count;
  if (count < 1 || count > CONFIG_LIMITS.count) throw new UserError(`flag --count must be from 1 to ${CONFIG_LIMITS.count} (got ${count})`);
  const batchSize = (flags['batch-size'] as number | undefined) ?? DEFAULTS.batchSize;
  if (batchSize < 1 || batchSize > CONFIG_LIMITS.batchSize) {
    throw new UserError(`flag --batch-size must be from 1 to ${CONFIG_LIMITS.batchSize} (got ${batchSize})`);
  }
  const out = flags.out as string | undefined;
  const report = (flags.report as string | undefined) ?? (out && `${out.replace(/\.json$/, '')}.html`);
  if (out && fs.existsSync(out)) throw new UserError(`flag --out: ${out} already exists: write to another file (an evaluation never overwrites one)`);
  const outputs = [
    ...(out ? [{ flag: 'out', path: out, kind: 'file' as const }] : []),
    ...(report ? [{ flag: 'report', path: report, kind: 'file' as const }] : []),
  ];
  checkOutputs(outputs, modelInputs(location));
  if (!flags.dataset && (flags.data !== undefined || flags['test-range'] !== undefined)) {
    throw new UserError("flag --dataset is required with --data or --test-range (without them, the model's own test split is used)");
  }
  return { preset, plan, eps, count, batchSize, out, report };
}

/** The evaluation's events as log lines and a progress bar. */
function evaluationLog(log: CommandContext['log'], bar: ProgressBar | null): (event: EvaluationEvent) => void {
  return (event) => {
    switch (event.type) {
      case 'progress':
        return bar?.update(`${event.label}${event.eps === null ? '' : ` ε=${event.eps}`}`, event.done, event.total);
      case 'attackDone': {
        bar?.clear();
        const { run } = event;
        return log(`${run.label}${run.eps === null ? '' : ` at ε = ${run.eps}`}: ${pct(run.accuracy)} (${run.attacked} attacked, ${run.seconds.toFixed(1)} s)`);
      }
      case 'diagnostics':
        return log('diagnostics: probing the model…');
    }
  };
}

export async function evaluateCommand({ flags, log }: CommandContext) {
  const { preset, plan, eps, count, batchSize, out, report } = evaluationFlags(flags);
  // --seed is the attack seed here; the split is the model's own.
  const { model, meta, modelJson, dataset, examples: test } = await modelAndSplit({ ...flags, seed: undefined });
  const examples = subset(
    test,
    Int32Array.from({ length: Math.min(count, test.labels.length) }, (_, i) => i),
  );
  const muT = meta?.loss.kind === 'gccs' ? meta.loss.muT : undefined;
  const missing = plan.missing.length ? `; not in this build: ${plan.missing.join(', ')}` : '';
  const trainedWith = meta ? ` (training loss ${lossLabel(meta.loss, meta.training.defence)})` : '';
  const options = {
    preset,
    eps,
    norm: flags.norm as ThreatModel | undefined,
    batchSize,
    seed: (flags.seed as number | undefined) ?? DEFAULTS.seed,
    muT,
    diagnostics: !flags['skip-probes'],
  };

  const controller = new AbortController();
  const cancel = () => controller.abort();
  process.once('SIGINT', cancel);
  process.once('SIGTERM', cancel);
  const bar = flags.json ? null : new ProgressBar();
  try {
    // First, before anything long: how long it will take (one batch of the model timed here).
    log(`estimated time: ${formatEstimate(estimateEvaluation(model, examples.labels.length, options), 'attack run')}`);
    log(
      `${modelJson}${trainedWith}: ${examples.labels.length} test samples of ${dataset.source}; preset ${plan.name} (${plan.attacks.map((a) => a.label).join(', ')}${missing}); ε ${eps.join(', ')}`,
    );
    const evaluation = await evaluateRobustness(model, examples, { ...options, signal: controller.signal, onEvent: evaluationLog(log, bar) });
    log('');
    formatEvaluation(evaluation).forEach((line) => log(line));
    const json = { model: modelJson, dataset: dataset.source, ...evaluationJson(evaluation) };
    log(`took ${formatDuration(evaluation.seconds)}`);
    if (out) {
      createFileAtomic(out, jsonText(json));
      log(`results: ${out}`);
    }
    if (report) {
      writeEvaluationReport(report, evaluation, { model: modelJson, dataset: dataset.source, resultsFile: out });
      log(`report: ${report}`);
    }
    return { ...json, reportFile: report ?? null };
  } catch (error) {
    if (error instanceof AttackCancelled) throw new UserError(`cancelled${out ? `: nothing was written to ${out}` : ''}`);
    throw error;
  } finally {
    bar?.clear();
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
    model.dispose();
  }
}
