/**
 * `gccs reproduce`: the paper's comparison in one command — train (or reuse) cross-entropy, GCCS,
 * JR, IGR, CLR, GCCS fine-tuned from cross-entropy and each regular model with FGSM adversarial
 * training; evaluate each; write the report (core/reproduce). Run it again to continue after a
 * kill or Ctrl-C: finished models, evaluations and attack cells are reused.
 */
import { DATASET_KINDS, DatasetSpec } from '../core/data';
import { UserError } from '../core/errors';
import {
  DEFAULT_SCALE,
  PAPER_MODELS,
  ReproduceEvent,
  ReproductionPlan,
  SCALES,
  SCALE_NAMES,
  ScaleName,
  isReproductionCancelled,
  planReproduction,
  reproduce,
  reproduceEventLine,
} from '../core/reproduce';
import { parseGrid } from '../core/sweep/grid';
import type { FlagSpecs } from './args';
import type { CommandContext } from './commands';
import { checkOutputs } from './outputPaths';
import { ProgressBar } from './progress';

const scaleHelp = SCALE_NAMES.map((name) => `${name} — ${SCALES[name].description}`).join('; ');

export const REPRODUCE_FLAGS: FlagSpecs = {
  scale: { type: 'string', choices: SCALE_NAMES, description: `how much of the paper to run: ${scaleHelp}`, default: DEFAULT_SCALE },
  dataset: { type: 'string', choices: DATASET_KINDS, description: 'dataset kind', default: 'mnist' },
  data: { type: 'string', description: 'folder of the dataset (mnist: the IDX folder, e.g. ../shared/data/mnist-t10k; default: the download cache)' },
  'train-range': { type: 'string', description: "training examples as start:end into the pool (default: the scale's)" },
  'test-range': { type: 'string', description: "test examples as start:end into the pool (default: the scale's)" },
  'synthetic-train': { type: 'integer', description: 'synthetic dataset: training examples', default: '5000' },
  'synthetic-test': { type: 'integer', description: 'synthetic dataset: test examples', default: '1000' },
  seed: { type: 'integer', description: 'seed of every training (splits, initialisation, batches, dropout)', default: '0' },
  models: {
    type: 'string',
    description: `only these models, comma-separated (with the models they are fine-tuned from): ${PAPER_MODELS.map((spec) => spec.id).join(', ')}`,
    default: 'all',
  },
  model: { type: 'string', description: "architecture of the models trained from scratch (default: the scale's)" },
  epochs: { type: 'integer', description: "epochs of the regular trainings (default: the scale's; the paper: 1800)" },
  'fine-tune-epochs': { type: 'integer', description: "epochs of GCCS fine-tuning of the cross-entropy model (default: the scale's; the paper: 100)" },
  'adv-epochs': { type: 'integer', description: "epochs of adversarial fine-tuning of each regular model (default: the scale's; the paper: 100)" },
  'batch-size': { type: 'integer', description: "training batch size (default: the scale's; the paper: 200)" },
  count: { type: 'integer', description: "test samples attacked per model (default: the scale's)" },
  eps: {
    type: 'string',
    description:
      "ε values, a comma list or start:stop:step (default: the scale's points up to the paper's largest ε: 0.1 for MNIST-like sets, 0.06 for SVHN and CIFAR)",
  },
  'jsma-iterations': { type: 'integer', description: "JSMA's iterations (default: the scale's; the paper: 200)" },
  workers: { type: 'integer', description: 'worker processes for the DeepFool, JSMA and SPSA cells', default: '1' },
  out: {
    type: 'string',
    description: "the run's folder: models, evaluations, attack results and report.{json,md,html}; run again with the same flags to continue",
    default: 'reproduce/<dataset>-<scale>',
  },
};

const str = (context: CommandContext, name: string) => context.flags[name] as string | undefined;
const num = (context: CommandContext, name: string) => context.flags[name] as number | undefined;

