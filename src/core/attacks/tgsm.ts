/**
 * TGSM-K (targeted gradient sign, Kurakin et al. 2017): K normalised-gradient steps descending the loss
 * toward a target class (y+1 mod D by default, as in the paper), same step rule as PGD.
 */
import { defineAttack } from './common';
import { gradientAttack } from './gradientCore';
import { targetClasses } from './objectives';

export const tgsm = defineAttack<'tgsm'>({
  run: async (model, x, labels, params, seed, signal) => {
    const targets = targetClasses(model, x, labels, params.target);
    return { adversarial: await gradientAttack(model, x, labels, { ...params, targets }, seed, signal) };
  },
});
