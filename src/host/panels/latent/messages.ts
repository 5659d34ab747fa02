/**
 * Extension host ↔ latent space webview (webview/latent.ts, src/host/panels/latent/panel.ts).
 */
import { LATENT_ATTACKS } from '../../../core/catalog';
import { WEBVIEW_LIMITS } from '../../../core/limits';
import { absolutePath, saveMessages } from '../messages';
import { Checked, finite, integer, object, oneOf, optional, someFields, tagged } from '../messageCheck';

/** One sample's outputs z, and its outputs after the attack when one was asked for. */
export interface LatentSample {
  label: number;
  z: number[];
  zAttacked?: number[];
}

/** Latent vectors of one model, from `gccs latent --json`. */
export interface LatentData {
  /** The model folder (or its checkpoint/ during training). */
  modelDir: string;
  title: string;
  /** Where the points come from, e.g. "test split, 500 samples, checkpoint after epoch 3". */
  detail: string;
  classNames: string[];
  dims: number;
  /** μ_T of a GCCS model; null for cross-entropy. */
  muT: number | null;
  attack: { name: string; eps: number } | null;
  samples: LatentSample[];
}

/** What the host computes: the samples and the attack. Projection and classes are the webview's own. */
const checkLatentRequest = object({
  count: integer(1, WEBVIEW_LIMITS.latentSamples),
  attack: oneOf('none', ...LATENT_ATTACKS),
  eps: finite(0, 1),
});
export type LatentRequest = Checked<typeof checkLatentRequest>;
/** The latent panel's first request: the one home of its defaults (host and webview). */
export const LATENT_DEFAULTS: LatentRequest = { count: 500, attack: 'none', eps: 0.1 };

export interface LatentView {
  projection: 'vertices' | 'simplex' | 'pca';
  /** 2 or 3 classes for the vertex plane; the classes drawn otherwise (empty: all). */
  classes: number[];
}

export interface LatentState {
  modelDir?: string;
  request: LatentRequest;
  view: LatentView;
  data?: LatentData;
}

export type HostToLatent =
  | { type: 'latent'; data: LatentData }
  /** A computation started (busy) or failed; the panel says it instead of staying blank. */
  | { type: 'status'; message: string; busy: boolean; isError: boolean };

export const checkLatentToHost = tagged({
  /** The script runs; `modelDir` from its saved state, if any. */
  ready: { modelDir: optional(absolutePath), request: checkLatentRequest },
  /** Recompute with another sample count or attack. */
  request: { request: checkLatentRequest },
  /** Pick another model folder. */
  pickModel: {},
  /** The chart was drawn with this many points (clean and attacked); Show Latent Space resolves with it. */
  drawn: { points: integer(0, 2 * WEBVIEW_LIMITS.latentSamples) },
  ...saveMessages,
});
export type LatentToHost = Checked<typeof checkLatentToHost>;

/** What the host reads of a restored latent panel's saved state (LatentState). */
export const checkRestoredLatent = someFields({ modelDir: optional(absolutePath), request: optional(checkLatentRequest) });

export type RestoredLatent = Checked<typeof checkRestoredLatent>;
