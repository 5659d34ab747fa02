/**
 * The diagnostics' shared shapes and defaults, and the checks that need only results (no
 * TensorFlow.js, so the extension host can run them on a sweep's results): accuracy rising with ε,
 * iterative attacks weaker than one step, gradient-free attacks breaking what white-box ones miss.
 */
import { isWhiteBox, roleOf } from '../catalog';

export type DiagnosticId =
  'outputs' | 'gradients' | 'unbounded' | 'eps-monotone' | 'iterative-vs-single-step' | 'gradient-free' | 'output-scale' | 'loss' | 'convergence';

export interface Diagnostic {
  id: DiagnosticId;
  /** false: a sign that the numbers may overstate robustness. */
  ok: boolean;
  message: string;
}

export const DIAGNOSTIC_DEFAULTS = {
  /** Accuracy differences below this (1 point) are noise. */
  tolerance: 0.01,
  /** The model probes run on the first this many samples. */
  probeSamples: 200,
  /** Steps of the probes' PGD (step 2.5ε/K). */
  probeSteps: 20,
  /** Output temperatures of the scale check: cross-entropy on z/T. */
  temperatures: [1, 10, 100],
  /** More than this fraction of samples with zero or non-finite input gradients is flagged. */
  gradientFraction: 0.01,
  /** More than this fraction of output values at their column's extreme is saturation. */
  saturatedFraction: 0.5,
  /**
   * Without per-sample outcomes, a gradient-free attack is flagged only when it ends this far
   * (10 points) below the best white-box attack: accuracies alone cannot say whether it broke
   * samples that every white-box attack missed.
   */
  gradientFreeMargin: 0.1,
} as const;

const TOL = DIAGNOSTIC_DEFAULTS.tolerance;
const pct = (value: number) => `${(100 * value).toFixed(1)}%`;

/** One attack's accuracy over ε; `robust` (per sample) when it was recorded. */
export interface AttackSeries {
  /** Registry name, for its role. */
  name: string;
  /** How the report names it, e.g. "PGD-5" or "PGD (attacks[1])". */
  label: string;
  points: { eps: number; accuracy: number; robust?: Uint8Array }[];
}

/** The checks that need only the results. `worst` is the per-sample worst case over ε, when known. */
export function resultChecks(series: AttackSeries[], worst?: { eps: number; accuracy: number }[]): Diagnostic[] {
  return [monotoneCheck(series, worst), iterativeCheck(series), gradientFreeCheck(series)].filter((d): d is Diagnostic => d !== undefined);
}

function monotoneCheck(series: AttackSeries[], worst?: { eps: number; accuracy: number }[]): Diagnostic | undefined {
  const lines = [...series.map((s) => ({ label: s.label, points: s.points })), ...(worst ? [{ label: 'the worst case', points: worst }] : [])].filter(
    (line) => line.points.length > 1,
  );
  if (!lines.length) return undefined;
  for (const line of lines) {
    const points = [...line.points].sort((a, b) => a.eps - b.eps);
    const rise = points.findIndex((p, i) => i > 0 && p.accuracy > points[i - 1].accuracy + TOL);
    if (rise > 0) {
      const [a, b] = [points[rise - 1], points[rise]];
      return {
        id: 'eps-monotone',
        ok: false,
        message: `${line.label}: accuracy rises with ε (${pct(a.accuracy)} at ε = ${a.eps} → ${pct(b.accuracy)} at ε = ${b.eps}), which a working attack never allows: its gradients mislead it (masking) or it has not converged — raise its steps and trust only a worst case that includes a gradient-free attack`,
      };
    }
  }
  return { id: 'eps-monotone', ok: true, message: 'accuracy falls (or stays) as ε grows, for every attack' };
}

/** The lowest accuracy at each ε among the series of `role`. */
function lowestByEps(series: AttackSeries[], keep: (name: string) => boolean): Map<number, { accuracy: number; label: string }> {
  const lowest = new Map<number, { accuracy: number; label: string }>();
  for (const s of series.filter((s) => keep(s.name))) {
    for (const p of s.points)
      if (p.eps > 0 && p.accuracy < (lowest.get(p.eps)?.accuracy ?? Infinity)) lowest.set(p.eps, { accuracy: p.accuracy, label: s.label });
  }
  return lowest;
}

function iterativeCheck(series: AttackSeries[]): Diagnostic | undefined {
  const iterative = lowestByEps(series, (name) => roleOf(name) === 'iterative');
  const single = lowestByEps(series, (name) => roleOf(name) === 'single-step');
  const shared = [...iterative.keys()].filter((eps) => single.has(eps)).sort((a, b) => a - b);
  if (!shared.length) return undefined;
  const bad = shared.find((eps) => iterative.get(eps)!.accuracy > single.get(eps)!.accuracy + TOL);
  if (bad === undefined)
    return { id: 'iterative-vs-single-step', ok: true, message: 'iterative attacks are at least as strong as the single-step one at every ε' };
  const [it, one] = [iterative.get(bad)!, single.get(bad)!];
  return {
    id: 'iterative-vs-single-step',
    ok: false,
    message: `at ε = ${bad}, ${it.label} leaves ${pct(it.accuracy)} but one step of ${one.label} only ${pct(one.accuracy)}: an iterative attack should never do worse than one step — the gradients mislead it (masking) or its step size is wrong; try a random start, the margin loss, or the autoattack preset`,
  };
}

function gradientFreeCheck(series: AttackSeries[]): Diagnostic | undefined {
  const free = series.filter((s) => roleOf(s.name) === 'gradient-free');
  const white = series.filter((s) => isWhiteBox(s.name));
  if (!free.length || !white.length) return undefined;
  let worstGap: { eps: number; gap: number; free: string; perSample: boolean } | undefined;
  const epsValues = [...new Set(free.flatMap((s) => s.points.map((p) => p.eps)))].filter((eps) => eps > 0);
  for (const eps of epsValues) {
    const whitePoints = white.flatMap((s) => s.points.filter((p) => p.eps === eps));
    if (!whitePoints.length) continue;
    for (const s of free) {
      const point = s.points.find((p) => p.eps === eps);
      if (!point) continue;
      let gap: number;
      const perSample = point.robust !== undefined && whitePoints.every((p) => p.robust?.length === point.robust!.length);
      if (perSample) {
        // Samples the gradient-free attack broke that every white-box attack left standing.
        let missed = 0;
        for (let i = 0; i < point.robust!.length; i++) if (!point.robust![i] && whitePoints.every((p) => p.robust![i])) missed++;
        gap = missed / point.robust!.length;
      } else gap = Math.min(...whitePoints.map((p) => p.accuracy)) - point.accuracy;
      if (gap > (perSample ? TOL : DIAGNOSTIC_DEFAULTS.gradientFreeMargin) && gap > (worstGap?.gap ?? 0)) worstGap = { eps, gap, free: s.label, perSample };
    }
  }
  if (!worstGap) return { id: 'gradient-free', ok: true, message: 'the gradient-free attacks find nothing the white-box attacks miss' };
  const { eps, gap, free: label, perSample } = worstGap;
  return {
    id: 'gradient-free',
    ok: false,
    message: `at ε = ${eps}, gradient-free ${label} ${perSample ? `breaks ${pct(gap)} of the samples that every white-box attack left standing` : `ends ${pct(gap)} below the best white-box attack`}: the gradients mislead the white-box attacks (masking) or they are too weak — trust the worst case, and use the autoattack preset`,
  };
}
