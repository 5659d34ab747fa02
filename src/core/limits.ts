/**
 * The one home of every cap on what a file, a flag or a configuration may ask for. Files users
 * open may be hostile: these are checked before anything is allocated, and each refusal names
 * the cap so README › Limits can explain it. No TensorFlow.js here (the host imports it).
 */

const MiB = 1024 * 1024;

/** Model folders: model.json, weight shards, gccs.json. */
export const MODEL_LIMITS = {
  /** model.json (topology + manifest); real ones are a few hundred kB. */
  modelJsonBytes: 16 * MiB,
  /** All weight shards together (ResNet-18 on CIFAR is 45 MB). */
  weightBytes: 512 * MiB,
  /** gccs.json (per-epoch records included). */
  metaBytes: 4 * MiB,
} as const;
