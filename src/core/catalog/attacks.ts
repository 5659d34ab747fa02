/**
 * The attacks: their names, how people call them, what kind they are, which parameters each takes
 * and where its defaults differ from the shared ones (params.ts). core/attacks maps each name to
 * its implementation; a test keeps the two lists equal. Checking and filling in parameters lives
 * here too, without TensorFlow.js, so a sweep can be planned (and the host can ask) without it.
 */
import { UserError } from '../errors';
import { AttackParams, PARAMS, ParamKey, ResolvedParams, expectedOf, isValidValue } from './params';

/**
 * single-step: one gradient step (FGSM); iterative: untargeted gradient iterations (PGD, APGD);
 * targeted: gradient iterations toward other classes; gradient-free: queries only (SPSA, Square);
 * minimal: smallest perturbation, no ε budget (DeepFool, JSMA).
 */
export type AttackRole = 'single-step' | 'iterative' | 'targeted' | 'gradient-free' | 'minimal';

export interface AttackEntry {
  /** How people name it, e.g. APGD-CE. */
  display: string;
  role: AttackRole;
  /** Whether it pushes each sample toward a chosen class rather than away from its own. */
  targeted: boolean;
  /** One line, for pickers and help. */
  description: string;
  /** The parameters it takes. Those with an ε budget take eps; those with an L2 version take norm. */
  params: readonly ParamKey[];
  /** Defaults that differ from the shared ones (PARAMS). */
  defaults?: AttackParams;
}

const GRADIENT = ['eps', 'norm', 'steps', 'stepSize', 'randomStart', 'restarts', 'loss', 'muT'] as const;
/** APGD's parameters; FAB-T takes the same. */
const APGD = ['eps', 'norm', 'iterations', 'restarts'] as const;

/** The order is the order of lists and pickers. */
export const ATTACK_CATALOG = {
  fgsm: { display: 'FGSM', role: 'single-step', targeted: false, description: 'one gradient step of size ε (Goodfellow et al. 2015)', params: ['eps', 'norm', 'loss', 'muT'] },
  pgd: { display: 'PGD', role: 'iterative', targeted: false, description: 'K gradient steps of 2.5ε/K, with optional random starts (Madry et al. 2018)', params: GRADIENT },
  tgsm: { display: 'TGSM', role: 'targeted', targeted: true, description: 'K gradient steps toward a target class, y+1 by default (Kurakin et al. 2017)', params: [...GRADIENT, 'target'] },
  jsma: {
    display: 'JSMA', role: 'minimal', targeted: true, description: 'sets the most salient input values one by one until the target class wins; no ε budget (Papernot et al. 2016)',
    params: ['target', 'maxIterations', 'gamma'], defaults: { maxIterations: 200 },
  },
  deepfool: { display: 'DeepFool', role: 'minimal', targeted: false, description: 'smallest L2 step across the linearised nearest boundary; no ε budget (Moosavi-Dezfooli et al. 2016)', params: ['overshoot', 'maxIterations'] },
  spsa: { display: 'SPSA', role: 'gradient-free', targeted: false, description: 'Adam on a gradient estimated from ±δ queries, L∞ (Uesato et al. 2018)', params: ['eps', 'iterations', 'samples', 'delta', 'learningRate', 'earlyStop'] },
  'apgd-ce': { display: 'APGD-CE', role: 'iterative', targeted: false, description: "APGD on cross-entropy: momentum and a step size that needs no tuning (AutoAttack's first attack)", params: APGD },
  'apgd-dlr': { display: 'APGD-DLR', role: 'iterative', targeted: false, description: 'APGD on the DLR loss, which ignores the scale of the outputs', params: APGD },
  'apgd-t': { display: 'APGD-T', role: 'targeted', targeted: true, description: 'APGD on the targeted DLR loss against the classes scoring highest after the true one', params: [...APGD, 'targetCount'] },
  'fab-t': {
    display: 'FAB-T', role: 'targeted', targeted: true,
    description: 'smallest perturbation to the linearised boundary of the classes scoring highest after the true one, kept if within ε (Croce & Hein 2020)',
    params: [...APGD, 'targetCount'],
  },
  square: { display: 'Square', role: 'gradient-free', targeted: false, description: 'random square patches, queries only (Andriushchenko et al. 2020)', params: ['eps', 'norm', 'queries', 'pInit'] },
} as const satisfies Record<string, AttackEntry>;

export type AttackName = keyof typeof ATTACK_CATALOG;
export const ATTACK_NAMES = Object.keys(ATTACK_CATALOG) as AttackName[];

/** The parameters attack N takes, every one filled in (as resolveAttackParams gives them). */
export type ResolvedAttackParams<N extends AttackName = AttackName> = N extends AttackName
  ? Pick<ResolvedParams, (typeof ATTACK_CATALOG)[N]['params'][number]>
  : never;

