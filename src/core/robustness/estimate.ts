/**
 * How long an evaluation or a sweep will take, before it starts: a cost model counts the model
 * passes each attack makes per sample (forward only, and forward + backward for an input gradient),
 * read off each attack's code; a calibration (calibrate.ts, in a worker or in the process that will
 * attack) times one batch of each kind of pass on the user's model. Seconds = passes × samples ×
 * seconds per pass. No TensorFlow.js here: the extension host plans with it.
 *
 * Attacks that stop early for a sample (once it is misclassified, once JSMA reaches its target…)
 * are counted as never stopping: for them the count, and so the estimate, is an upper bound. A test
 * (test/unit/robustness-estimate.test.ts) counts the passes each attack really makes.
 */
import { AttackName, AttackParams, ResolvedAttackParams, resolveAttackParams } from '../catalog';
import type { SweepCell } from '../sweep/types';
import { DIAGNOSTIC_DEFAULTS } from './checks';
import { counted } from '../text';

/** Passes of one sample through the model. */
export interface PassCount {
  /** Forward passes only (outputs, queries). */
  forward: number;
  /** Forward and backward passes (an input gradient). */
  gradient: number;
  /** False when the attack may stop earlier for a sample: the count is then an upper bound. */
  exact: boolean;
}

/** What the pass counts depend on besides the parameters. */
export interface ModelSize {
  /** D, the number of outputs. */
  classes: number;
  /** Values of one input, H·W·C. */
  inputSize: number;
}

/** A calibration: seconds per sample of each kind of pass, measured on one batch of the model. */
export interface PassTimes extends ModelSize {
  forward: number;
  gradient: number;
  /** The batch it was timed on. */
  batchSize: number;
}

/** DeepFool's candidate classes (deepfool.ts: the true one and the 9 scoring highest); the counting test keeps them equal. */
const DEEPFOOL_CANDIDATES = 10;

const targetPass = (target: ResolvedAttackParams<'tgsm'>['target']) => (target === 'least-likely' ? 1 : 0);

/** FGSM/PGD/TGSM (gradientCore.ts): per run, one gradient per step, then one forward pass at the last iterate. */
const gradientRuns = (steps: number, restarts: number) => ({ forward: restarts, gradient: restarts * steps });

/** APGD (apgd.ts): one forward pass on the clean batch, then per objective and restart the start point's gradient and one per iteration. */
const apgdRuns = (p: ResolvedAttackParams<'apgd-ce'>, objectives: number) => ({
  forward: 1,
  gradient: objectives * p.restarts * (p.iterations + 1),
  exact: false,
});

/**
 * Passes per sample inside attackBatch, for a sample that stays classified correctly to the end
 * (the most an attack does). The type makes every catalog attack have one.
 */
export const ATTACK_PASSES: { [N in AttackName]: (params: ResolvedAttackParams<N>, model: ModelSize) => PassCount } = {
  fgsm: () => ({ ...gradientRuns(1, 1), exact: true }),
  pgd: (p) => ({ ...gradientRuns(p.steps, p.restarts), exact: true }),
  tgsm: (p) => {
    const runs = gradientRuns(p.steps, p.restarts);
    return { forward: runs.forward + targetPass(p.target), gradient: runs.gradient, exact: true };
  },
  // Each iteration: one class-tiled pass of two weightings (∇z_t and ∇Σz); at most γ·size values change, one per iteration.
  jsma: (p, model) => ({ forward: targetPass(p.target), gradient: 2 * Math.min(p.maxIterations, Math.floor(p.gamma * model.inputSize)), exact: false }),
  // One forward pass at the start; each iteration one gradient per candidate class but the true one, and a forward pass.
  deepfool: (p, model) => ({
    forward: 1 + p.maxIterations,
    gradient: (Math.min(DEEPFOOL_CANDIDATES, model.classes) - 1) * p.maxIterations,
    exact: false,
  }),
  // Each iteration: 2·BS queries, and with earlyStop a forward pass that finds the samples already misclassified.
  spsa: (p) => ({ forward: p.iterations * (2 * p.samples + (p.earlyStop ? 1 : 0)), gradient: 0, exact: !p.earlyStop }),
  'apgd-ce': (p) => apgdRuns(p, 1),
  'apgd-dlr': (p) => apgdRuns(p, 1),
  // A second clean forward pass ranks the target classes.
  'apgd-t': (p) => {
    const runs = apgdRuns(p, p.targetCount);
    return { ...runs, forward: runs.forward + 1 };
  },
  // fab.ts: one clean forward pass; per target and restart, the start point's gradient, one per
  // iteration, and (but after the last) one more at the point stepped back from a misclassified one.
  'fab-t': (p) => ({ forward: 1, gradient: p.targetCount * p.restarts * 2 * p.iterations, exact: false }),
  // One forward pass finds the samples to attack; the budget counts every query, the start point's included.
  square: (p) => ({ forward: 1 + p.queries, gradient: 0, exact: false }),
};

