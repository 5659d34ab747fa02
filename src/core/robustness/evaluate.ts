/**
 * A robustness evaluation: a preset's attacks at each ε (as a cascade or each on every sample),
 * the paper's gradient attacks beside them, the per-sample worst case, the diagnostics and a
 * verdict that names both protocols when they disagree. In-process; cancellable through `signal`.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { AttackName, AttackParams, ThreatModel, resolveAttackParams } from '../attacks';
import { subset } from '../data/split';
import type { Examples } from '../data/types';
import { UserError } from '../errors';
import { ROBUSTNESS_LIMITS } from '../limits';
import { encodeBits } from './bits';
import { ATTACK_CATALOG, roleOf, takesParam } from '../catalog';
import { calibratePasses } from './calibrate';
import { AttackSeries, DIAGNOSTIC_DEFAULTS, Diagnostic, resultChecks } from './checks';
import { probeModel } from './diagnostics';
import { Estimate, evaluationEstimate } from './estimate';
import { PAPER_GRADIENT_ATTACKS, PlannedAttack, Preset, planAttack, planPreset } from './presets';
import { attackSamples, cleanCorrect, fractionOf } from './samples';
import { worstCase } from './worstCase';
import { counted } from '../text';

export interface EvaluationOptions {
  /** A preset's name (PRESET_NAMES) or a preset of one's own. */
  preset: string | Preset;
  /** ε values in (0, 1], relative to each image: ‖n‖∞ ≤ ε·‖x‖∞, or ‖n‖₂ ≤ ε·‖x‖₂ with norm l2. */
  eps: number[];
  /** The threat model (default linf); with l2 the attacks that have no L2 version are left out. */
  norm?: ThreatModel;
  /** Default 100. */
  batchSize?: number;
  /** Default 0; batch i of an attack uses seed + i. */
  seed?: number;
  /** μ_T of a GCCS model (the latent loss joins the diagnostics' loss check). */
  muT?: number;
  /** Run the model probes (default true); the result checks always run. */
  diagnostics?: boolean;
  signal?: AbortSignal;
  onEvent?: (event: EvaluationEvent) => void;
}

export type EvaluationEvent =
  | { type: 'progress'; label: string; eps: number | null; done: number; total: number }
  | { type: 'attackDone'; run: AttackRun }
  | { type: 'diagnostics' };

export interface AttackRun {
  name: AttackName;
  label: string;
  /** paper: the paper's protocol (for the verdict); preset: the chosen preset's attacks. */
  protocol: 'paper' | 'preset';
  /** null for attacks without an ε budget (DeepFool, JSMA). */
  eps: number | null;
  params: AttackParams;
  /** Samples this attack attacked (a cascade skips those already broken). */
  attacked: number;
  /**
   * Per sample: 1 when still classified correctly after this attack — in a cascade, after this
   * attack and every earlier one (an attack only sees the samples the earlier ones left).
   */
  robust: Uint8Array;
  accuracy: number;
  seconds: number;
  rho?: number;
  meanChangedPixels?: number;
}

export interface EpsEvaluation {
  eps: number;
  runs: AttackRun[];
  /** Per sample: 1 when no attack at this ε broke it. */
  worst: Uint8Array;
  worstAccuracy: number;
  /** The lowest accuracy any one of the paper's attacks reports (what the paper's protocol would say), and which. */
  paper: { accuracy: number; label: string } | null;
}

export interface RobustnessEvaluation {
  /** The preset's name ("custom" for one given as an object). */
  preset: string;
  norm: ThreatModel;
  /** Attacks of the preset left out because they have no version for this threat model. */
  otherNorm: string[];
  order: 'cascade' | 'independent';
  /** Attacks of the preset this build does not have. */
  missing: string[];
  count: number;
  clean: Uint8Array;
  cleanAccuracy: number;
  eps: EpsEvaluation[];
  /** Attacks without an ε budget, run once. */
  unbounded: AttackRun[];
  diagnostics: Diagnostic[];
  verdict: string[];
  seconds: number;
}

const pct = (value: number) => `${(100 * value).toFixed(1)}%`;

