/**
 * Every attack parameter: what it means, its type, its range and its shared default. The attacks
 * (attacks.ts) say which of them each takes and where their defaults differ; the checks, the
 * sweep schema and the CLI flags are all made from this one table.
 */
import { ATTACK_LIMITS, CONFIG_LIMITS } from '../limits';
import { GCCS_DEFAULTS } from './losses';

/** What the gradient attacks differentiate, always on the raw outputs z (never a softmax of them). */
export const ATTACK_LOSSES = ['crossentropy', 'margin', 'dlr', 'latent'] as const;
export type AttackLoss = (typeof ATTACK_LOSSES)[number];
/** How reports and the CLI name an attack loss. */
export const ATTACK_LOSS_LABELS: Record<AttackLoss, string> = { crossentropy: 'cross-entropy', margin: 'margin', dlr: 'DLR', latent: 'latent' };

/**
 * The threat model: the ball the perturbation n must stay in, relative to each image x (as the
 * paper measures ε): linf ‖n‖∞ ≤ ε·‖x‖∞, l2 ‖n‖₂ ≤ ε·‖x‖₂. MNIST digits have ‖x‖∞ = 1, so there the
 * L∞ ε is AutoAttack's absolute one; their ‖x‖₂ is about 10, so an L2 ε of 0.2 is about 2 in
 * AutoAttack's absolute pixel units.
 */
export const THREAT_MODELS = ['linf', 'l2'] as const;
export type ThreatModel = (typeof THREAT_MODELS)[number];

/** Target class of a targeted attack: y+1 mod D (the paper's), the clean least-likely class, or a fixed class. */
export const TARGET_RULES = ['next', 'least-likely'] as const;
export type TargetRule = (typeof TARGET_RULES)[number] | number;

/** Every attack parameter with its default filled in; each attack takes a subset (its `params`). */
export interface ResolvedParams {
  /** Budget relative to each image in the norm of `norm`: ‖n‖ ≤ ε·‖x‖ (the paper's definition for L∞). */
  eps: number;
  /** The threat model, L∞ (the paper's) or L2. */
  norm: ThreatModel;
  /** Gradient steps K of PGD and TGSM. */
  steps: number;
  /** Size of each gradient step, in the units of ε (× ‖x‖ in the norm of `norm`); default 2.5ε/K. */
  stepSize: number;
  /** Start PGD/TGSM at a seeded uniform point of the ε-ball instead of at x. */
  randomStart: boolean;
  /** Runs from a fresh random start (PGD/TGSM: the first from x unless randomStart); each sample keeps its best. */
  restarts: number;
  loss: AttackLoss;
  /** μ_T of the GCCS model under attack, for the 'latent' loss. */
  muT: number;
  target: TargetRule;
  /** JSMA: changed pixels (one per iteration); DeepFool: linearisation steps. */
  maxIterations: number;
  /** JSMA: largest fraction of input values that may change. */
  gamma: number;
  /** DeepFool: the final perturbation is (1 + overshoot)·Σ r_i. */
  overshoot: number;
  /** SPSA: Adam steps; APGD and FAB-T: iterations per restart (and per target class for APGD-T and FAB-T). */
  iterations: number;
  /** APGD-T, FAB-T: attack the k classes with the highest clean outputs after the true one, one after the other. */
  targetCount: number;
  /** Square: the query budget, every forward pass of a sample counted (the first, at the start point, included). */
  queries: number;
  /** Square: initial fraction of the pixels a square covers (the schedule shrinks it). */
  pInit: number;
  /** SPSA: ±δ Rademacher pairs per gradient estimate. */
  samples: number;
  /** SPSA: finite-difference step, in pixel units. */
  delta: number;
  /** SPSA: Adam learning rate, in pixel units. */
  learningRate: number;
  /** SPSA: stop perturbing a sample once it is misclassified. */
  earlyStop: boolean;
}

export type ParamKey = keyof ResolvedParams;
export type AttackParams = Partial<ResolvedParams>;

/** A number in [min, max] (an open end where minExclusive); integers are whole numbers. */
export interface NumberParam {
  type: 'number' | 'integer';
  min: number;
  minExclusive?: boolean;
  max?: number;
  default?: number;
}

export type ParamSpec = {
  description: string;
  /** Added to the range in error messages. */
  note?: string;
  /** A sweep takes the value from the model (its gccs.json), so the schema shows no default. */
  sweepDefaultFromModel?: boolean;
} & (
  | NumberParam
  | { type: 'boolean'; default: boolean }
  | { type: 'choice'; choices: readonly string[]; title: string; default: string }
  /** next, least-likely or a class index ≥ 0. */
  | { type: 'target'; default: TargetRule }
);

