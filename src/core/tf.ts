/**
 * TensorFlow.js core with every op's gradient registered. The core package's Node build leaves
 * the gradients out; the umbrella package's Node build registers them into that same core
 * instance (as tfjs-node expects). Engine modules import tf from here.
 */
import '@tensorflow/tfjs';

export * from '@tensorflow/tfjs-core';
