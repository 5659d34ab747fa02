/**
 * TensorFlow.js core with every op's gradient registered (the core package alone leaves
 * them out). Engine modules import tf from here.
 */
import '@tensorflow/tfjs-core/dist/register_all_gradients';

export * from '@tensorflow/tfjs-core';
