/**
 * GCCS: Evaluate Robustness's attack picker, from the catalog: its presets, then every attack it
 * has; the ε question only when something picked has an ε budget (every preset does); the answers
 * checked by the sweep schema's rules (so the input boxes and the sweep file agree); the sweep
 * entries of what was picked; and the words of the time estimate shown before the run. No vscode
 * here (tested directly, with a catalog that has more attacks).
 */
import { CATALOG, Catalog, displayName, takesEps } from '../../core/catalog';
import { Estimate, estimateBasis, formatEstimate } from '../../core/robustness/estimate';
import { SWEEP_SCHEMA } from '../../core/sweep/config';
import { parseGrid } from '../../core/sweep/grid';
import { validateJson } from '../../core/sweep/jsonSchema';
import type { SweepAttackConfig, SweepPresetConfig } from '../../core/sweep/types';

export interface AttackPickItem {
  /** The attack's or preset's name (what the sweep file says). */
  label: string;
  description: string;
  detail: string;
  picked: boolean;
  /** Presets come first, then attacks; the picker puts a separator before each group. */
  group: 'presets' | 'attacks';
}

/** One item per catalog preset, with what it runs in a sweep (every attack on every sample: no cascade there). */
export function presetPickItems(defaults: readonly string[], catalog: Catalog = CATALOG): AttackPickItem[] {
  return Object.entries(catalog.presets).map(([name, preset]) => ({
    label: name,
    description: preset.description,
    detail: `runs ${preset.attacks.map((attack) => attack.label ?? displayName(attack.name)).join(', ')}, each on every sample, at every ε`,
    picked: defaults.includes(name),
    group: 'presets',
  }));
}

/** The presets, then the attacks: what GCCS: Evaluate Robustness offers. */
export function pickItems(defaults: readonly string[], catalog: Catalog = CATALOG): AttackPickItem[] {
  return [...presetPickItems(defaults, catalog), ...attackPickItems(defaults, catalog)];
}

/** One item per catalog attack, those in `defaults` (the gccs.defaultAttacks setting) ticked. */
export function attackPickItems(defaults: readonly string[], catalog: Catalog = CATALOG): AttackPickItem[] {
  return Object.entries(catalog.attacks).map(([name, entry]) => ({
    label: name,
    description: `${entry.display}: ${takesEps(entry) ? 'ε grid' : 'once per model (no ε budget)'}`,
    detail: entry.description,
    picked: defaults.includes(name),
    group: 'attacks',
  }));
}

/** Whether to ask for an ε grid: some picked attack has an ε budget. */
export function needsEps(picked: readonly string[], catalog: Catalog = CATALOG): boolean {
  return picked.some((name) => takesEps(catalog.attacks[name]));
}

/** The sweep's attack entries: those with an ε budget over the grid `eps`, the others once. */
export function pickedSweepAttacks(picked: readonly string[], eps: string, catalog: Catalog = CATALOG): SweepAttackConfig[] {
  return picked.map((name) => ({ name, ...(takesEps(catalog.attacks[name]) && { eps }) }) as SweepAttackConfig);
}

/** The sweep file's `attacks` and `presets` for what was picked, at the ε grid `eps` (each key only when something was picked for it). */
export function pickedSweepEntries(
  picked: readonly Pick<AttackPickItem, 'label' | 'group'>[],
  eps: string,
  catalog: Catalog = CATALOG,
): { attacks?: SweepAttackConfig[]; presets?: SweepPresetConfig[] } {
  const named = (group: AttackPickItem['group']) => picked.filter((item) => item.group === group).map((item) => item.label);
  const [attacks, presets] = [named('attacks'), named('presets')];
  return {
    ...(attacks.length > 0 && { attacks: pickedSweepAttacks(attacks, eps, catalog) }),
    ...(presets.length > 0 && { presets: presets.map((name) => ({ name, eps })) }),
  };
}

/** Whether to ask for an ε grid: a preset (all have ε attacks) or an attack with an ε budget was picked. */
export function pickNeedsEps(picked: readonly Pick<AttackPickItem, 'label' | 'group'>[], catalog: Catalog = CATALOG): boolean {
  return picked.some((item) => item.group === 'presets') || needsEps(picked.map((item) => item.label), catalog);
}

/** The buttons of the dialog that shows the estimate (Cancel is the dialog's own). */
export const ESTIMATE_CHOICES = { start: 'Start', fewer: 'Fewer Samples…' } as const;

/**
 * The dialog's message and detail: the estimate (of the cells, or with `qualifier` those a resumed
 * sweep still runs), how it was made, and that fewer samples take proportionally less.
 */
export function estimateDialog(estimate: Estimate, qualifier = ''): { message: string; detail: string } {
  return {
    message: `GCCS: ${formatEstimate(estimate, 'cell', qualifier)}`,
    detail: `Estimated from the ${estimateBasis(estimate)}. The time grows with the samples: ${ESTIMATE_CHOICES.fewer} asks for a smaller number.`,
  };
}

/** What is wrong with an ε grid typed in the input box, as a sweep file would be told (the catalog's range included). */
export function epsGridProblem(text: string): string | undefined {
  try {
    const problem = validateJson(parseGrid(text), SWEEP_SCHEMA.$defs!.attack.properties!.eps, SWEEP_SCHEMA);
    return problem && `ε ${problem.message}`;
  } catch (error) {
    return (error as Error).message;
  }
}

/** What is wrong with a sample count typed in the input box (a whole number within the sweep's cap). */
export function countProblem(text: string): string | undefined {
  if (!/^\s*\d+\s*$/.test(text)) return 'a whole number ≥ 1';
  return validateJson(Number(text), SWEEP_SCHEMA.properties!.count, SWEEP_SCHEMA)?.message;
}
