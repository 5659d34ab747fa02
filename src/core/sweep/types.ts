/** The shapes of a robustness sweep: its configuration, its cells and the result lines. */
import type { AttackName, AttackParams, GridKey } from '../catalog';
import type { DatasetSpec } from '../data';

export { GRID_KEYS } from '../catalog';
export type { GridKey } from '../catalog';

/** A grid: a list of values or "start:stop:step" (stop included). */
export type Grid = number[] | string;

export interface SweepAttackConfig {
  name: AttackName;
  /** ε grid (attacks with an ε budget); default: the attack's default ε. */
  eps?: Grid;
  /** SPSA: iterations IT; default: the attack's default. */
  iterations?: Grid;
  /** SPSA: ±δ pairs per gradient estimate BS; default: the attack's default. */
  samples?: Grid;
  /** The other parameters (loss, steps, …), fixed for the entry. */
  params?: Omit<AttackParams, GridKey>;
}

/** Data to attack every model on instead of each model's own test split. */
export interface SweepDataConfig extends DatasetSpec {
  /** start:end into the dataset's pool; default: its test part (or a seeded 20% of a one-part dataset). */
  testRange?: string;
}

/** A preset's attacks (src/core/robustness/presets.ts) at an ε grid. */
export interface SweepPresetConfig {
  name: string;
  eps: Grid;
}

export interface SweepConfig {
  /** Model folders (or their model.json / gccs.json). */
  models: string[];
  /** A sweep needs attacks, presets or both. */
  attacks?: SweepAttackConfig[];
  /** Each adds its attacks after `attacks`, every one on every sample (a sweep runs no cascade). */
  presets?: SweepPresetConfig[];
  /** Default: each model's own test split, as recorded in its gccs.json. */
  data?: SweepDataConfig;
  /** The first `count` test samples (default 1000). */
  count?: number;
  /** Default 100, as in the paper. */
  batchSize?: number;
  /** Attack seed (default 0); batch i of a cell uses seed + i. */
  seed?: number;
}

/** Where a cell's examples come from: a test split, as makeSplits draws it. */
export interface CellData {
  spec: DatasetSpec;
  trainRange: string | null;
  testRange: string | null;
  validationFraction: number;
  splitSeed: number;
}

/** One unit of work: one model, one attack, one grid point. */
export interface SweepCell {
  /** Hash of everything that determines the result (not of `entry`). */
  id: string;
  /** Index of the attack entry in the configuration it came from. */
  entry: number;
  /** Absolute path of the model folder (or file) as configured. */
  model: string;
  attack: AttackName;
  /** Every parameter the attack takes (as ResolvedAttackParams), defaults filled in, checked when the sweep was planned. */
  params: AttackParams;
  /** ε, IT and BS of the cell; null where the attack has no such parameter. */
  eps: number | null;
  iterations: number | null;
  samples: number | null;
  data: CellData;
  count: number;
  batchSize: number;
  seed: number;
}

/** What a worker measures for a cell. */
export interface CellEvaluation {
  cellId: string;
  /** Accuracy under attack; samples misclassified clean count as failures. */
  accuracy: number;
  cleanAccuracy: number;
  /** Samples attacked (fewer than the cell's count when the test split is smaller). */
  count: number;
  /** DeepFool's ρ (null when no sample was classified correctly). */
  rho?: number | null;
  /** JSMA's mean fraction of input values changed (null when no sample was classified correctly). */
  meanChangedPixels?: number | null;
  /**
   * Which samples are still classified correctly after the attack, as a base64 bitset (bit i of
   * byte ⌊i/8⌋ is sample i): the per-sample worst case over attacks comes from these. Absent in
   * results written before they were recorded.
   */
  robust?: string;
  seconds: number;
  backend: string;
}

/** One line of the results file. */
export interface CellResult extends Omit<CellEvaluation, 'cellId'> {
  configHash: string;
  cell: SweepCell;
  finishedAt: string;
}

/** What a running sweep reports (sweep/pool.ts), to the CLI, the extension host and a reproduction. */
export type SweepEvent =
  | { type: 'start'; configHash: string; total: number; finished: number; workers: number }
  | { type: 'workerReady'; pid: number; backend: string; detail: string }
  | { type: 'cellStart'; cell: SweepCell; pid: number }
  | { type: 'progress'; cell: SweepCell; pid: number; done: number; total: number }
  | { type: 'cellDone'; result: CellResult; finished: number; total: number }
  | { type: 'log'; pid: number; message: string };