/** Checks the ε list: each in (0, 1], at most ROBUSTNESS_LIMITS.epsValues; returns them sorted, without repeats. */
export function checkEpsList(eps: number[]): number[] {
  if (!eps.length) throw new UserError('give at least one ε');
  if (eps.length > ROBUSTNESS_LIMITS.epsValues)
    throw new UserError(`${eps.length} ε values: at most ${ROBUSTNESS_LIMITS.epsValues} (ROBUSTNESS_LIMITS.epsValues)`);
  const bad = eps.find((value) => !(value > 0 && value <= 1));
  if (bad !== undefined) throw new UserError(`ε must be in (0, 1] (got ${bad}); the clean accuracy is reported anyway`);
  return [...new Set(eps)].sort((a, b) => a - b);
}

/** The preset's attacks in this threat model, and the paper's gradient attacks to report beside them. */
function plannedAttacks(plan: ReturnType<typeof planPreset>, norm: ThreatModel) {
  const inNorm = (attack: PlannedAttack) => norm === 'linf' || takesParam(ATTACK_CATALOG[attack.name], 'norm');
  const withNorm = (attack: PlannedAttack): PlannedAttack => (norm === 'linf' ? attack : { ...attack, params: { ...attack.params, norm } });
  // The paper's protocol is L∞: beside another preset, its gradient attacks say what it would report.
  const reference = plan.name === 'paper' || norm !== 'linf' ? [] : PAPER_GRADIENT_ATTACKS.map(planAttack);
  const attacks = plan.attacks.filter(inNorm).map(withNorm);
  const otherNorm = plan.attacks.filter((attack) => !inNorm(attack)).map((attack) => attack.label);
  if (!attacks.length) throw new UserError(`preset "${plan.name}" has no attack with an ${norm.toUpperCase()} version`);
  return { reference, attacks, otherNorm, bounded: attacks.filter((attack) => attack.bounded) };
}

type RunAttack = (attack: PlannedAttack, eps: number | null, among: Uint8Array, protocol: AttackRun['protocol']) => Promise<AttackRun>;

/** Runs one attack at one ε on the samples flagged in `among`; a sample not attacked counts as not robust. */
function attackRunner(model: tfl.LayersModel, examples: Examples, options: EvaluationOptions, batchSize: number, seed: number): RunAttack {
  const emit = options.onEvent ?? (() => undefined);
  const count = examples.labels.length;
  return async (attack, eps, among, protocol) => {
    const indices = Int32Array.from(Array.from(among).flatMap((flag, i) => (flag ? [i] : [])));
    const params = resolveAttackParams(attack.name, { ...attack.params, ...(eps !== null && { eps }) });
    const result = await attackSamples(model, examples, indices, attack.name, params, {
      batchSize,
      seed,
      signal: options.signal,
      onProgress: (done, total) => emit({ type: 'progress', label: attack.label, eps, done, total }),
    });
    const robust = new Uint8Array(count);
    indices.forEach((sample, k) => (robust[sample] = result.robust[k]));
    const accuracy = fractionOf(robust);
    const done: AttackRun = {
      name: attack.name,
      label: attack.label,
      protocol,
      eps,
      params,
      attacked: indices.length,
      robust,
      accuracy,
      seconds: result.seconds,
    };
    if (result.rho !== undefined) done.rho = result.rho;
    if (result.meanChangedPixels !== undefined) done.meanChangedPixels = result.meanChangedPixels;
    emit({ type: 'attackDone', run: done });
    return done;
  };
}

/** One ε: the paper's reference attacks on the clean-correct samples, then the preset's bounded attacks (cascaded or not), and the worst case. */
async function evaluateAtEps(
  eps: number,
  run: RunAttack,
  clean: Uint8Array,
  plan: ReturnType<typeof planPreset>,
  reference: PlannedAttack[],
  bounded: PlannedAttack[],
): Promise<EpsEvaluation> {
  const runs: AttackRun[] = [];
  for (const attack of reference) runs.push(await run(attack, eps, clean, 'paper'));
  let standing = clean;
  for (const attack of bounded) {
    const done = await run(attack, eps, plan.preset.order === 'cascade' ? standing : clean, plan.name === 'paper' ? 'paper' : 'preset');
    runs.push(done);
    standing = done.robust;
  }
  const worst = worstCase(runs.map((r) => r.robust));
  const paperRuns = runs.filter((r) => r.protocol === 'paper');
  const lowest = paperRuns.reduce<AttackRun | undefined>((best, r) => (best && best.accuracy <= r.accuracy ? best : r), undefined);
  return { eps, runs, worst, worstAccuracy: fractionOf(worst), paper: lowest ? { accuracy: lowest.accuracy, label: lowest.label } : null };
}

