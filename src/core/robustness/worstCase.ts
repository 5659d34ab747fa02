/**
 * The per-sample worst case: a sample counts as robust at ε only if no attack run at ε broke it,
 * so robust accuracy(ε) = mean over samples of the minimum over attacks. Never above any single
 * attack's accuracy, and exact (not the minimum of the attacks' accuracies, which is higher
 * whenever two attacks break different samples).
 */
import { UserError } from '../errors';

/** The samples every one of `robust` (per attack, 1 = still classified correctly) leaves robust. */
export function worstCase(robust: Uint8Array[]): Uint8Array {
  if (robust.length === 0) throw new UserError('the worst case needs at least one attack');
  const worst = Uint8Array.from(robust[0]);
  for (const flags of robust.slice(1)) {
    if (flags.length !== worst.length) throw new UserError(`per-sample results of ${flags.length} and ${worst.length} samples cannot be combined`);
    for (let i = 0; i < worst.length; i++) worst[i] &= flags[i];
  }
  return worst;
}
