/**
 * Evaluation presets: which attacks, with which parameters, in which order.
 * - paper: the paper's six attacks and parameters (FGSM, PGD-5, TGSM-5 toward y+1, JSMA-200,
 *   DeepFool, SPSA at its working point IT = 50, BS = 1024), each on every sample.
 * - autoattack: AutoAttack's "standard" version (Croce & Hein 2020): APGD-CE → APGD-T → FAB-T →
 *   Square with their standard parameters (the catalog's defaults), as a cascade: each attack
 *   only attacks the samples the earlier ones left classified correctly.
 * - quick: APGD-CE and APGD-T with few steps, as a cascade, for a first look.
 * core/robustness/presets.ts plans them.
 */
import type { AttackParams } from './params';

export interface PresetAttack {
  /** Attack name; attacks the catalog does not have (yet) are left out, and the evaluation says so. */
  name: string;
  params?: AttackParams;
  /** How the report names it, e.g. PGD-5; default: the attack's display name. */
  label?: string;
}

export interface Preset {
  description: string;
  /** cascade: each attack only attacks what the earlier ones left; independent: every attack on every sample. */
  order: 'cascade' | 'independent';
  attacks: PresetAttack[];
}

export const PRESETS = {
  paper: {
    description: "the paper's protocol: FGSM, PGD-5, TGSM-5, SPSA (IT 50, BS 1024), JSMA-200 and DeepFool, each on every sample",
    order: 'independent',
    attacks: [
      { name: 'fgsm' },
      { name: 'pgd', params: { steps: 5 }, label: 'PGD-5' },
      { name: 'tgsm', params: { steps: 5, target: 'next' }, label: 'TGSM-5' },
      { name: 'spsa', params: { iterations: 50, samples: 1024 }, label: 'SPSA (IT 50, BS 1024)' },
      { name: 'jsma', params: { maxIterations: 200 }, label: 'JSMA-200' },
      { name: 'deepfool' },
    ],
  },
  autoattack: {
    description: "AutoAttack's standard version: APGD-CE → APGD-T → FAB-T → Square, each attacking only the samples still classified correctly",
    order: 'cascade',
    attacks: [{ name: 'apgd-ce' }, { name: 'apgd-t' }, { name: 'fab-t' }, { name: 'square' }],
  },
  quick: {
    description: 'a first look: APGD-CE and APGD-T with 20 iterations, as a cascade',
    order: 'cascade',
    attacks: [
      { name: 'apgd-ce', params: { iterations: 20 }, label: 'APGD-CE-20' },
      { name: 'apgd-t', params: { iterations: 20 }, label: 'APGD-T-20' },
    ],
  },
} satisfies Record<string, Preset>;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

export function isPresetName(name: string): name is PresetName {
  return Object.hasOwn(PRESETS, name);
}