export const PARAMS: { [K in ParamKey]: ParamSpec } = {
  eps: {
    type: 'number', min: 0, max: 1, default: 0.1,
    description: 'ε, relative to each image: ‖n‖∞ ≤ ε·‖x‖∞, or ‖n‖₂ ≤ ε·‖x‖₂ with norm l2; ε = 0 gives the clean accuracy',
    note: 'relative to the image (‖n‖ ≤ ε·‖x‖ in the norm of the threat model)',
  },
  norm: { type: 'choice', choices: THREAT_MODELS, title: 'threat model', default: 'linf', description: 'linf (‖n‖∞ ≤ ε·‖x‖∞) or l2 (‖n‖₂ ≤ ε·‖x‖₂)' },
  steps: { type: 'integer', min: 1, max: CONFIG_LIMITS.steps, default: 5, description: 'gradient steps K' },
  // No default: 2.5ε/K, as in the papers (stepSizeOf).
  stepSize: { type: 'number', min: 0, minExclusive: true, description: 'step size in units of ε (default 2.5ε/K)' },
  randomStart: { type: 'boolean', default: false, description: 'start at a seeded random point of the ε-ball' },
  restarts: { type: 'integer', min: 1, max: ATTACK_LIMITS.restarts, default: 1, description: 'runs from fresh random starts; each sample keeps its best point' },
  loss: { type: 'choice', choices: ATTACK_LOSSES, title: 'attack loss', default: 'crossentropy', description: 'the loss on the outputs z' },
  muT: {
    type: 'number', min: 0, minExclusive: true, default: GCCS_DEFAULTS.muT, sweepDefaultFromModel: true,
    description: "μ_T of the latent loss (in a sweep, default: the model's, from its gccs.json)",
  },
  target: { type: 'target', default: 'next', description: 'target class: next (y+1 mod D), least-likely or a class index' },
  maxIterations: { type: 'integer', min: 1, max: CONFIG_LIMITS.steps, default: 50, description: 'most iterations (JSMA: one changed value each; DeepFool: one linearisation each)' },
  gamma: { type: 'number', min: 0, minExclusive: true, max: 1, default: 0.1, description: 'largest fraction of input values changed' },
  overshoot: { type: 'number', min: 0, default: 0.02, description: 'the final perturbation is (1 + overshoot)·Σ r_i' },
  iterations: { type: 'integer', min: 1, max: CONFIG_LIMITS.iterations, default: 100, description: 'iterations IT (SPSA: Adam steps; APGD and FAB-T: per restart, and per target class for APGD-T and FAB-T)' },
  samples: { type: 'integer', min: 1, max: CONFIG_LIMITS.samples, default: 64, description: 'batch size BS: ±δ pairs per gradient estimate' },
  delta: { type: 'number', min: 0, minExclusive: true, default: 0.01, description: 'finite-difference step, in pixel units' },
  learningRate: { type: 'number', min: 0, minExclusive: true, default: 0.01, description: 'Adam learning rate, in pixel units' },
  earlyStop: { type: 'boolean', default: true, description: 'stop perturbing a sample once it is misclassified' },
  targetCount: {
    type: 'integer', min: 1, default: 9, description: 'target classes, those with the highest clean outputs after the true one (at most D − 1)',
    note: 'at most the number of classes − 1',
  },
  queries: { type: 'integer', min: 1, max: ATTACK_LIMITS.queries, default: 5000, description: 'query budget per sample (forward passes)' },
  pInit: { type: 'number', min: 0, minExclusive: true, max: 1, default: 0.8, description: 'initial fraction of the pixels a square covers' },
};

/** What a value of `spec` must be, in words: "a whole number from 1 to 1000", "a number in (0, 1]". */
export function expectedOf(spec: ParamSpec): string {
  const words = (() => {
    switch (spec.type) {
      case 'boolean':
        return 'true or false';
      case 'choice':
        return spec.choices.length === 2 ? spec.choices.join(' or ') : spec.choices.join(', ');
      case 'target':
        return `${TARGET_RULES.join(', ')} or a class index ≥ 0`;
      default: {
        const kind = spec.type === 'integer' ? 'a whole number' : 'a number';
        if (spec.max === undefined) return `${kind} ${spec.minExclusive ? '>' : '≥'} ${spec.min}`;
        if (spec.type === 'integer' && !spec.minExclusive) return `${kind} from ${spec.min} to ${spec.max}`;
        return `${kind} in ${spec.minExclusive ? '(' : '['}${spec.min}, ${spec.max}]`;
      }
    }
  })();
  if (!spec.note) return words;
  return spec.note.startsWith('at most') ? `${words} (${spec.note})` : `${words}, ${spec.note}`;
}

/** Whether `value` is a valid value of `spec`. */
export function isValidValue(spec: ParamSpec, value: unknown): boolean {
  switch (spec.type) {
    case 'boolean':
      return typeof value === 'boolean';
    case 'choice':
      return spec.choices.includes(value as string);
    case 'target':
      return (TARGET_RULES as readonly unknown[]).includes(value) || (Number.isInteger(value) && (value as number) >= 0);
    default: {
      if (typeof value !== 'number' || !Number.isFinite(value)) return false;
      if (spec.type === 'integer' && !Number.isInteger(value)) return false;
      return (spec.minExclusive ? value > spec.min : value >= spec.min) && (spec.max === undefined || value <= spec.max);
    }
  }
}