/** Each attack's accuracy over ε, for the checks on the results. */
function attackSeries(perEps: EpsEvaluation[]): AttackSeries[] {
  return [...new Set(perEps.flatMap((e) => e.runs.map((r) => r.label)))].map((label) => {
    const runs = perEps.flatMap((e) => e.runs.filter((r) => r.label === label));
    return { name: runs[0].name, label, points: runs.map((r) => ({ eps: r.eps as number, accuracy: r.accuracy, robust: r.robust })) };
  });
}

export async function evaluateRobustness(model: tfl.LayersModel, examples: Examples, options: EvaluationOptions): Promise<RobustnessEvaluation> {
  const started = performance.now();
  const plan = planPreset(options.preset);
  const epsList = checkEpsList(options.eps);
  const batchSize = options.batchSize ?? 100;
  const seed = options.seed ?? 0;
  const emit = options.onEvent ?? (() => undefined);
  const count = examples.labels.length;
  if (count === 0) throw new UserError('no test samples to attack');
  const norm = options.norm ?? 'linf';
  const { reference, attacks, otherNorm, bounded } = plannedAttacks(plan, norm);
  const withDiagnostics = options.diagnostics !== false;

  const clean = cleanCorrect(model, examples, batchSize);
  const run = attackRunner(model, examples, options, batchSize, seed);
  const perEps: EpsEvaluation[] = [];
  for (const eps of epsList) perEps.push(await evaluateAtEps(eps, run, clean, plan, reference, bounded));
  const unbounded: AttackRun[] = [];
  for (const attack of attacks.filter((a) => !a.bounded)) unbounded.push(await run(attack, null, clean, plan.name === 'paper' ? 'paper' : 'preset'));

  const diagnostics = resultChecks(
    attackSeries(perEps),
    perEps.map((e) => ({ eps: e.eps, accuracy: e.worstAccuracy })),
  );
  if (withDiagnostics) {
    emit({ type: 'diagnostics' });
    diagnostics.unshift(...(await probeModel({ ...probeContext(model, examples, perEps, bounded, batchSize, seed, options), norm })));
  }
  return {
    preset: plan.name,
    norm,
    otherNorm,
    order: plan.preset.order,
    missing: plan.missing,
    count,
    clean,
    cleanAccuracy: fractionOf(clean),
    eps: perEps,
    unbounded,
    diagnostics,
    verdict: verdict(perEps, diagnostics, plan.missing, otherNorm, norm),
    seconds: (performance.now() - started) / 1000,
  };
}

/** The steps-like parameter of an iterative attack, if it has one. */
function stepKey(attack: PlannedAttack): 'steps' | 'iterations' | undefined {
  const entry = ATTACK_CATALOG[attack.name];
  return takesParam(entry, 'steps') ? 'steps' : takesParam(entry, 'iterations') ? 'iterations' : undefined;
}

function probeContext(
  model: tfl.LayersModel,
  examples: Examples,
  perEps: EpsEvaluation[],
  bounded: PlannedAttack[],
  batchSize: number,
  seed: number,
  options: EvaluationOptions,
) {
  const n = Math.min(examples.labels.length, DIAGNOSTIC_DEFAULTS.probeSamples);
  // The most telling ε: where the worst case is nearest 50%.
  const at = perEps.reduce((best, e) => (Math.abs(e.worstAccuracy - 0.5) < Math.abs(best.worstAccuracy - 0.5) ? e : best));
  const iterative = bounded.find((attack) => roleOf(attack.name) === 'iterative' && stepKey(attack));
  return {
    model,
    examples: subset(
      examples,
      Int32Array.from({ length: n }, (_, i) => i),
    ),
    batchSize,
    seed,
    signal: options.signal,
    eps: at.eps,
    worstAccuracy: fractionOf(at.worst.subarray(0, n)),
    muT: options.muT,
    iterative: iterative && { name: iterative.name, label: iterative.label, params: iterative.params },
  };
}

