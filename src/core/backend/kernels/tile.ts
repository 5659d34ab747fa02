import { Fill, KernelFunc, Multiply, Reshape, TensorInfo, TileAttrs } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { release, runWasm } from './wasm_call';

/**
 * Tile as a broadcast product with ones (XNNPACK): each tiled axis becomes a (repeat, original)
 * pair, runs of axes that only copy or only repeat are merged. The built-in computes an index
 * vector per element and dominated ResNet training (batchnorm's gradient tiles per-channel
 * vectors to the activations' shape). Falls back for bool and for merged ranks above 4.
 */
export function makeTile(builtin: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    const { reps } = args.attrs as unknown as TileAttrs;
    if (x.dtype !== 'float32' && x.dtype !== 'int32') return builtin(args);
    // Axes as [x extent, ones extent]; 'copy' axes are [d, 1], 'repeat' axes [1, r].
    const axes: [number, number][] = [];
    const push = (d: number, r: number) => {
      if (d === 1 && r === 1) return;
      const last = axes[axes.length - 1];
      if (last && (d === 1) === (last[0] === 1)) {
        last[0] *= d;
        last[1] *= r;
      } else {
        axes.push([d, r]);
      }
    };
    x.shape.forEach((d, i) => {
      push(1, reps[i]);
      push(d, 1);
    });
    if (axes.length > 4) return builtin(args);
    const backend = args.backend as BackendWasm;
    const outShape = x.shape.map((d, i) => d * reps[i]);
    const ones = runWasm(Fill, backend, {}, { shape: axes.map(([, r]) => r), value: 1, dtype: x.dtype });
    const view = runWasm(Reshape, backend, { x }, { shape: axes.map(([d]) => d) });
    const product = runWasm(Multiply, backend, { a: ones, b: view });
    const out = runWasm(Reshape, backend, { x: product }, { shape: outShape });
    release(backend, ones, view, product);
    return out;
  };
}
