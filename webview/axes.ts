/** Tick labels and ranges of the panels' chart axes: pure functions, tested without a browser. */

const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });

/** The leading digits a log axis labels, sparsest first: the first that labels two of its ticks is used. */
const LOG_LABEL_MANTISSAS = [[1], [1, 2, 5], [1, 2, 3, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]];

/**
 * A log axis labels only its powers of ten, compactly ("100K", "1M", "0.01"): Chart.js would also
 * label the 2–9 multiples, whose labels crowd into each other ("100,000" over "80,000"). An axis
 * with fewer than two powers of ten on it labels its 1-2-5 values, or else its 1-2-3-5 values, or
 * else every tick: always two labels at least (a loss falling from 45,000 to 25,000 has only 50K
 * among its 1-2-5 values).
 */
export function logTickLabel(value: number, ticks: number[]): string {
  const isLabelled = (v: number, mantissas: number[]) => v > 0 && mantissas.some((m) => Math.abs(v / 10 ** Math.floor(Math.log10(v) + 1e-9) - m) < 1e-6);
  const mantissas = LOG_LABEL_MANTISSAS.find((m) => ticks.filter((v) => isLabelled(v, m)).length >= 2) ?? LOG_LABEL_MANTISSAS[LOG_LABEL_MANTISSAS.length - 1];
  if (!isLabelled(value, mantissas)) return '';
  return value >= 1 ? compact.format(value) : String(Number(value.toPrecision(1)));
}

/** An epoch axis labels whole epochs only. */
export const integerTickLabel = (value: number): string => (Number.isInteger(value) ? String(value) : '');

/**
 * The epoch axis's range: 1 to the run's epochs; a one-epoch run gets half an epoch on either side,
 * so its one point stands in the middle under the label "1" instead of at the edge of a 1–2 axis.
 */
export function epochRange(totalEpochs: number): { min: number; max: number } {
  return totalEpochs <= 1 ? { min: 0.5, max: 1.5 } : { min: 1, max: totalEpochs };
}
