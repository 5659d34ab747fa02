/**
 * GCCS: Evaluate Robustness's attack picker, from the catalog: every attack it has, the ε question
 * only when a picked attack has an ε budget, the answers checked by the sweep schema's rules (so
 * the input boxes and the sweep file agree), and the sweep entries of what was picked. No vscode
 * here (tested directly, with a catalog that has more attacks).
 */
import { CATALOG, Catalog, takesEps } from '../../core/catalog';
import { SWEEP_SCHEMA } from '../../core/sweep/config';
import { parseGrid } from '../../core/sweep/grid';
import { validateJson } from '../../core/sweep/jsonSchema';
import type { SweepAttackConfig } from '../../core/sweep/types';

export interface AttackPickItem {
  /** The attack's name (what the sweep file says). */
  label: string;
  description: string;
  detail: string;
  picked: boolean;
}

/** One item per catalog attack, those in `defaults` (the gccs.defaultAttacks setting) ticked. */
export function attackPickItems(defaults: readonly string[], catalog: Catalog = CATALOG): AttackPickItem[] {
  return Object.entries(catalog.attacks).map(([name, entry]) => ({
    label: name,
    description: `${entry.display}: ${takesEps(entry) ? 'ε grid' : 'once per model (no ε budget)'}`,
    detail: entry.description,
    picked: defaults.includes(name),
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
