/**
 * Diagnostics of an evaluation: signs that the attacks' numbers overstate robustness (gradient
 * masking, Athalye et al. 2018; Carlini et al. 2019; Croce & Hein 2020), each one plain line that
 * says what was seen and what to do. The checks on results are in checks.ts; these probe the
 * model, on the first samples: outputs that look like probabilities or saturate, vanishing or
 * non-finite input gradients, PGD at ε = 1 not reaching chance, the cross-entropy attack depending
 * on the output scale or losing to other losses, and iterative attacks that have not converged.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';
import { AttackName, AttackParams, ThreatModel, resolveAttackParams } from '../attacks';
import { classCount, logitsOf } from '../attacks/common';
import { attackLoss } from '../attacks/objectives';
import { ATTACK_LOSS_LABELS } from '../catalog';
import { makeBatch } from '../data/batches';
import { Examples } from '../data/types';
import { DIAGNOSTIC_DEFAULTS, Diagnostic, DiagnosticId } from './checks';
import { attackSamples, fractionOf } from './samples';

const TOL = DIAGNOSTIC_DEFAULTS.tolerance;
const pct = (value: number) => `${(100 * value).toFixed(1)}%`;

// ---- Model probes ----

export interface ProbeContext {
  model: tfl.LayersModel;
  /** The probe samples (the first ones of the evaluation). */
  examples: Examples;
  batchSize: number;
  seed: number;
  signal?: AbortSignal;
  /** ε at which the attack probes run, in the evaluation's threat model. */
  eps: number;
  /** The evaluation's threat model (default linf); the check at ε = 1 is always L∞ (any image). */
  norm?: ThreatModel;
  /** The evaluation's worst-case accuracy on the probe samples at `eps`. */
  worstAccuracy: number;
  /** μ_T of a GCCS model: the latent loss joins the loss check. */
  muT?: number;
  /** The evaluation's first iterative attack with a step count, for the convergence check. */
  iterative?: { name: AttackName; label: string; params: AttackParams };
}

/** Every model probe, in order. */
export async function probeModel(context: ProbeContext): Promise<Diagnostic[]> {
  return [
    outputsCheck(context),
    gradientCheck(context),
    await unboundedCheck(context),
    await scaleCheck(context),
    await lossCheck(context),
    ...(context.iterative ? [await convergenceCheck(context, context.iterative)] : []),
  ];
}

/** z of every probe sample, [N·D]. */
function probeOutputs({ model, examples, batchSize }: ProbeContext): Float32Array {
  const n = examples.labels.length;
  const dims = classCount(model);
  const z = new Float32Array(n * dims);
  for (let start = 0; start < n; start += batchSize) {
    const { x, y } = makeBatch(
      examples,
      Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => start + i),
    );
    y.dispose();
    z.set(
      tf.tidy(() => logitsOf(model, x).dataSync() as Float32Array),
      start * dims,
    );
    x.dispose();
  }
  return z;
}

export function outputsCheck(context: ProbeContext): Diagnostic {
  const dims = classCount(context.model);
  const z = probeOutputs(context);
  const n = z.length / dims;
  let probabilityRows = 0;
  for (let b = 0; b < n; b++) {
    const row = z.subarray(b * dims, (b + 1) * dims);
    const sum = row.reduce((a, v) => a + v, 0);
    if (row.every((v) => v >= -1e-4 && v <= 1 + 1e-4) && Math.abs(sum - 1) < 1e-3) probabilityRows++;
  }
  // Saturation: many values sitting exactly at their output's smallest or largest value.
  let extreme = 0;
  for (let j = 0; j < dims; j++) {
    let [lo, hi] = [Infinity, -Infinity];
    for (let b = 0; b < n; b++) [lo, hi] = [Math.min(lo, z[b * dims + j]), Math.max(hi, z[b * dims + j])];
    const near = (v: number, end: number) => Math.abs(v - end) <= 1e-6 * (1 + Math.abs(end));
    for (let b = 0; b < n; b++) if (hi > lo && (near(z[b * dims + j], lo) || near(z[b * dims + j], hi))) extreme++;
  }
  const saturated = extreme / z.length;
  if (probabilityRows >= 0.99 * n) {
    return {
      id: 'outputs',
      ok: false,
      message: `the outputs look like probabilities (${pct(probabilityRows / n)} of rows lie in [0, 1] and sum to 1): a final softmax flattens the gradients the attacks follow — attack the logits (remove the softmax layer) or rely on gradient-free attacks`,
    };
  }
  if (saturated > DIAGNOSTIC_DEFAULTS.saturatedFraction) {
    return {
      id: 'outputs',
      ok: false,
      message: `the outputs saturate (${pct(saturated)} of output values sit exactly at their smallest or largest value): a saturating last layer hides the gradients — attack the values before it, or rely on gradient-free attacks`,
    };
  }
  return { id: 'outputs', ok: true, message: `the outputs are logits (not probabilities; ${pct(saturated)} of values at an extreme)` };
}

