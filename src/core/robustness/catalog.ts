/**
 * What the robustness checks need to know about each attack beyond its parameters: how people name
 * it and what kind of attack it is. Keyed by registry name, so attacks added to the registry later
 * are picked up by name (an attack not listed here is shown in capitals and skipped by the
 * comparisons between kinds).
 */

/**
 * single-step: one gradient step (FGSM); iterative: untargeted gradient iterations (PGD, APGD);
 * targeted: gradient iterations toward other classes; gradient-free: queries only (SPSA, Square);
 * minimal: smallest perturbation, no ε budget (DeepFool, JSMA).
 */
export type AttackRole = 'single-step' | 'iterative' | 'targeted' | 'gradient-free' | 'minimal';

const CATALOG: Record<string, { display: string; role: AttackRole }> = {
  fgsm: { display: 'FGSM', role: 'single-step' },
  pgd: { display: 'PGD', role: 'iterative' },
  'apgd-ce': { display: 'APGD-CE', role: 'iterative' },
  'apgd-dlr': { display: 'APGD-DLR', role: 'iterative' },
  tgsm: { display: 'TGSM', role: 'targeted' },
  'apgd-t': { display: 'APGD-T', role: 'targeted' },
  'fab-t': { display: 'FAB-T', role: 'targeted' },
  spsa: { display: 'SPSA', role: 'gradient-free' },
  square: { display: 'Square', role: 'gradient-free' },
  jsma: { display: 'JSMA', role: 'minimal' },
  deepfool: { display: 'DeepFool', role: 'minimal' },
};

export function displayName(name: string): string {
  return Object.hasOwn(CATALOG, name) ? CATALOG[name].display : name.toUpperCase();
}

export function roleOf(name: string): AttackRole | undefined {
  return Object.hasOwn(CATALOG, name) ? CATALOG[name].role : undefined;
}

/** Attacks that follow the model's gradients (the white-box ones a gradient-free attack should not beat). */
export const isWhiteBox = (name: string) => ['single-step', 'iterative', 'targeted'].includes(roleOf(name) ?? '');
