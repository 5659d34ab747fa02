/**
 * Evaluation presets: which attacks, with which parameters, in which order.
 * - paper: the paper's six attacks and parameters (FGSM, PGD-5, TGSM-5 toward y+1, JSMA-200,
 *   DeepFool, SPSA at its working point IT = 50, BS = 1024), each on every sample.
 * - autoattack: AutoAttack's "standard" version (Croce & Hein 2020): APGD-CE → APGD-T → FAB-T →
 *   Square with their standard parameters (the registry's defaults), as a cascade: each attack
 *   only attacks the samples the earlier ones left classified correctly.
 * - quick: APGD-CE and APGD-T with few steps, as a cascade, for a first look.
 */
import { ATTACK_NAMES, AttackName, AttackParams, resolveAttackParams } from '../attacks';
import { UserError } from '../errors';
import type { Grid, SweepAttackConfig } from '../sweep/types';
import { displayName } from './catalog';

export interface PresetAttack {
  /** Registry name; attacks the registry does not have (yet) are left out, and the evaluation says so. */
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

/** The paper's gradient attacks with an ε budget: cheap, so every evaluation also runs them to say what the paper's protocol would report. */
export const PAPER_GRADIENT_ATTACKS: PresetAttack[] = PRESETS.paper.attacks.filter((attack) => ['fgsm', 'pgd', 'tgsm'].includes(attack.name));

export interface PlannedAttack {
  name: AttackName;
  label: string;
  params: AttackParams;
  /** Whether the attack has an ε budget (DeepFool and JSMA do not: they run once, outside the worst case). */
  bounded: boolean;
}

export interface PresetPlan {
  /** The preset's name; "custom" for one given as an object. */
  name: string;
  preset: Preset;
  attacks: PlannedAttack[];
  /** Attacks of the preset this build does not have. */
  missing: string[];
}

export function isPresetName(name: string): name is PresetName {
  return Object.hasOwn(PRESETS, name);
}

/**
 * The preset's attacks this build has, parameters checked; a library caller may give its own
 * Preset. Throws a one-line UserError for an unknown preset or one with no attack available.
 */
export function planPreset(given: string | Preset): PresetPlan {
  if (typeof given === 'string' && !isPresetName(given)) throw new UserError(`unknown preset "${given}": expected one of ${PRESET_NAMES.join(', ')}`);
  const [name, preset]: [string, Preset] = typeof given === 'string' ? [given, PRESETS[given as PresetName]] : ['custom', given];
  const known = (attack: PresetAttack) => (ATTACK_NAMES as string[]).includes(attack.name);
  const missing = preset.attacks.filter((attack) => !known(attack)).map((attack) => attack.name);
  if (missing.length === preset.attacks.length) throw new UserError(`preset "${name}" needs ${missing.join(', ')}, none of which this build has`);
  return { name, preset, attacks: preset.attacks.filter(known).map(planAttack), missing };
}

export function planAttack(attack: PresetAttack): PlannedAttack {
  const name = attack.name as AttackName;
  const params = attack.params ?? {};
  return { name, label: attack.label ?? displayName(name), params, bounded: 'eps' in resolveAttackParams(name, params) };
}

/**
 * A preset's attacks as sweep entries at the ε grid `eps` (attacks without an ε budget once). Their
 * grid parameters (SPSA's and APGD's iterations, SPSA's samples) become one-point grids.
 */
export function presetSweepEntries(name: string, eps: Grid): SweepAttackConfig[] {
  return planPreset(name).attacks.map(({ name: attack, params, bounded }) => {
    const { iterations, samples, ...rest } = params;
    return {
      name: attack,
      ...(bounded && { eps }),
      ...(iterations !== undefined && { iterations: [iterations] }),
      ...(samples !== undefined && { samples: [samples] }),
      ...(Object.keys(rest).length > 0 && { params: rest }),
    };
  });
}
