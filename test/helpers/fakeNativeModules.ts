import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * A stand-in for tfjs-node in `<root>/node_modules` (tfjs-node cannot be installed here: its
 * install script downloads libtensorflow). It registers a 'tensorflow' backend (the cpu backend
 * under that name) with the tfjs-core it requires. Its own nested tfjs-core must not load: the
 * backend has to land in the engine initBackend uses. `loadError`: the package throws this on
 * load instead, like a tfjs-node whose native library is missing. Returns the node_modules folder.
 */
export function fakeNativeModules(root: string, loadError?: string): string {
  const pkg = path.join(root, 'node_modules', '@tensorflow', 'tfjs-node');
  const nestedCore = path.join(pkg, 'node_modules', '@tensorflow', 'tfjs-core');
  fs.mkdirSync(nestedCore, { recursive: true });
  fs.writeFileSync(path.join(nestedCore, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-core', main: 'index.js' }));
  fs.writeFileSync(path.join(nestedCore, 'index.js'), "throw new Error('a second tfjs-core was loaded');\n");
  fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node', main: 'index.js' }));
  const body = loadError
    ? [`throw new Error(${JSON.stringify(loadError)});`]
    : [
        "const tf = require('@tensorflow/tfjs-core');",
        `const { MathBackendCPU } = require(${JSON.stringify(require.resolve('@tensorflow/tfjs-backend-cpu'))});`,
        "tf.registerBackend('tensorflow', () => new MathBackendCPU(), 3);",
        "tf.copyRegisteredKernels('cpu', 'tensorflow');",
        "exports.version = { 'tfjs-node': '0.0.0-fake' };",
      ];
  fs.writeFileSync(path.join(pkg, 'index.js'), body.join('\n') + '\n');
  return path.join(root, 'node_modules');
}