export function gradientCheck({ model, examples, batchSize }: ProbeContext): Diagnostic {
  const n = examples.labels.length;
  let zero = 0;
  let nonFinite = 0;
  for (let start = 0; start < n; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => start + i);
    const { x, y } = makeBatch(examples, indices);
    y.dispose();
    const labels = examples.labels.subarray(start, start + indices.length);
    const gradient = tf.tidy(
      () =>
        tf
          .grad((input: tf.Tensor) => tf.sum(attackLoss('crossentropy', logitsOf(model, input), labels, 1)))(x)
          .dataSync() as Float32Array,
    );
    x.dispose();
    const size = gradient.length / indices.length;
    for (let b = 0; b < indices.length; b++) {
      const row = gradient.subarray(b * size, (b + 1) * size);
      if (!row.every(Number.isFinite)) nonFinite++;
      else if (row.every((v) => v === 0)) zero++;
    }
  }
  const share = (zero + nonFinite) / n;
  const counts = `${pct(zero / n)} of samples have an all-zero input gradient of the cross-entropy loss, ${pct(nonFinite / n)} a NaN or infinite one`;
  if (share > DIAGNOSTIC_DEFAULTS.gradientFraction) {
    return {
      id: 'gradients',
      ok: false,
      message: `${counts}: gradient attacks cannot move these samples (masking, not robustness) — look for saturating or non-differentiable layers, and rely on gradient-free attacks`,
    };
  }
  return { id: 'gradients', ok: true, message: counts };
}

/** Accuracy on the probe samples under PGD (probe steps) with these parameters, on `model`. */
async function probePgd(context: ProbeContext, params: AttackParams, model = context.model): Promise<number> {
  const indices = Int32Array.from({ length: context.examples.labels.length }, (_, i) => i);
  const resolved = resolveAttackParams('pgd', { steps: DIAGNOSTIC_DEFAULTS.probeSteps, norm: context.norm ?? 'linf', ...params });
  const { robust } = await attackSamples(model, context.examples, indices, 'pgd', resolved, context);
  return fractionOf(robust);
}

async function unboundedCheck(context: ProbeContext): Promise<Diagnostic> {
  const chance = 1 / classCount(context.model);
  const accuracy = await probePgd(context, { eps: 1, norm: 'linf' });
  const said = `PGD-${DIAGNOSTIC_DEFAULTS.probeSteps} at ε = 1 (any image allowed) leaves ${pct(accuracy)} (chance: ${pct(chance)})`;
  if (accuracy > chance)
    return {
      id: 'unbounded',
      ok: false,
      message: `${said}: an attack free to draw any image must win — the gradients are broken (masking); do not trust gradient attacks on this model`,
    };
  return { id: 'unbounded', ok: true, message: said };
}

/** The model with its outputs divided by T (weights shared). */
function scaledOutputs(model: tfl.LayersModel, temperature: number): tfl.LayersModel {
  if (temperature === 1) return model;
  const output = tfl.layers.rescaling({ scale: 1 / temperature }).apply(model.outputs[0]) as tfl.SymbolicTensor;
  return tfl.model({ inputs: model.inputs, outputs: output });
}

