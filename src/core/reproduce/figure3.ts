/**
 * The paper's Figure 3 for one model: z of the first test samples of classes 0, 1 and 9, clean and
 * after each attack, projected onto the plane of those classes' simplex vertices exactly as the
 * latent panel draws it (metrics/projection.ts: vertexPlane at vertexScale), so the report's plots
 * read like the panel's. Attacked outputs come from the latent panel's own helper (inspect/latent.ts).
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { AttackName, AttackParams, resolveAttackParams } from '../attacks';
import { displayName } from '../catalog';
import { subset } from '../data';
import type { Examples } from '../data/types';
import { attackedOutputs } from '../inspect/latent';
import { argmaxRows, computeOutputs } from '../metrics';
import { project, vertex, vertexPlane, vertexScale } from '../metrics/projection';
import { PAPER_GRADIENT_ATTACKS } from '../robustness/presets';
import { ATTACK_DEFAULTS, FIGURE3 } from './plan';

/** One plot: the shown samples clean ("no attack") or after one attack. */
export interface LatentPanel {
  label: string;
  /** null: no attack, or an attack without an ε budget (JSMA). */
  eps: number | null;
  params: AttackParams | null;
  /** Of the shown samples, the fraction still classified as their label. */
  accuracy: number;
  /** Mean ‖z_attacked − z‖₂ over the shown samples (0 without attack). */
  meanShift: number;
  /** [x, y] of each shown sample in the vertex plane, in the order of `labels`. */
  points: [number, number][];
}

export interface LatentFigure {
  classes: number[];
  /** The label of each shown sample. */
  labels: number[];
  /** Where the vertices are drawn: μ_T for GCCS, else each class's mean own output (vertexScale). */
  scale: number;
  axes: [string, string];
  /** The chosen classes' vertices scale·e_k in the plane. */
  vertices: [number, number][];
  panels: LatentPanel[];
}

/** The attacks of the figure: the paper's gradient attacks at ε, then JSMA (no ε budget). */
export function figureAttacks(eps: number, jsmaIterations: number): { name: AttackName; label: string; eps: number | null; params: AttackParams }[] {
  return [
    ...PAPER_GRADIENT_ATTACKS.map((a) => ({ name: a.name as AttackName, label: a.label ?? displayName(a.name), eps, params: { ...a.params, eps } })),
    { name: 'jsma' as const, label: `JSMA-${jsmaIterations}`, eps: null, params: { maxIterations: jsmaIterations } },
  ];
}

/** The figure's classes for a model of `dims` outputs: the paper's 0, 1, 9, or the first three of a smaller set. */
export function figureClasses(dims: number): number[] {
  return FIGURE3.classes.every((k) => k < dims) ? FIGURE3.classes : [0, 1, 2].filter((k) => k < dims);
}

/** Indices of the first `perClass` examples of each class, in the split's order. */
export function figureSamples(labels: ArrayLike<number>, classes: number[], perClass: number): number[] {
  const taken = new Map(classes.map((k) => [k, 0]));
  const chosen: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    const seen = taken.get(labels[i]);
    if (seen === undefined || seen >= perClass) continue;
    taken.set(labels[i], seen + 1);
    chosen.push(i);
  }
  return chosen;
}

const round = (value: number) => Number(value.toPrecision(5));

export async function latentFigure(
  model: LayersModel,
  muT: number | null,
  examples: Examples,
  settings: { eps: number; jsmaIterations: number },
  signal?: AbortSignal,
): Promise<LatentFigure> {
  const dims = model.outputs[0].shape[1] as number;
  const classes = figureClasses(dims);
  const shown = subset(examples, figureSamples(examples.labels, classes, FIGURE3.samplesPerClass));
  const labels = Array.from(shown.labels);
  const { z } = computeOutputs(model, shown);
  const rowOf = (values: Float32Array, n: number) => Array.from(values.subarray(n * dims, (n + 1) * dims));
  const scale = vertexScale(
    muT,
    labels.map((label, n) => ({ label, z: rowOf(z, n) })),
  );
  const projection = vertexPlane(dims, classes, scale);
  const pointsOf = (values: Float32Array) => labels.map((_, n) => project(projection, rowOf(values, n)).map(round) as [number, number]);
  const panel = (label: string, eps: number | null, params: AttackParams | null, values: Float32Array): LatentPanel => {
    const predictions = argmaxRows(values, dims);
    let shift = 0;
    for (let n = 0; n < labels.length; n++) {
      let squared = 0;
      for (let j = n * dims; j < (n + 1) * dims; j++) squared += (values[j] - z[j]) ** 2;
      shift += Math.sqrt(squared);
    }
    const correct = labels.filter((label, n) => predictions[n] === label).length;
    return {
      label,
      eps,
      params,
      accuracy: labels.length ? correct / labels.length : 0,
      meanShift: labels.length ? round(shift / labels.length) : 0,
      points: pointsOf(values),
    };
  };
  const panels = [panel('no attack', null, null, z)];
  for (const attack of figureAttacks(settings.eps, settings.jsmaIterations)) {
    const params = resolveAttackParams(attack.name, attack.params);
    const attacked = await attackedOutputs(model, shown, attack.name, params, ATTACK_DEFAULTS.seed, signal);
    panels.push(panel(attack.label, attack.eps, attack.params, attacked));
  }
  return {
    classes,
    labels,
    scale: round(scale),
    axes: projection.axes,
    vertices: classes.map((k) => project(projection, vertex(dims, k, scale)).map(round) as [number, number]),
    panels,
  };
}