function verdict(perEps: EpsEvaluation[], diagnostics: Diagnostic[], missing: string[], otherNorm: string[], norm: ThreatModel): string[] {
  const lines = perEps.map(({ eps, runs, worstAccuracy, paper }) => {
    const worst = `the worst case over ${counted(runs.length, 'attack')} is ${pct(worstAccuracy)}`;
    if (paper && paper.accuracy > worstAccuracy + DIAGNOSTIC_DEFAULTS.tolerance)
      return `ε = ${eps}: the paper's attacks report ${pct(paper.accuracy)} (${paper.label}); ${worst}`;
    return `ε = ${eps}: robust accuracy ${pct(worstAccuracy)} (${worst}${paper ? "; the paper's attacks agree" : ''})`;
  });
  const flagged = diagnostics.filter((d) => !d.ok).length;
  if (flagged)
    lines.push(
      `${counted(flagged, 'diagnostic')} flag${flagged === 1 ? 's' : ''} signs of gradient masking or weak attacks: read these numbers as upper bounds`,
    );
  if (missing.length) lines.push(`not in this build, left out: ${missing.join(', ')}`);
  if (otherNorm.length) lines.push(`no ${norm.toUpperCase()} version, left out: ${otherNorm.join(', ')}`);
  return lines;
}

/**
 * How long evaluateRobustness(model, `count` samples, options) will take, before it starts: the
 * passes its attacks and probes make (estimate.ts) × one batch of the model timed here.
 */
export function estimateEvaluation(model: tfl.LayersModel, count: number, options: EvaluationOptions): Estimate {
  const plan = planPreset(options.preset);
  const { reference, attacks, bounded } = plannedAttacks(plan, options.norm ?? 'linf');
  const iterative = bounded.find((attack) => roleOf(attack.name) === 'iterative' && stepKey(attack));
  const work = {
    attacks: [...reference, ...attacks],
    eps: checkEpsList(options.eps),
    count,
    cascade: plan.preset.order === 'cascade',
    // The loss probes: cross-entropy, margin and, for a GCCS model, latent (diagnostics.ts).
    probes:
      options.diagnostics === false
        ? undefined
        : { losses: options.muT === undefined ? 2 : 3, iterative: iterative && { ...iterative, stepKey: stepKey(iterative)! } },
  };
  return evaluationEstimate(work, calibratePasses(model, options.batchSize ?? 100));
}

/** The evaluation as JSON: per-sample outcomes as base64 bitsets (bit i of byte ⌊i/8⌋, 1 = still correct). */
export function evaluationJson(evaluation: RobustnessEvaluation) {
  const runJson = ({ robust, ...run }: AttackRun) => ({ ...run, robust: encodeBits(robust) });
  return {
    ...evaluation,
    clean: encodeBits(evaluation.clean),
    eps: evaluation.eps.map(({ runs, worst, ...e }) => ({ ...e, worst: encodeBits(worst), runs: runs.map(runJson) })),
    unbounded: evaluation.unbounded.map(runJson),
  };
}

/** The evaluation as text lines: clean accuracy, a table per ε, the diagnostics, the verdict. */
export function formatEvaluation(evaluation: RobustnessEvaluation): string[] {
  const lines = [
    `clean accuracy ${pct(evaluation.cleanAccuracy)} on ${evaluation.count} samples; ${evaluation.norm === 'l2' ? 'L2' : 'L∞'} threat model; preset ${evaluation.preset} (${evaluation.order === 'cascade' ? 'cascade: each attack only attacks what the earlier ones left' : 'every attack on every sample'})`,
  ];
  for (const e of evaluation.eps) {
    lines.push('', `ε = ${e.eps}`);
    const width = Math.max(...e.runs.map((r) => r.label.length), 'worst case'.length);
    for (const r of e.runs)
      lines.push(
        `  ${r.label.padEnd(width)}  ${pct(r.accuracy).padStart(6)}  ${r.protocol === 'paper' ? "(paper's protocol)" : evaluation.order === 'cascade' ? `(after the earlier attacks; ${r.attacked} attacked)` : ''}`.trimEnd(),
      );
    lines.push(`  ${'worst case'.padEnd(width)}  ${pct(e.worstAccuracy).padStart(6)}  (per-sample minimum over the ${e.runs.length} attacks)`);
  }
  for (const r of evaluation.unbounded) {
    const extra = [r.rho !== undefined && `ρ ${r.rho.toFixed(4)}`, r.meanChangedPixels !== undefined && `${pct(r.meanChangedPixels)} of values changed`]
      .filter(Boolean)
      .join(', ');
    lines.push('', `${r.label} (no ε budget): ${pct(r.accuracy)}${extra ? ` (${extra})` : ''}`);
  }
  lines.push('', 'diagnostics:', ...evaluation.diagnostics.map((d) => `  ${d.ok ? 'ok  ' : 'WARN'} ${d.message}`));
  lines.push('', 'verdict:', ...evaluation.verdict.map((line) => `  ${line}`));
  return lines;
}
