import { UserError } from '../errors';
import { CONFIG_LIMITS } from '../limits';

/** Drops float noise such as 0.30000000000000004 from start + i·step. */
const tidy = (value: number) => Number(value.toPrecision(12));

const number = (text: string) => (text.trim() === '' ? NaN : Number(text));

/** The grid's text as errors quote it: a hostile one may be a megabyte long. */
const quoted = (text: string) => JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}...` : text);

/**
 * The values of a grid written "start:stop:step" (stop included when it lies on the grid, within
 * rounding) or as a comma list "0,0.05,0.1". Either has at most CONFIG_LIMITS.gridValues values,
 * counted before any is built. Throws a UserError naming the text.
 */
export function parseGrid(text: string): number[] {
  const max = CONFIG_LIMITS.gridValues;
  const bad = () => new UserError(`${quoted(text)} is not a grid: expected start:stop:step (e.g. 0:0.1:0.01) or a comma list (e.g. 0,0.05,0.1)`);
  const range = text.split(':', 4);
  if (range.length === 3) {
    const [start, stop, step] = range.map(number);
    if (![start, stop, step].every(Number.isFinite)) throw bad();
    if (step <= 0) throw new UserError(`grid ${quoted(text)}: the step must be > 0`);
    if (stop < start) throw new UserError(`grid ${quoted(text)}: stop is below start`);
    const points = Math.floor((stop - start) / step + 1e-6) + 1;
    if (!(points <= max)) throw new UserError(`grid ${quoted(text)} has ${points} points (at most ${max})`);
    return Array.from({ length: points }, (_, i) => tidy(start + i * step));
  }
  if (range.length !== 1) throw bad();
  let commas = 0;
  for (let i = text.indexOf(','); i !== -1 && commas < max; i = text.indexOf(',', i + 1)) commas++;
  if (commas >= max) throw new UserError(`grid ${quoted(text)} has more than ${max} values`);
  const values = text.split(',').map(number);
  if (!values.every(Number.isFinite)) throw bad();
  return values;
}
