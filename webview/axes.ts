/** Tick labels and ranges of the panels' chart axes: pure functions, tested without a browser. */

const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });

/**
 * A log axis labels only its powers of ten, compactly ("100K", "1M", "0.01"): Chart.js would also
 * label the 2–9 multiples, whose labels crowd into each other ("100,000" over "80,000"). An axis
 * spanning less than a decade, with fewer than two powers of ten on it, labels its 1-2-5 values.
 */
export function logTickLabel(value: number, ticks: number[]): string {
  const isLabelled = (v: number, mantissas: number[]) => v > 0 && mantissas.some((m) => Math.abs(v / 10 ** Math.floor(Math.log10(v) + 1e-9) - m) < 1e-6);
  const mantissas = ticks.filter((v) => isLabelled(v, [1])).length >= 2 ? [1] : [1, 2, 5];
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
