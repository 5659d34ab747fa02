/** Datasets: loading every supported source, splitting, batching and downloading. */
import { UserError } from '../errors';
import { loadCifarFolder } from './cifar';
import { DownloadableKind, cacheFolder } from './download';
import { isFolder } from './files';
import { loadIdxFolder } from './idx';
import { loadImageFolder } from './imageFolder';
import { loadSvhnFolder } from './svhn';
import type { SplitRanges } from './split';
import { makeSynthetic } from './synthetic';
import type { LoadedDataset } from './types';

import { DATASET_KINDS, DatasetKind } from '../catalog';

export { DATASET_KINDS } from '../catalog';
export type { DatasetKind } from '../catalog';

export interface DatasetSpec {
  kind: DatasetKind;
  /** The dataset's folder. Required for svhn and folder; mnist, fmnist, cifar10 and cifar100 default to the download cache. */
  path?: string;
  /** synthetic only: generation seed (default 0) and example counts (default 5000 / 1000). */
  seed?: number;
  syntheticTrain?: number;
  syntheticTest?: number;
  /** folder only: [height, width] to resize to (default: the first image's size). */
  imageSize?: [number, number];
  /** folder only: default 1 if every image is grayscale, else 3. */
  channels?: 1 | 3;
  /** Root of the download cache; default ~/.cache/gccs-lab. */
  cacheRoot?: string;
}

/** The folder to read a downloadable dataset from: the given path, else its cache folder if it exists. */
async function downloadableFolder(spec: DatasetSpec, kind: DownloadableKind): Promise<string> {
  if (spec.path !== undefined) return spec.path;
  const folder = cacheFolder(kind, spec.cacheRoot);
  if (!(await isFolder(folder))) {
    throw new UserError(
      `${kind} is not in the download cache (${folder}): download it first (gccs download --dataset ${kind}) or pass --data <folder>`,
    );
  }
  return folder;
}

function requirePath(spec: DatasetSpec): string {
  if (spec.path === undefined) throw new UserError(`dataset ${spec.kind} needs a folder: pass --data <folder>`);
  return spec.path;
}

/**
 * Loads a dataset: with split `ranges` (those makeSplits will get), only the examples they can
 * use, so a range is also the way to work with part of a dataset too large to load whole.
 * Headers are checked against DATA_LIMITS before anything is allocated.
 */
export async function loadDataset(spec: DatasetSpec, ranges: SplitRanges = {}): Promise<LoadedDataset> {
  switch (spec.kind) {
    case 'synthetic':
      return makeSynthetic({ train: spec.syntheticTrain, test: spec.syntheticTest, seed: spec.seed });
    case 'mnist':
    case 'fmnist':
      return loadIdxFolder(await downloadableFolder(spec, spec.kind), spec.kind, ranges);
    case 'cifar10':
    case 'cifar100':
      return loadCifarFolder(await downloadableFolder(spec, spec.kind), spec.kind, ranges);
    case 'svhn':
      return loadSvhnFolder(requirePath(spec), ranges);
    case 'folder':
      return loadImageFolder(requirePath(spec), { imageSize: spec.imageSize, channels: spec.channels }, ranges);
    default:
      throw new UserError(`unknown dataset kind "${(spec as { kind: string }).kind}": expected one of ${DATASET_KINDS.join(', ')}`);
  }
}

export type { Examples, LoadedDataset } from './types';
export { makeSplits, parseRange, subset } from './split';
export type { Range, SplitOptions, SplitRanges, Splits } from './split';
export { batchOrders, makeBatch } from './batches';
export { DOWNLOADABLE_KINDS, cacheFolder, downloadDataset } from './download';
export type { DownloadableKind, DownloadOptions } from './download';
export { SYNTHETIC_CLASS_NAMES } from './synthetic';