type TakesLoss<N extends AttackName> = 'loss' extends (typeof ATTACK_CATALOG)[N]['params'][number] ? N : never;
/** The attacks on a chosen loss of the outputs z (FGSM, PGD, TGSM): the latent space shows how far they move z. */
export type LatentAttack = { [N in AttackName]: TakesLoss<N> }[AttackName];

/** Any list of attacks: the real one (ATTACK_CATALOG) or, in tests, one with more. */
export type AttackList = Readonly<Record<string, AttackEntry>>;

export function isAttackName(name: string): name is AttackName {
  return Object.hasOwn(ATTACK_CATALOG, name);
}

function entryOf(name: string): AttackEntry {
  if (!isAttackName(name)) throw new UserError(`unknown attack "${name}": expected one of ${ATTACK_NAMES.join(', ')}`);
  return ATTACK_CATALOG[name];
}

export const takesParam = (entry: AttackEntry, key: ParamKey) => entry.params.includes(key);

/** What `gccs latent --attack` and the latent panel offer. */
export const LATENT_ATTACKS = ATTACK_NAMES.filter((name): name is LatentAttack => takesParam(ATTACK_CATALOG[name], 'loss'));

/** Whether the attack has an ε budget (DeepFool and JSMA do not: they run once, outside the worst case). */
export const takesEps = (entry: AttackEntry) => takesParam(entry, 'eps');

/** The threat models an attack has a version for: both when it takes norm, L∞ when it only has an ε. */
export function threatModelsOf(entry: AttackEntry): readonly ('linf' | 'l2')[] {
  return takesParam(entry, 'norm') ? ['linf', 'l2'] : takesEps(entry) ? ['linf'] : [];
}

/** The attacks of `attacks` that take `key`. */
export function attacksTaking(key: ParamKey, attacks: AttackList = ATTACK_CATALOG): string[] {
  return Object.keys(attacks).filter((name) => takesParam(attacks[name], key));
}

/** The default of `key` for attack `entry`; stepSize has none of its own (2.5ε/K). */
export function defaultOf(entry: AttackEntry, key: ParamKey): ResolvedParams[ParamKey] | undefined {
  return entry.defaults?.[key] ?? (PARAMS[key].default as ResolvedParams[ParamKey] | undefined);
}

export function displayName(name: string): string {
  return isAttackName(name) ? ATTACK_CATALOG[name].display : name.toUpperCase();
}

export function roleOf(name: string): AttackRole | undefined {
  return isAttackName(name) ? ATTACK_CATALOG[name].role : undefined;
}

/** Attacks that follow the model's gradients (the white-box ones a gradient-free attack should not beat). */
export const isWhiteBox = (name: string) => ['single-step', 'iterative', 'targeted'].includes(roleOf(name) ?? '');

/**
 * Checks the parameters given for attack `name`: a one-line UserError for an unknown attack, a
 * parameter it does not take, or a value out of its range. Returns the stated ones (undefined
 * values dropped), ready for withDefaults.
 */
export function checkAttackParams(name: string, given: AttackParams = {}): AttackParams {
  const entry = entryOf(name);
  const stated = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) as AttackParams;
  for (const [key, value] of Object.entries(stated) as [ParamKey, unknown][]) {
    if (!takesParam(entry, key)) throw new UserError(`${name} takes no parameter "${key}" (it takes ${entry.params.join(', ')})`);
    if (!isValidValue(PARAMS[key], value)) throw new UserError(`${name}: ${key} must be ${expectedOf(PARAMS[key])} (got ${JSON.stringify(value)})`);
  }
  return stated;
}

/**
 * Every parameter attack `name` takes: the checked ones (checkAttackParams) over the defaults. The
 * step size follows ε unless given: 2.5ε/K, as in the papers (0 at ε = 0, where every attack is
 * the identity). No check: the defaults are in range (a test says so) and the rest was checked.
 */
export function withDefaults<N extends AttackName>(name: N, checked: AttackParams): ResolvedAttackParams<N> {
  const entry: AttackEntry = ATTACK_CATALOG[name];
  const value = (key: ParamKey) => checked[key] ?? defaultOf(entry, key);
  const all = Object.fromEntries(entry.params.map((key) => [key, value(key)])) as AttackParams;
  if (takesParam(entry, 'stepSize') && all.stepSize === undefined) all.stepSize = (2.5 * (value('eps') as number)) / (value('steps') as number);
  return all as ResolvedAttackParams<N>;
}

/** checkAttackParams then withDefaults: for callers that have parameters from a user, once. */
export function resolveAttackParams<N extends AttackName>(name: N, given: AttackParams = {}): ResolvedAttackParams<N> {
  return withDefaults(name, checkAttackParams(name, given));
}
