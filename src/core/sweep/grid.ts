import { UserError } from '../errors';

/** More points than this is surely a typo in the step. */
const MAX_POINTS = 1000;

/** Drops float noise such as 0.30000000000000004 from start + i·step. */
const tidy = (value: number) => Number(value.toPrecision(12));

const number = (text: string) => (text.trim() === '' ? NaN : Number(text));

/**
 * The values of a grid written "start:stop:step" (stop included when it lies on the grid, within
 * rounding) or as a comma list "0,0.05,0.1". Throws a UserError naming the text.
 */
export function parseGrid(text: string): number[] {
  const bad = () => new UserError(`"${text}" is not a grid: expected start:stop:step (e.g. 0:0.1:0.01) or a comma list (e.g. 0,0.05,0.1)`);
  const range = text.split(':');
  if (range.length === 3) {
    const [start, stop, step] = range.map(number);
    if (![start, stop, step].every(Number.isFinite)) throw bad();
    if (step <= 0) throw new UserError(`grid "${text}": the step must be > 0`);
    if (stop < start) throw new UserError(`grid "${text}": stop is below start`);
    const points = Math.floor((stop - start) / step + 1e-6) + 1;
    if (points > MAX_POINTS) throw new UserError(`grid "${text}" has ${points} points (at most ${MAX_POINTS})`);
    return Array.from({ length: points }, (_, i) => tidy(start + i * step));
  }
  if (range.length !== 1) throw bad();
  const values = text.split(',').map(number);
  if (!values.every(Number.isFinite)) throw bad();
  return values;
}
