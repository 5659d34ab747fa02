import * as tfl from '@tensorflow/tfjs-layers';

/** Seeded weight initialisers: every layer gets its own seed derived from the run's seed. */
export class SeededInit {
  private next: number;

  constructor(seed: number) {
    this.next = seed * 1000;
  }

  glorot() {
    return tfl.initializers.glorotUniform({ seed: this.nextSeed() });
  }

  he() {
    return tfl.initializers.heNormal({ seed: this.nextSeed() });
  }

  /**
   * TensorFlow.js's normal and truncated-normal generators take seed 0 for "no seed" and draw from
   * Math.random, so the first layer of a run with --seed 0 would differ between runs: 0 becomes −1,
   * which no other layer gets (layer k of run s has s·1000 + k, k < 1000).
   */
  private nextSeed(): number {
    const seed = this.next++;
    return seed === 0 ? -1 : seed;
  }
}

/** The GCCS head: D linear outputs, no activation (z = H(x)). */
export function linearHead(numClasses: number, init: SeededInit) {
  return tfl.layers.dense({ units: numClasses, activation: 'linear', kernelInitializer: init.glorot(), name: 'logits' });
}

/**
 * Dense layers in the paper keep 80% of units during training. Dropout layers carry no seed (a
 * seeded tfjs dropout draws the same mask at every step): each training step seeds them (./dropout.ts).
 */
export const DENSE_DROPOUT = 0.2;