/** The plan the flags ask for; every flag is checked before anything runs. */
function planFromFlags(context: CommandContext): ReproductionPlan {
  const kind = (str(context, 'dataset') ?? 'mnist') as DatasetSpec['kind'];
  const scale = (str(context, 'scale') ?? DEFAULT_SCALE) as ScaleName;
  const dataset: DatasetSpec = {
    kind,
    ...(str(context, 'data') !== undefined && { path: str(context, 'data') }),
    ...(kind === 'synthetic' && {
      seed: num(context, 'seed') ?? 0,
      syntheticTrain: num(context, 'synthetic-train'),
      syntheticTest: num(context, 'synthetic-test'),
    }),
  };
  const epsText = str(context, 'eps');
  const outDir = str(context, 'out') ?? `reproduce/${kind}-${scale}`;
  checkOutputs([{ flag: 'out', path: outDir, kind: 'folder' }]);
  return planReproduction({
    dataset,
    scale,
    outDir,
    seed: num(context, 'seed'),
    models: str(context, 'models')
      ?.split(',')
      .map((id) => id.trim()),
    overrides: {
      model: str(context, 'model'),
      epochs: num(context, 'epochs'),
      fineTuneEpochs: num(context, 'fine-tune-epochs'),
      adversarialEpochs: num(context, 'adv-epochs'),
      batchSize: num(context, 'batch-size'),
      trainRange: str(context, 'train-range'),
      testRange: str(context, 'test-range'),
      count: num(context, 'count'),
      jsmaIterations: num(context, 'jsma-iterations'),
      eps: epsText === undefined ? undefined : parseGrid(epsText),
    },
  });
}

/** Progress lines (stderr, as the extension's log) and the progress bar. */
function progress(log: (line: string) => void, bar: ProgressBar | null): (event: ReproduceEvent) => void {
  return (event) => {
    if (event.type === 'train' && event.event.type === 'step') {
      const { epoch, step, steps, loss } = event.event;
      bar?.update(`${event.id} epoch ${epoch}`, step, steps, `loss ${loss.toFixed(4)}`);
    }
    if (event.type === 'evaluationProgress' && event.event.type === 'progress') {
      const { label, eps, done, total } = event.event;
      bar?.update(`${event.id} ${label}${eps === null ? '' : ` ε=${eps}`}`, done, total);
    }
    if (event.type === 'sweep' && event.event.type === 'progress') bar?.update(`${event.name} ${event.event.cell.attack}`, event.event.done, event.event.total);
    if (event.type === 'sweep' && event.event.type === 'cellDone') bar?.clear();
    const line = reproduceEventLine(event);
    if (line === undefined) return;
    bar?.clear();
    log(line);
  };
}

const pct = (value: number) => `${(100 * value).toFixed(1)}%`;

export async function reproduceCommand(context: CommandContext) {
  const { flags, backend, log } = context;
  const plan = planFromFlags(context);
  const s = plan.settings;
  log(
    `gccs reproduce, scale ${plan.scaleName}: ${plan.models.length} models (${plan.models.map((m) => m.id).join(', ')}) on ${plan.dataset.kind}; ${s.model}, ` +
      `${s.epochs} epochs (${s.fineTuneEpochs} fine-tuning, ${s.adversarialEpochs} adversarial); attacks on ${s.count} test samples at ε ${s.eps.join(', ')}; into ${plan.outDir}`,
  );
  const controller = new AbortController();
  const cancel = () => controller.abort();
  process.once('SIGINT', cancel);
  process.once('SIGTERM', cancel);
  const bar = flags.json ? null : new ProgressBar();
  const started = performance.now();
  try {
    const options = { backend, workers: num(context, 'workers'), signal: controller.signal, onEvent: progress(log, bar) };
    const { outcome, files } = await reproduce(plan, options, `gccs ${process.argv.slice(2).join(' ')}`);
    bar?.clear();
    for (const m of outcome.models) {
      const c = m.evaluation.clean;
      const attacked = m.evaluation.robustness.eps.map((e) => `ε ${e.eps}: paper ${e.paper ? pct(e.paper.accuracy) : '—'} / worst ${pct(e.worstAccuracy)}`);
      log(
        `${m.model.id.padEnd(8)} accuracy ${pct(c.accuracy)}  F ${c.macroF1.toFixed(4)}  r_AB ${c.separation.pairs ? c.separation.mean.toFixed(2) : '—'}  ${attacked.join('  ')}`,
      );
    }
    log(`report: ${files.markdown}, ${files.html}, ${files.json} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    const models = outcome.models.map((m) => ({
      id: m.model.id,
      dir: m.model.dir,
      accuracy: m.evaluation.clean.accuracy,
      macroF1: m.evaluation.clean.macroF1,
      rAB: m.evaluation.clean.separation.mean,
    }));
    return { outDir: plan.outDir, files, models };
  } catch (error) {
    if (isReproductionCancelled(error)) {
      throw new UserError(`cancelled: what finished is kept in ${plan.outDir}; run the same command again to continue`);
    }
    throw error;
  } finally {
    bar?.clear();
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
  }
}