/** Passes per sample of attackSamples (robustness/samples.ts): the attack, and a forward pass before and after it. */
export function attackPasses<N extends AttackName>(name: N, params: ResolvedAttackParams<N>, model: ModelSize): PassCount {
  const passes = (ATTACK_PASSES[name] as (params: ResolvedAttackParams<N>, model: ModelSize) => PassCount)(params, model);
  return { ...passes, forward: passes.forward + 2 };
}

/** Some passes on some samples. */
export interface Work {
  passes: PassCount;
  samples: number;
}

export const workSeconds = ({ passes, samples }: Work, times: PassTimes) => samples * (passes.forward * times.forward + passes.gradient * times.gradient);

export interface Estimate {
  seconds: number;
  workers: number;
  /** Samples attacked, ε values, and cells (sweeps) or attack runs (evaluations). */
  samples: number;
  epsValues: number;
  runs: number;
  /** Every count exact (no attack that stops early, no cascade). */
  exact: boolean;
  /** A cascade counted as if every attack attacked every sample. */
  cascade: boolean;
  times: PassTimes[];
}

/**
 * A sweep's time: each cell's passes on its samples, the cells dealt in order to the first free of
 * `workers` workers, as the pool does. A cell at ε = 0 is one clean FGSM pass (evaluateCell.ts).
 */
export function sweepEstimate(cells: SweepCell[], times: ReadonlyMap<string, PassTimes>, workers: number): Estimate {
  const free = new Array<number>(Math.max(1, Math.min(workers, cells.length))).fill(0);
  let exact = true;
  for (const cell of cells) {
    const model = times.get(cell.model);
    if (!model) throw new Error(`no calibration for ${cell.model}`);
    const [name, params] = cell.eps === 0 ? (['fgsm', resolveAttackParams('fgsm', { eps: 0 })] as const) : [cell.attack, cell.params as ResolvedAttackParams];
    const passes = attackPasses(name, params, model);
    exact &&= passes.exact;
    const first = free.indexOf(Math.min(...free));
    free[first] += workSeconds({ passes, samples: cell.count }, model);
  }
  return {
    seconds: Math.max(...free),
    workers: free.length,
    samples: Math.max(0, ...cells.map((cell) => cell.count)),
    epsValues: new Set(cells.flatMap((cell) => (cell.eps === null ? [] : [cell.eps]))).size,
    runs: cells.length,
    exact,
    cascade: false,
    times: [...times.values()],
  };
}

/** An attack as an evaluation plans it (robustness/presets.ts PlannedAttack). */
interface EstimatedAttack {
  name: AttackName;
  params: AttackParams;
  /** Runs at every ε (else once). */
  bounded: boolean;
}

export interface EvaluationWork {
  /** Every attack the evaluation runs (the paper's reference ones and the preset's), in order. */
  attacks: EstimatedAttack[];
  eps: number[];
  count: number;
  cascade: boolean;
  /** The model probes (diagnostics.ts), when they run: the loss probes and the first iterative attack of the preset. */
  probes?: { losses: number; iterative?: EstimatedAttack & { stepKey: 'steps' | 'iterations' } };
}

