/** FGSM (Goodfellow et al. 2015): one step of size ε·‖x‖ along the normalised gradient (its sign for L∞). */
import { defineAttack } from './common';
import { gradientAttack } from './gradientCore';

export const fgsm = defineAttack<'fgsm'>({
  run: async (model, x, labels, params, seed, signal) => ({
    adversarial: await gradientAttack(model, x, labels, { ...params, steps: 1, stepSize: params.eps, randomStart: false, restarts: 1 }, seed, signal),
  }),
});
