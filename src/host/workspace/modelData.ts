/**
 * The data a model without a gccs.json is run on: an ONNX file (README › Evaluating ONNX models)
 * or a LayersModel trained elsewhere names no dataset, so the extension asks for one
 * (commands/modelData.ts), remembers the answer per model for the workspace, and hands it to the
 * engine as a sweep's `data` or as the dataset options of a worker's `latent` / `evaluate` request
 * (what `--dataset`, `--data` and `--test-range` are to the CLI). No vscode here; tested directly.
 */
import * as fs from 'node:fs';
import { isOnnxFile, readModelMeta, resolveModelJson } from '../../core/io/modelLocation';
import { readResultsFile } from '../../core/sweep/results';
import type { SweepDataConfig } from '../../core/sweep/types';
import type { ModelSplitOptions } from '../../core/inspect/types';
import { WIZARD_DATASETS } from './wizard';

/**
 * Whether the model needs to be told its data: an .onnx file, or a model folder without gccs.json
 * (a gccs.json that cannot be read is the engine's to report, naming its problem).
 */
export function needsData(model: string): boolean {
  if (isOnnxFile(model)) return true;
  const modelJson = resolveModelJson(model);
  try {
    return fs.existsSync(modelJson) && readModelMeta(modelJson) === null;
  } catch {
    return false;
  }
}

/**
 * The dataset options of a `latent` or `evaluate` request for the data a sweep would attack: its
 * test split, seeded as the sweep seeds it, no validation part.
 */
export function splitOptionsOf(
  data: SweepDataConfig,
): Pick<ModelSplitOptions, 'dataset' | 'data' | 'seed' | 'syntheticTrain' | 'syntheticTest' | 'testRange' | 'valFraction'> {
  return {
    dataset: data.kind,
    ...(data.path !== undefined && { data: data.path }),
    seed: data.seed ?? 0,
    ...(data.syntheticTrain !== undefined && { syntheticTrain: data.syntheticTrain }),
    ...(data.syntheticTest !== undefined && { syntheticTest: data.syntheticTest }),
    ...(data.testRange !== undefined && { testRange: data.testRange }),
    valFraction: 0,
  };
}

/** "MNIST (/data/mnist)", "Synthetic shapes", "CIFAR-10 (download cache)": the data in a pick or a message. */
export function dataLabel(data: SweepDataConfig): string {
  const name = WIZARD_DATASETS.find((choice) => choice.kind === data.kind)?.label ?? data.kind;
  const where = data.path ?? (data.kind === 'synthetic' ? undefined : 'download cache');
  return `${name}${where ? ` (${where})` : ''}${data.testRange ? `, samples ${data.testRange}` : ''}`;
}

/** The data `model` was attacked on in a sweep results file (for Compare Models' clean evaluation of the same samples); undefined when no cell names it. */
export function resultsDataOf(resultsFile: string, model: string): SweepDataConfig | undefined {
  const cell = readResultsFile(resultsFile).results.find((result) => result.cell.model === model)?.cell;
  if (!cell) return undefined;
  return { ...cell.data.spec, ...(cell.data.testRange !== null && { testRange: cell.data.testRange }) };
}

/** Where the answers are kept: the workspace's memento (vscode.Memento has this shape). */
export interface DataStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void>;
}

const STORE_KEY = 'gccs.modelData';

/** The data each model without gccs.json was last run on, per model path, for this workspace. */
export class ModelDataMemory {
  constructor(private readonly store: DataStore) {}

  get(model: string): SweepDataConfig | undefined {
    return this.store.get<Record<string, SweepDataConfig>>(STORE_KEY)?.[model];
  }

  async remember(model: string, data: SweepDataConfig): Promise<void> {
    await this.store.update(STORE_KEY, { ...this.store.get<Record<string, SweepDataConfig>>(STORE_KEY), [model]: data });
  }
}
