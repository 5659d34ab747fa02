/** PGD-K (Madry et al. 2018): K sign-gradient steps of 2.5ε/K, optionally from a seeded random start. */
import { defineAttack } from './common';
import { signGradientAttack } from './gradientCore';

export const pgd = defineAttack({
  keys: ['eps', 'steps', 'stepSize', 'randomStart', 'loss', 'muT'],
  run: async (model, x, labels, params, seed, signal) => ({
    adversarial: await signGradientAttack(model, x, labels, params, seed, signal),
  }),
});