/**
 * An evaluation's time in this process (one worker): every attack on every sample at each ε (a
 * cascade's later attacks see fewer, so then an upper bound), the clean pass, and the probes: the
 * outputs and gradients of their samples, PGD at ε = 1, per temperature and per loss, and the
 * iterative attack at K and 2K steps.
 */
export function evaluationEstimate(plan: EvaluationWork, times: PassTimes): Estimate {
  const runOf = (attack: EstimatedAttack, eps: number | null, samples: number): Work => {
    const params = resolveAttackParams(attack.name, { ...attack.params, ...(eps !== null && { eps }) });
    return { passes: attackPasses(attack.name, params, times), samples };
  };
  const work: Work[] = [{ passes: { forward: 1, gradient: 0, exact: true }, samples: plan.count }];
  for (const eps of plan.eps) work.push(...plan.attacks.filter((a) => a.bounded).map((a) => runOf(a, eps, plan.count)));
  work.push(...plan.attacks.filter((a) => !a.bounded).map((a) => runOf(a, null, plan.count)));
  if (plan.probes) {
    const n = Math.min(plan.count, DIAGNOSTIC_DEFAULTS.probeSamples);
    const eps = plan.eps[0];
    work.push({ passes: { forward: 1, gradient: 1, exact: true }, samples: n });
    const pgdRuns = 1 + DIAGNOSTIC_DEFAULTS.temperatures.length + plan.probes.losses;
    const pgd = runOf({ name: 'pgd', params: { steps: DIAGNOSTIC_DEFAULTS.probeSteps }, bounded: true }, eps, n);
    work.push({ ...pgd, samples: pgdRuns * n });
    const iterative = plan.probes.iterative;
    if (iterative) {
      const steps = (resolveAttackParams(iterative.name, iterative.params) as Record<string, unknown>)[iterative.stepKey] as number;
      for (const k of [steps, 2 * steps]) work.push(runOf({ ...iterative, params: { ...iterative.params, [iterative.stepKey]: k } }, eps, n));
    }
  }
  return {
    seconds: work.reduce((sum, w) => sum + workSeconds(w, times), 0),
    workers: 1,
    samples: plan.count,
    epsValues: plan.eps.length,
    runs: plan.attacks.reduce((sum, a) => sum + (a.bounded ? plan.eps.length : 1), 0),
    exact: !plan.cascade && work.every((w) => w.passes.exact),
    cascade: plan.cascade,
    times: [times],
  };
}

/** "about 3 min" (under a minute in seconds, under an hour in minutes, else hours). */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

const ms = (seconds: number) => `${(1000 * seconds).toPrecision(2)} ms`;

/** The estimate's first line: "about 12 min on 2 workers for 1000 samples × 3 ε (6 cells; at most: …)". */
export function formatEstimate(estimate: Estimate, noun = 'cell', qualifier = ''): string {
  const eps = estimate.epsValues ? ` × ${estimate.epsValues} ε` : '';
  const bound = estimate.cascade
    ? 'at most: a cascade counted as if every attack attacked every sample'
    : estimate.exact
      ? 'every attack runs its full length'
      : 'at most: attacks that stop once a sample is broken counted as never stopping';
  return `about ${formatDuration(estimate.seconds)} on ${counted(estimate.workers, 'worker')} for ${estimate.samples} samples${eps} (${counted(estimate.runs, noun)}${qualifier}; ${bound})`;
}

/** How the estimate was made, for a second line or a dialog's detail. */
export function estimateBasis(estimate: Estimate): string {
  const timed = estimate.times.map((t) => `forward ${ms(t.forward)}, forward + backward ${ms(t.gradient)} per sample`).join('; ');
  return `model passes each attack makes, counted from its parameters, × the time of one batch of ${estimate.times[0]?.batchSize ?? 0} on this model (${timed})`;
}
