/**
 * Import rules, on the import graph the TypeScript compiler resolves (test/helpers/importGraph.ts):
 * - src/core is a library: it imports no project file outside src/core, and never vscode;
 * - the extension host (src/extension.ts, src/host/) and the webviews (webview/) never load
 *   TensorFlow.js, directly or through any module: only run-time imports count, as `import type`
 *   is erased at build;
 * - no import cycle among src/ and webview/. Type-only imports count here: they are erased at
 *   build, but two modules whose types import each other are still one knot that must change
 *   together, and the cycle the issue names (io/modelDir ⇄ io/modelLocation) ran half through types.
 * The first tests run the detector on small fixtures, to show that each rule can fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildImportGraph, forbiddenReach, importCycles, importsOf, readCompilerOptions, sourceFilesUnder, upwardImports } from '../helpers/importGraph';
import type { ImportEdge, ImportGraph } from '../helpers/importGraph';

const root = path.resolve(__dirname, '../..');
const options = readCompilerOptions(path.join(root, 'tsconfig.json'));

/** The three rules, on a project laid out as this one (src/core, src/host, src/extension.ts, webview/) under `base`. */
function violations(graph: ImportGraph, base: string) {
  const rel = (file: string) => (path.isAbsolute(file) ? path.relative(base, file).split(path.sep).join('/') : file);
  const core = path.join(base, 'src/core');
  const tfModule = path.join(core, 'tf.ts');
  const loadsTensorFlow = (edge: ImportEdge) => edge.target === tfModule || (edge.pkg?.startsWith('@tensorflow/') ?? false);
  const hostAndWebviews = [...graph.keys()].filter((f) => ['src/extension.ts', 'src/host/', 'webview/'].some((p) => rel(f).startsWith(p)));
  return {
    upward: upwardImports(graph, core, ['vscode']).map((e) => `${rel(e.from)} imports '${e.specifier}'`),
    tensorFlow: forbiddenReach(graph, hostAndWebviews, loadsTensorFlow).map((chain) => chain.map(rel).join(' → ')),
    cycles: importCycles(graph, true).map((cycle) => cycle.map(rel).join(' → ')),
  };
}

/** Writes `files` (path → text) into a fresh folder, hands `check` the folder and the graph of its src/ and webview/, then removes it. */
function withFixture(files: Record<string, string>, check: (base: string, graph: () => ImportGraph) => void): void {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-imports-'));
  try {
    for (const [name, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(base, name)), { recursive: true });
      fs.writeFileSync(path.join(base, name), text);
    }
    check(base, () => buildImportGraph(sourceFilesUnder(path.join(base, 'src'), path.join(base, 'webview')), options));
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}

test('importsOf finds every import form, and tells type-only ones apart', () => {
  const text = [
    "import * as fs from 'node:fs';",
    "import type { A } from './a';",
    "import { type B, type C } from './bc';",
    "import { type D, e } from './de';",
    "import './sideEffect';",
    "export * from './reexported';",
    "export type { F } from './f';",
    "export { g } from './g';",
    "import h = require('./h');",
    "const i = require('./i');",
    "async function j() { return import('./j'); }",
    "let k: typeof import('./k');",
    "const notAnImport = load('./l');",
  ].join('\n');
  assert.deepEqual(importsOf('x.ts', text), [
    { specifier: 'node:fs', typeOnly: false },
    { specifier: './a', typeOnly: true },
    { specifier: './bc', typeOnly: true },
    { specifier: './de', typeOnly: false },
    { specifier: './sideEffect', typeOnly: false },
    { specifier: './reexported', typeOnly: false },
    { specifier: './f', typeOnly: true },
    { specifier: './g', typeOnly: false },
    { specifier: './h', typeOnly: false },
    { specifier: './i', typeOnly: false },
    { specifier: './j', typeOnly: false },
    { specifier: './k', typeOnly: true },
  ]);
});

test('the detector finds an upward core import, a transitive TensorFlow.js import and a cycle in a fixture', () => {
  const files = {
    'src/core/tf.ts': "export * from '@tensorflow/tfjs-core';\n",
    'src/core/limits.ts': "import * as path from 'node:path';\nexport const max = path.sep.length;\n",
    'src/core/upward.ts': "import { shown } from '../host/panel';\nexport const x = shown;\n",
    'src/core/editor.ts': "import * as vscode from 'vscode';\nexport const y = vscode;\n",
    'src/core/middle.ts': "export { tf } from './deeper';\n",
    'src/core/deeper.ts': "import * as tf from './tf';\nexport { tf };\n",
    'src/core/cycleA.ts': "import { b } from './cycleB';\nexport const a = b;\n",
    'src/core/cycleB.ts': "import type { C } from './cycleC';\nexport const b: C = 1;\n",
    'src/core/cycleC.ts': "export type C = number;\nexport const c = require('./cycleA');\n",
    'src/extension.ts': "import { max } from './core/limits';\nimport type { Tensor } from './core/tf';\nexport const z: Tensor | number = max;\n",
    'src/host/panel.ts': "export const shown = 1;\nexport const later = () => import('../core/middle');\n",
    'webview/chart.ts': "import { max } from '../src/core/limits';\nexport const w = max;\n",
    'webview/direct.ts': "import('@tensorflow/tfjs').then(() => undefined);\n",
  };
  withFixture(files, (base, graphOf) => {
    const graph = graphOf();
    assert.deepEqual(violations(graph, base), {
      upward: ["src/core/editor.ts imports 'vscode'", "src/core/upward.ts imports '../host/panel'"],
      // extension.ts's import of tf is type-only (erased): not counted; panel.ts reaches tf through two files.
      tensorFlow: ['src/host/panel.ts → src/core/middle.ts → src/core/deeper.ts → src/core/tf.ts', 'webview/direct.ts → @tensorflow/tfjs'],
      cycles: ['src/core/cycleA.ts → src/core/cycleB.ts → src/core/cycleC.ts → src/core/cycleA.ts'],
    });
    // The cycle runs through a type-only import: without type-only edges it is gone.
    assert.deepEqual(importCycles(graph, false), []);
  });
});

test('the detector refuses a relative import it cannot resolve, naming it', () => {
  const files = { 'src/core/a.ts': "import { gone } from './missing';\nexport const a = gone;\n", 'webview/w.ts': 'export {};\n' };
  withFixture(files, (_base, graphOf) => assert.throws(graphOf, /a\.ts: '\.\/missing' resolves to nothing/));
});

test('the project: src/core imports nothing above it, the host and webviews never load TensorFlow.js, no import cycles', () => {
  const files = sourceFilesUnder(path.join(root, 'src'), path.join(root, 'webview'));
  assert.ok(files.length > 100, 'the sources were found');
  const graph = buildImportGraph(files, options);
  const found = violations(graph, root);
  // Print every violation, one a line, before the assertion names the first difference.
  for (const [rule, list] of Object.entries(found)) for (const line of list) console.log(`import rule '${rule}' broken: ${line}`);
  assert.deepEqual(found, { upward: [], tensorFlow: [], cycles: [] });
  // The rules are read where they apply: the host does import core (its TensorFlow.js-free part).
  assert.ok(graph.get(path.join(root, 'src/extension.ts'))!.length > 0);
  assert.ok([...graph.entries()].some(([from, edges]) => from.includes(`${path.sep}host${path.sep}`) && edges.some((e) => e.target?.includes(`${path.sep}core${path.sep}`))));
});
