/** Planning the evaluation presets (their data is in the catalog): which attacks this build has, their parameters checked. */
import {
  ATTACK_CATALOG,
  AttackName,
  AttackParams,
  PRESETS,
  PRESET_NAMES,
  Preset,
  PresetAttack,
  PresetName,
  checkAttackParams,
  displayName,
  isAttackName,
  isPresetName,
  isWhiteBox,
  takesEps,
} from '../catalog';
import { UserError } from '../errors';
import type { Grid, SweepAttackConfig } from '../sweep/types';

export { PRESETS, PRESET_NAMES, isPresetName } from '../catalog';
export type { Preset, PresetAttack, PresetName } from '../catalog';

/**
 * The paper's gradient attacks (FGSM, PGD, TGSM; all have an ε budget): cheap, so every evaluation
 * also runs them to say what the paper's protocol would report.
 */
export const PAPER_GRADIENT_ATTACKS: PresetAttack[] = PRESETS.paper.attacks.filter((attack) => isWhiteBox(attack.name));

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

/**
 * The preset's attacks this build has, parameters checked; a library caller may give its own
 * Preset. Throws a one-line UserError for an unknown preset or one with no attack available.
 */
export function planPreset(given: string | Preset): PresetPlan {
  if (typeof given === 'string' && !isPresetName(given)) throw new UserError(`unknown preset "${given}": expected one of ${PRESET_NAMES.join(', ')}`);
  const [name, preset]: [string, Preset] = typeof given === 'string' ? [given, PRESETS[given as PresetName]] : ['custom', given];
  const known = (attack: PresetAttack) => isAttackName(attack.name);
  const missing = preset.attacks.filter((attack) => !known(attack)).map((attack) => attack.name);
  if (missing.length === preset.attacks.length) throw new UserError(`preset "${name}" needs ${missing.join(', ')}, none of which this build has`);
  return { name, preset, attacks: preset.attacks.filter(known).map(planAttack), missing };
}

export function planAttack(attack: PresetAttack): PlannedAttack {
  const name = attack.name as AttackName;
  const params = attack.params ?? {};
  checkAttackParams(name, params);
  return { name, label: attack.label ?? displayName(name), params, bounded: takesEps(ATTACK_CATALOG[name]) };
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
