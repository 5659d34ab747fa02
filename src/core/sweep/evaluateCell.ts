/** Runs sweep cells inside one process (a worker): loads what a cell needs once and attacks. */
import type * as tfl from '@tensorflow/tfjs-layers';
import { AttackName, ResolvedAttackParams, withDefaults } from '../catalog';
import { Examples, loadDataset, makeSplits, subset } from '../data';
import { assertInputShape, assertOutputWidth } from '../models/compatibility';
import { loadModelDir } from '../io/modelDir';
import { encodeBits } from '../robustness/bits';
import { attackSamples, fractionOf } from '../robustness/samples';
import type { CellData, CellEvaluation, SweepCell } from './types';

export interface TestSplit {
  test: Examples;
  classNames: string[];
  source: string;
}

function cached<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let value = cache.get(key);
  if (!value) cache.set(key, (value = load()));
  return value;
}

/** FGSM at ε = 0 is the identity: a cell at ε = 0 is one clean pass, whatever its attack. */
const CLEAN_PASS = withDefaults('fgsm', { eps: 0 });

/** NaN (nothing to average) becomes null, as JSON would write it anyway. */
const orNull = (value: number) => (Number.isNaN(value) ? null : value);

/** The attack a cell runs: its own, or the clean pass at ε = 0. The plan filled in and checked every parameter (planSweep); a worker receives them as JSON. */
export function cellAttack(cell: SweepCell): [AttackName, ResolvedAttackParams] {
  return cell.eps === 0 ? ['fgsm', CLEAN_PASS] : [cell.attack, cell.params as ResolvedAttackParams];
}

/** Evaluates cells one after another, keeping the models and test splits loaded for the next cells. */
export class CellEvaluator {
  private readonly models = new Map<string, Promise<{ model: tfl.LayersModel; modelJson: string }>>();
  private readonly splits = new Map<string, Promise<TestSplit>>();

  constructor(private readonly backend: string) {}

  async evaluate(cell: SweepCell, signal?: AbortSignal, onProgress?: (done: number, total: number) => void): Promise<CellEvaluation> {
    const { model, modelJson } = await cached(this.models, cell.model, () => loadModelDir(cell.model));
    const { test, classNames, source } = await cached(this.splits, JSON.stringify(cell.data), () => testSplit(cell.data));
    assertOutputWidth(model, modelJson, classNames.length, source);
    assertInputShape(model, modelJson, test.shape);
    const examples = subset(test, Int32Array.from({ length: Math.min(cell.count, test.labels.length) }, (_, i) => i));
    const [name, params] = cellAttack(cell);
    const indices = Int32Array.from({ length: examples.labels.length }, (_, i) => i);
    const result = await attackSamples(model, examples, indices, name, params, { batchSize: cell.batchSize, seed: cell.seed, signal, onProgress });
    return {
      cellId: cell.id,
      accuracy: fractionOf(result.robust),
      cleanAccuracy: fractionOf(result.clean),
      count: indices.length,
      ...(result.rho !== undefined && { rho: orNull(result.rho) }),
      ...(result.meanChangedPixels !== undefined && { meanChangedPixels: orNull(result.meanChangedPixels) }),
      robust: encodeBits(result.robust),
      seconds: result.seconds,
      backend: this.backend,
    };
  }
}

/** The test split a cell's examples come from (its first `count` samples). */
export async function testSplit(data: CellData): Promise<TestSplit> {
  const ranges = { trainRange: data.trainRange ?? undefined, testRange: data.testRange ?? undefined };
  const dataset = await loadDataset(data.spec, ranges);
  const { test } = makeSplits(dataset, {
    ...ranges,
    valFraction: data.validationFraction,
    seed: data.splitSeed,
  });
  return { test, classNames: dataset.classNames, source: dataset.source };
}