async function scaleCheck(context: ProbeContext): Promise<Diagnostic> {
  const accuracies: number[] = [];
  for (const temperature of DIAGNOSTIC_DEFAULTS.temperatures)
    accuracies.push(await probePgd(context, { eps: context.eps, loss: 'crossentropy' }, scaledOutputs(context.model, temperature)));
  const said = `cross-entropy PGD-${DIAGNOSTIC_DEFAULTS.probeSteps} on z/T at ε = ${context.eps}: ${DIAGNOSTIC_DEFAULTS.temperatures.map((t, i) => `T = ${t} ${pct(accuracies[i])}`).join(', ')}`;
  const stronger = Math.min(...accuracies.slice(1)) < accuracies[0] - TOL;
  return sensitivity(
    context,
    'output-scale',
    said,
    accuracies,
    stronger ? 'scaling the outputs down makes the cross-entropy attack stronger (its softmax saturates at T = 1)' : undefined,
  );
}

async function lossCheck(context: ProbeContext): Promise<Diagnostic> {
  const losses: ('crossentropy' | 'margin' | 'latent')[] = ['crossentropy', 'margin', ...(context.muT !== undefined ? (['latent'] as const) : [])];
  const accuracies: number[] = [];
  for (const loss of losses) accuracies.push(await probePgd(context, { eps: context.eps, loss, ...(loss === 'latent' && { muT: context.muT }) }));
  const said = `PGD-${DIAGNOSTIC_DEFAULTS.probeSteps} at ε = ${context.eps} by attack loss: ${losses.map((loss, i) => `${ATTACK_LOSS_LABELS[loss]} ${pct(accuracies[i])}`).join(', ')}`;
  const best = Math.min(...accuracies.slice(1));
  return sensitivity(
    context,
    'loss',
    said,
    accuracies,
    best < accuracies[0] - TOL ? `the ${ATTACK_LOSS_LABELS[losses[accuracies.indexOf(best)]]} loss beats cross-entropy by ${pct(accuracies[0] - best)}` : undefined,
  );
}

/**
 * The verdict of a probe family (accuracies[0]: plain cross-entropy). A warning when a probe got
 * lower than the evaluation's own worst case: its attacks missed what a 20-step PGD finds. When
 * another form of the attack only beats cross-entropy (`finding`), cross-entropy results (the
 * paper's protocol) overstate robustness, which the worst case already accounts for.
 */
function sensitivity(context: ProbeContext, id: DiagnosticId, said: string, accuracies: number[], finding?: string): Diagnostic {
  const lowest = Math.min(...accuracies);
  const why = finding ? `${finding}; ` : '';
  if (lowest < context.worstAccuracy - TOL) {
    return {
      id,
      ok: false,
      message: `${said}: ${why}the probe finds ${pct(lowest)} on the first ${context.examples.labels.length} samples where the evaluation's worst case is ${pct(context.worstAccuracy)} — its attacks are too weak; add stronger ones (the autoattack preset)`,
    };
  }
  if (finding)
    return {
      id,
      ok: true,
      message: `${said}: ${finding}, so cross-entropy attacks alone (the paper's) overstate robustness; the worst case (${pct(context.worstAccuracy)} on these samples) already accounts for it`,
    };
  return { id, ok: true, message: said };
}

async function convergenceCheck(context: ProbeContext, attack: NonNullable<ProbeContext['iterative']>): Promise<Diagnostic> {
  const indices = Int32Array.from({ length: context.examples.labels.length }, (_, i) => i);
  const resolved = resolveAttackParams(attack.name, { ...attack.params, eps: context.eps });
  const key = 'steps' in resolved ? 'steps' : 'iterations';
  const steps = (resolved as unknown as Record<string, number>)[key];
  const run = async (count: number) => {
    // Twice the steps at the same total path: the default step size 2.5ε/K follows K.
    const params = resolveAttackParams(attack.name, { ...attack.params, eps: context.eps, [key]: count });
    return fractionOf((await attackSamples(context.model, context.examples, indices, attack.name, params, context)).robust);
  };
  const [once, twice] = [await run(steps), await run(2 * steps)];
  const said = `${attack.label} with ${steps} → ${2 * steps} ${key} at ε = ${context.eps}: ${pct(once)} → ${pct(twice)}`;
  if (twice < once - TOL)
    return {
      id: 'convergence',
      ok: false,
      message: `${said}: not converged (doubling the ${key} changes the result by more than 1 point) — raise the ${key} until it stops changing`,
    };
  return { id: 'convergence', ok: true, message: `${said} (converged)` };
}
