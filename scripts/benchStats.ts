/**
 * Pure helpers of `npm run bench` (scripts/bench.ts), kept apart so the unit test can check them
 * with given numbers and a sample /proc/cpuinfo without running the bench.
 */
import { median } from '../src/core/stats';

/** Median, min and max of one side's per-round figures, with the rounds themselves. */
export interface RoundSummary {
  median: number;
  min: number;
  max: number;
  rounds: number[];
}

/** Rounds a figure to `digits` significant digits (the bench's figures are not more precise). */
export const round = (value: number, digits = 3) => Number(value.toPrecision(digits));

/** The summary of the rounds as reported (4 significant digits), so it can be recomputed from them. */
export function summarize(rounds: readonly number[]): RoundSummary {
  const reported = rounds.map((v) => round(v, 4));
  return { median: round(median(reported), 4), min: Math.min(...reported), max: Math.max(...reported), rounds: reported };
}

/** The SIMD features the bench reports, in /proc/cpuinfo's spelling. */
export const SIMD_FLAGS = ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx512_bf16'] as const;

/** The first processor's model name and which of SIMD_FLAGS it has, from /proc/cpuinfo's text. */
export function parseCpuInfo(text: string): { model: string | null; simd: string[] } {
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(text)?.[1].trim() ?? null;
  const flags = new Set((field('flags') ?? '').split(/\s+/));
  return { model: field('model name'), simd: SIMD_FLAGS.filter((flag) => flags.has(flag)) };
}

/** A plain warning when the 1-minute load average at start or end exceeds the core count, else null. */
export function loadWarning(cores: number, before: readonly number[], after: readonly number[]): string | null {
  const worst = Math.max(before[0], after[0]);
  return worst > cores ? `load average ${worst.toFixed(2)} exceeds the ${cores} cores: other processes compete for the CPU, the figures are unreliable` : null;
}

/** Median/median of two sides, or null where either is missing. */
export const ratio = (ours: RoundSummary | undefined, theirs: RoundSummary | undefined) => (ours && theirs ? round(ours.median / theirs.median, 3) : null);
