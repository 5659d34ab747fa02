/** The dataset kinds the engine loads (core/data has the loaders). */

export const DATASET_KINDS = ['synthetic', 'mnist', 'fmnist', 'cifar10', 'cifar100', 'svhn', 'folder'] as const;
export type DatasetKind = (typeof DATASET_KINDS)[number];
