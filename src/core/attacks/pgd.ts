/**
 * PGD-K (Madry et al. 2018): K normalised-gradient steps of 2.5ε/K, optionally from a seeded
 * random start, with random restarts; each sample keeps its best iterate.
 */
import { defineAttack } from './common';
import { gradientAttack } from './gradientCore';

export const pgd = defineAttack<'pgd'>({
  run: async (model, x, labels, params, seed, signal) => ({
    adversarial: await gradientAttack(model, x, labels, params, seed, signal),
  }),
});
