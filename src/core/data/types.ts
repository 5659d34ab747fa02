/**
 * A set of labelled images held as bytes (0–255), compact in memory; batches are turned into
 * float tensors with pixels in [0, 1] on the fly, so the whole set is never one big tensor.
 */
export interface Examples {
  /** N·H·W·C bytes, row-major, channels last. */
  pixels: Uint8Array;
  /** N labels in [0, numClasses). */
  labels: Int32Array;
  /** [H, W, C]. */
  shape: [number, number, number];
}

/** What a loader returns: the parts the source files hold, and what the classes are. */
export interface LoadedDataset {
  /** e.g. "mnist", "cifar10", "synthetic", "folder". */
  kind: string;
  /** The file or folder read (or "built-in"). */
  source: string;
  classNames: string[];
  /** The training files' examples, when the source has them. */
  train?: Examples;
  /** The test files' examples, when the source has them. */
  test?: Examples;
  /**
   * Present when only the examples that the split ranges can use were loaded (see
   * loadDataset): for each loaded part, where its examples start among those its files hold.
   */
  windows?: { train?: PartWindow; test?: PartWindow };
}

/** The examples of a part that were loaded: [start, start + loaded count) of `total`. */
export interface PartWindow {
  start: number;
  /** How many examples the part's files hold. */
  total: number;
}
