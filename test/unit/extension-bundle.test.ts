import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const dist = path.resolve(__dirname, '../../dist');

// npm test builds before the unit tests; dist/extension.js is what the .vsix ships as "main".
test('the extension bundle does not contain TensorFlow.js (the extension host only orchestrates)', () => {
  const file = path.join(dist, 'extension.js');
  assert.ok(fs.existsSync(file), 'run npm run build first');
  const text = fs.readFileSync(file, 'utf8');
  // Package names may appear as text (GCCS: Enable Native Backend installs tfjs-node for the workers), modules may not.
  assert.ok(!/^\/\/ node_modules\/@tensorflow\//m.test(text), 'no @tensorflow module bundled into dist/extension.js');
  assert.ok(!/require\("@tensorflow\//.test(text), 'no @tensorflow package required by dist/extension.js');
  assert.ok(!/registerBackend|setBackend\(/.test(text), 'no TensorFlow.js engine code in dist/extension.js');
  // About 810 kB, of which ajv (the one validator of experiment and sweep files) is 150 kB and protobufjs (the ONNX reader
  // whose checks the preflight shares with the engine, loaded on the first .onnx checked) 250 kB; TensorFlow.js would be megabytes.
  assert.ok(fs.statSync(file).size < 900_000, `dist/extension.js is ${fs.statSync(file).size} bytes`);
  assert.match(text, /require\("vscode"\)/, "'vscode' stays external");
});

test('the webview bundle includes chart.js and nothing of Node', () => {
  const file = path.join(dist, 'webview', 'robustness.js');
  assert.ok(fs.existsSync(file), 'run npm run build first');
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(text.includes('LineController') || text.includes('"line"'), 'chart.js is bundled');
  assert.ok(!/require\("(node:)?(fs|path|child_process)"\)/.test(text));
  assert.ok(!/tfjs/i.test(text));
});
