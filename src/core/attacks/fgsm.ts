/** FGSM (Goodfellow et al. 2015): one sign-gradient step of size ε·‖x‖∞. */
import { defineAttack } from './common';
import { signGradientAttack } from './gradientCore';

export const fgsm = defineAttack({
  keys: ['eps', 'loss', 'muT'],
  run: async (model, x, labels, params, seed, signal) => ({
    adversarial: await signGradientAttack(model, x, labels, { ...params, steps: 1, stepSize: params.eps, randomStart: false }, seed, signal),
  }),
});
