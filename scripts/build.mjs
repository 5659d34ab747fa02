// Bundles the engine library, the CLI, the background worker, the VS Code extension host (no
// TensorFlow.js: it forks the worker) and the webviews (browser, chart.js bundled)
// with esbuild, and puts the wasm backend's binaries beside the bundles, where the backend looks
// for them, and chart.js's browser build, which sweep reports inline.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { buildSimdKernels } from './build-simd-kernels.mjs';

const require = createRequire(import.meta.url);
const optionalNative = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];
const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, external: optionalNative, logLevel: 'warning' };

mkdirSync('dist/webview', { recursive: true });
buildSimdKernels();
// schema/sweep.schema.json's attack names, parameters and defaults come from the catalog (src/core/catalog).
execFileSync(process.execPath, ['--import', 'tsx', 'scripts/write-schemas.ts'], { stdio: 'inherit' });
await Promise.all([
  build({ ...common, entryPoints: ['src/core/index.ts'], outfile: 'dist/core.js' }),
  build({ ...common, entryPoints: ['src/cli/index.ts'], outfile: 'dist/cli.js' }),
  build({ ...common, entryPoints: ['src/worker/index.ts'], outfile: 'dist/worker.js' }),
  // The extension host: 'vscode' is provided by VS Code at run time.
  build({ ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] }),
  ...['robustness', 'latent', 'training'].map((name) =>
    build({ bundle: true, platform: 'browser', target: 'es2022', format: 'iife', minify: true, sourcemap: true, logLevel: 'warning', entryPoints: [`webview/${name}.ts`], outfile: `dist/webview/${name}.js` }),
  ),
]);

const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
for (const file of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'))) copyFileSync(join(wasmDir, file), join('dist', file));
copyFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), join('dist', 'chart.umd.min.js'));
