/**
 * The catalog: every list and default the engine, the CLI, the schemas, the extension host and the
 * webviews share (attacks and their parameters, presets, models, losses, datasets). No
 * TensorFlow.js here, directly or through an import, so every part of the project may import it.
 */
import { ATTACK_CATALOG } from './attacks';
import { DATASET_KINDS } from './datasets';
import { PRESETS } from './presets';
import type { Catalog } from './schemas';

export * from './attacks';
export * from './datasets';
export * from './losses';
export * from './models';
export * from './params';
export * from './presets';
export * from './schemas';

export const CATALOG: Catalog = { attacks: ATTACK_CATALOG, presets: PRESETS, datasets: DATASET_KINDS };
