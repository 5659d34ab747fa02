/**
 * The hostile-model suite: model folders crafted as an attacker would (weight paths that escape the
 * folder, symlinks, a FIFO, /dev/zero, /proc files, lying shapes and parameter counts, malformed
 * manifests, unknown dtypes and layer classes, hostile gccs.json files) and the two model bombs
 * (a Dense layer of 400,000 units; a 50 MB nested model.json). Beside the cases lies secret.txt, a
 * file outside every model folder, exactly as long as the weights need: no byte of it may ever
 * come out of the engine.
 *
 *   node --import tsx test/hostile/generate.ts OUTDIR     # writes OUTDIR/cases/* and OUTDIR/cases.json
 *
 * test/unit/hostile-models.test.ts runs every case through loadModelDir and the real CLI.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SYNTHETIC_CLASS_NAMES } from '../../src/core/data/synthetic';
import { sampleModelMeta } from '../helpers/modelMeta';

/** Planted in secret.txt (outside every model folder); must never appear in any output. */
export const SECRET = 'HOSTILE-SECRET-5f0c2e9a';
/** Put into the environment of the CLI runs, so that /proc/self/environ holds a secret too. */
export const ENV_SECRET = 'HOSTILE-ENV-SECRET-81d4b7';

export interface HostileCase {
  name: string;
  /** The family it belongs to (README and the report count per family). */
  family: string;
  /** The model folder, passed as --model. */
  model: string;
  /** 'refused': exit 2, one line naming the file and matching `problem`; 'loads': a legitimate model that must keep working. */
  expect: 'refused' | 'loads';
  /** What the one-line message must say (a regular expression's source). */
  problem?: string;
  /** One of the issue's bombs (RSS under 500 MB; its seconds are reported). */
  bomb?: boolean;
}

const INPUT = [28, 28, 1];
const CLASSES = 10;
const WIDTH = INPUT[0] * INPUT[1] * INPUT[2];
/** float32 bytes of the base model's weights: kernel 784×10 and bias 10. */
export const WEIGHT_BYTES = 4 * (WIDTH * CLASSES + CLASSES);

type Json = Record<string, unknown>;

function topology(layers: Json[] = [{ class_name: 'Dense', config: { name: 'logits', units: CLASSES, activation: 'linear', use_bias: true } }]): Json {
  return {
    class_name: 'Sequential',
    config: { name: 'hostile', layers: [{ class_name: 'Flatten', config: { name: 'flatten', batch_input_shape: [null, ...INPUT] } }, ...layers] },
    keras_version: 'tfjs-layers 4.22.0',
    backend: 'tensor_flow.js',
  };
}

function weights(units = CLASSES): Json[] {
  return [
    { name: 'logits/kernel', shape: [WIDTH, units], dtype: 'float32' },
    { name: 'logits/bias', shape: [units], dtype: 'float32' },
  ];
}

/** Small deterministic weights (an LCG), so that a loaded model gives finite outputs. */
function weightBytes(bytes: number): Buffer {
  const values = new Float32Array(bytes / 4);
  let state = 12345;
  for (let i = 0; i < values.length; i++) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    values[i] = (state / 2 ** 31 - 0.5) * 0.1;
  }
  return Buffer.from(values.buffer);
}

interface ModelParts {
  modelJson?: Json | string;
  paths?: string[];
  manifestWeights?: Json[];
  /** Bytes of weights.bin; null: no file written. */
  shardBytes?: number | null;
  meta?: unknown;
}

function writeModel(dir: string, parts: ModelParts = {}): void {
  fs.mkdirSync(dir, { recursive: true });
  const modelJson = parts.modelJson ?? {
    format: 'layers-model',
    generatedBy: 'gccs-lab hostile suite',
    modelTopology: topology(),
    weightsManifest: [{ paths: parts.paths ?? ['weights.bin'], weights: parts.manifestWeights ?? weights() }],
  };
  fs.writeFileSync(path.join(dir, 'model.json'), typeof modelJson === 'string' ? modelJson : JSON.stringify(modelJson));
  const shardBytes = parts.shardBytes === undefined ? WEIGHT_BYTES : parts.shardBytes;
  if (shardBytes !== null) fs.writeFileSync(path.join(dir, 'weights.bin'), weightBytes(shardBytes));
  const meta = 'meta' in parts ? parts.meta : sampleModelMeta({ inputShape: INPUT, numClasses: CLASSES, classNames: [...SYNTHETIC_CLASS_NAMES], architecture: 'hostile' });
  fs.writeFileSync(path.join(dir, 'gccs.json'), typeof meta === 'string' ? meta : JSON.stringify(meta));
}

/** A model.json of `bytes` bytes that is nothing but nested arrays. */
function nestedJson(bytes: number): string {
  return '['.repeat(bytes / 2) + ']'.repeat(bytes / 2);
}

export function generateHostileModels(outDir: string): HostileCase[] {
  fs.rmSync(outDir, { recursive: true, force: true });
  const casesDir = path.join(outDir, 'cases');
  fs.mkdirSync(casesDir, { recursive: true });
  const secretFile = path.join(outDir, 'secret.txt');
  // Exactly the size the weights need, so only the path check stands between it and the model.
  fs.writeFileSync(secretFile, SECRET.repeat(Math.ceil(WEIGHT_BYTES / SECRET.length)).slice(0, WEIGHT_BYTES));
  const elsewhere = path.join(outDir, 'elsewhere');
  writeModel(elsewhere);

  const cases: HostileCase[] = [];
  const add = (name: string, family: string, build: (dir: string) => void, problem: string, extra: Partial<HostileCase> = {}) => {
    const dir = path.join(casesDir, name);
    build(dir);
    cases.push({ name, family, model: dir, expect: 'refused', problem, ...extra });
  };
  const weightPath = (name: string, shard: string, problem: string) =>
    add(name, 'weight path escapes', (dir) => writeModel(dir, { paths: [shard], shardBytes: null }), problem);
  const shardIs = (name: string, family: string, make: (shard: string) => void, problem: string) =>
    add(name, family, (dir) => {
      writeModel(dir, { shardBytes: null });
      make(path.join(dir, 'weights.bin'));
    }, problem);

  // Weight paths that leave the folder.
  weightPath('dotdot-secret', '../../secret.txt', 'leaves the model folder');
  weightPath('dotdot-proc-environ', '../../../../../../../../../../proc/self/environ', 'leaves the model folder');
  weightPath('dotdot-inner', 'sub/../../../secret.txt', 'leaves the model folder');
  weightPath('backslash-dotdot', '..\\..\\secret.txt', 'leaves the model folder');
  weightPath('absolute-secret', secretFile, 'is an absolute path');
  weightPath('absolute-proc-environ', '/proc/self/environ', 'is an absolute path');
  weightPath('absolute-dev-zero', '/dev/zero', 'is an absolute path');
  weightPath('url-http', 'http://127.0.0.1:9/weights.bin', 'is a URL');
  weightPath('url-file', `file://${secretFile}`, 'is a URL');
  weightPath('nul-byte', 'weights.bin\u0000../../secret.txt', 'is not a file name');
  // Symlinks: out of the folder is refused, inside it is fine.
  shardIs('symlink-to-secret', 'symlink out', (shard) => fs.symlinkSync(secretFile, shard), 'resolves to a file outside the model folder');
  shardIs('symlink-relative-out', 'symlink out', (shard) => fs.symlinkSync('../../secret.txt', shard), 'resolves to a file outside the model folder');
  shardIs('symlink-to-proc-environ', 'symlink out', (shard) => fs.symlinkSync('/proc/self/environ', shard), 'resolves to a file outside the model folder');
  add('symlinked-subfolder-out', 'symlink out', (dir) => {
    writeModel(dir, { paths: ['shards/secret.txt'], shardBytes: null });
    fs.symlinkSync(outDir, path.join(dir, 'shards'));
  }, 'resolves to a file outside the model folder');
  add('model-json-symlink-out', 'symlink out', (dir) => {
    fs.mkdirSync(dir);
    fs.symlinkSync(path.join(elsewhere, 'model.json'), path.join(dir, 'model.json'));
    fs.copyFileSync(path.join(elsewhere, 'weights.bin'), path.join(dir, 'weights.bin'));
    fs.copyFileSync(path.join(elsewhere, 'gccs.json'), path.join(dir, 'gccs.json'));
  }, 'model\\.json: the file resolves to a file outside the model folder');
  add('gccs-json-symlink-to-secret', 'symlink out', (dir) => {
    writeModel(dir);
    fs.rmSync(path.join(dir, 'gccs.json'));
    fs.symlinkSync(secretFile, path.join(dir, 'gccs.json'));
  }, 'gccs\\.json: the file resolves to a file outside the model folder');
  add('journal-symlink-to-secret', 'symlink out', (dir) => {
    writeModel(dir);
    fs.symlinkSync(secretFile, path.join(dir, '.gccs-commit.json'));
  }, 'model\\.json: \\.gccs-commit\\.json resolves to a file outside the model folder');
  add('journal-fifo', 'FIFO / device / directory', (dir) => {
    writeModel(dir);
    execFileSync('mkfifo', [path.join(dir, '.gccs-commit.json')]);
  }, 'model\\.json: \\.gccs-commit\\.json is a FIFO, not a regular file');
  add('symlink-inside', 'symlink inside (allowed)', (dir) => {
    writeModel(dir, { shardBytes: null });
    fs.mkdirSync(path.join(dir, 'data'));
    fs.writeFileSync(path.join(dir, 'data', 'real.bin'), weightBytes(WEIGHT_BYTES));
    fs.symlinkSync(path.join('data', 'real.bin'), path.join(dir, 'weights.bin'));
  }, '', { expect: 'loads' });
  // Files that are not regular files.
  shardIs('shard-fifo', 'FIFO / device / directory', (shard) => execFileSync('mkfifo', [shard]), 'is a FIFO, not a regular file');
  shardIs('shard-dev-zero', 'FIFO / device / directory', (shard) => fs.symlinkSync('/dev/zero', shard), 'resolves to a file outside the model folder');
  shardIs('shard-directory', 'FIFO / device / directory', (shard) => fs.mkdirSync(shard), 'is a directory, not a regular file');
  shardIs('shard-missing', 'FIFO / device / directory', () => undefined, 'weight file "weights\\.bin" is missing');
  add('model-json-fifo', 'FIFO / device / directory', (dir) => {
    writeModel(dir);
    fs.rmSync(path.join(dir, 'model.json'));
    execFileSync('mkfifo', [path.join(dir, 'model.json')]);
  }, 'model\\.json: the file is a FIFO, not a regular file');
  add('gccs-json-fifo', 'FIFO / device / directory', (dir) => {
    writeModel(dir);
    fs.rmSync(path.join(dir, 'gccs.json'));
    execFileSync('mkfifo', [path.join(dir, 'gccs.json')]);
  }, 'gccs\\.json: the file is a FIFO, not a regular file');
  // Shapes.
  const shapes = (name: string, kernelShape: unknown, problem: string) =>
    add(name, 'bad shapes', (dir) => writeModel(dir, { manifestWeights: [{ name: 'logits/kernel', shape: kernelShape, dtype: 'float32' }, weights()[1]] }), problem);
  shapes('shape-huge', [WIDTH, 1_000_000_000], 'weightsManifest declares .* more than the 512\\.0 MiB cap');
  shapes('shape-beyond-int32', [WIDTH, 1e12], 'weightsManifest\\[0\\]\\.weights\\[0\\]\\.shape\\[1\\]: must be ≤ 2147483647');
  shapes('shape-negative', [-WIDTH, -CLASSES], 'shape\\[0\\]: must be ≥ 0');
  shapes('shape-fractional', [WIDTH + 0.5, CLASSES], 'shape\\[0\\]: must be a whole number');
  shapes('shape-string', `${WIDTH}x${CLASSES}`, 'shape: must be a list');
  shapes('shape-string-dims', [String(WIDTH), String(CLASSES)], 'shape\\[0\\]: must be a whole number');
  shapes('shape-null-dim', [null, CLASSES], 'shape\\[0\\]: must be a whole number');
  shapes('shape-rank-100', Array(100).fill(1), 'shape: takes at most 8 items');
  // Parameter counts that disagree: topology, manifest and bytes.
  add('count-lie-manifest', 'parameter-count lies', (dir) => writeModel(dir, { manifestWeights: weights(20), shardBytes: 4 * (WIDTH * 20 + 20) }), 'weight "logits/kernel" is \\[784, 20\\] in weightsManifest but the topology implies \\[784, 10\\]');
  add('count-lie-topology', 'parameter-count lies', (dir) => {
    writeModel(dir);
    const file = path.join(dir, 'model.json');
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    json.modelTopology.config.layers[1].config.units = 100_000;
    fs.writeFileSync(file, JSON.stringify(json));
  }, 'weight "logits/kernel" is \\[784, 10\\] in weightsManifest but the topology implies \\[784, 100000\\]');
  add('count-lie-missing-bias', 'parameter-count lies', (dir) => writeModel(dir, { manifestWeights: [weights()[0]], shardBytes: 4 * WIDTH * CLASSES }), 'the topology needs weight "logits/bias" \\[10\\], which weightsManifest does not list');
  add('count-lie-extra-weight', 'parameter-count lies', (dir) => writeModel(dir, { manifestWeights: [...weights(), { name: 'ghost/kernel', shape: [1000], dtype: 'float32' }], shardBytes: WEIGHT_BYTES + 4000 }), 'weightsManifest lists weight "ghost/kernel", which no layer of the topology has');
  add('count-lie-input-width', 'parameter-count lies', (dir) => writeModel(dir, { manifestWeights: [{ name: 'logits/kernel', shape: [1, CLASSES], dtype: 'float32' }, weights()[1]], shardBytes: 4 * (CLASSES + CLASSES) }), 'is \\[1, 10\\] in weightsManifest but the topology implies \\[784, 10\\]');
  add('shard-too-short', 'parameter-count lies', (dir) => writeModel(dir, { shardBytes: WEIGHT_BYTES - 4 }), `holds ${WEIGHT_BYTES - 4} bytes but its weights need ${WEIGHT_BYTES}`);
  add('shard-too-long', 'parameter-count lies', (dir) => writeModel(dir, { shardBytes: WEIGHT_BYTES + 4 }), `holds ${WEIGHT_BYTES + 4} bytes but its weights need ${WEIGHT_BYTES}`);
  // Malformed manifests, dtypes, layer classes and JSON.
  const modelJson = (name: string, family: string, value: Json | string, problem: string, extra: Partial<HostileCase> = {}) =>
    add(name, family, (dir) => writeModel(dir, { modelJson: value }), problem, extra);
  const base = () => ({ format: 'layers-model', modelTopology: topology(), weightsManifest: [{ paths: ['weights.bin'], weights: weights() }] });
  modelJson('manifest-null-group', 'malformed manifest', { ...base(), weightsManifest: [null] }, 'weightsManifest\\[0\\]: must be an object \\(got null\\)');
  modelJson('manifest-null', 'malformed manifest', { ...base(), weightsManifest: null }, 'weightsManifest: must be a list \\(got null\\)');
  modelJson('manifest-paths-not-strings', 'malformed manifest', { ...base(), weightsManifest: [{ paths: [42], weights: weights() }] }, 'paths\\[0\\]: must be a string');
  modelJson('manifest-null-weight', 'malformed manifest', { ...base(), weightsManifest: [{ paths: ['weights.bin'], weights: [null] }] }, 'weights\\[0\\]: must be an object \\(got null\\)');
  const dtype = (name: string, value: string) => {
    const manifestWeights = () => [{ ...weights()[0], dtype: value }, weights()[1]];
    add(name, 'unknown dtypes', (dir) => writeModel(dir, { manifestWeights: manifestWeights() }), `unknown weight dtype "${value}"`);
  };
  dtype('dtype-float64', 'float64');
  dtype('dtype-string', 'string');
  dtype('dtype-complex64', 'complex64');
  modelJson('layer-lambda', 'unknown layer classes', { ...base(), modelTopology: topology([{ class_name: 'Lambda', config: { name: 'logits', function: 'x => x' } }]) }, 'layer "logits" has class "Lambda", which this engine cannot check or load');
  modelJson('layer-lstm', 'unknown layer classes', { ...base(), modelTopology: topology([{ class_name: 'LSTM', config: { name: 'logits', units: 10 } }]) }, 'has class "LSTM"');
  modelJson('layer-units-string', 'unknown layer classes', { ...base(), modelTopology: topology([{ class_name: 'Dense', config: { name: 'logits', units: '10' } }]) }, 'layer "logits" \\(Dense\\): units must be a positive whole number');
  modelJson('topology-graph-cycle', 'unknown layer classes', { ...base(), modelTopology: { class_name: 'Model', config: { name: 'm', layers: [{ name: 'a', class_name: 'ReLU', config: { name: 'a' }, inbound_nodes: [[['b', 0, 0, {}]]] }, { name: 'b', class_name: 'ReLU', config: { name: 'b' }, inbound_nodes: [[['a', 0, 0, {}]]] }], input_layers: [], output_layers: [['b', 0, 0]] } } }, 'form a cycle');
  modelJson('model-json-null', 'malformed JSON', 'null', 'not a TensorFlow\\.js LayersModel \\(not a JSON object\\)');
  modelJson('model-json-truncated', 'malformed JSON', '{"format": "layers-mo', 'not valid JSON');
  modelJson('model-json-nested-small', 'malformed JSON', nestedJson(20_000), 'JSON nested more than 32 levels deep');
  modelJson('model-json-wide', 'malformed JSON', `[${Array(1_000_000).fill('{}').join(',')}]`, 'more than 200,000 JSON values \\(MODEL_LIMITS\\.jsonValues');
  // Just under the value cap (padding beside a valid model): the most a model.json may cost to parse; it loads.
  add('model-json-most-values', 'malformed JSON', (dir) => {
    writeModel(dir);
    const file = path.join(dir, 'model.json');
    fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), padding: Array(190_000).fill({}) }));
  }, '', { expect: 'loads' });
  modelJson('model-json-proto-key', 'malformed JSON', '{"__proto__": {"modelTopology": {}}, "modelTopology": {}, "weightsManifest": []}', 'the key "__proto__" is not allowed');
  modelJson('graph-model', 'malformed JSON', { format: 'graph-model', modelTopology: {}, weightsManifest: [] }, 'a TensorFlow\\.js graph model');
  // gccs.json: never a silent default.
  const meta = (name: string, value: unknown, problem: string) =>
    add(name, 'hostile gccs.json', (dir) => writeModel(dir, { meta: value }), `gccs\\.json: ${problem}`);
  const good = sampleModelMeta({ inputShape: INPUT, numClasses: CLASSES, classNames: [...SYNTHETIC_CLASS_NAMES] });
  meta('meta-null', 'null', 'must be an object \\(got null\\)');
  meta('meta-number', '42', 'must be an object \\(got 42\\)');
  meta('meta-array', '[]', 'must be an object \\(got a list\\)');
  meta('meta-empty-object', {}, 'missing "engineVersion"');
  meta('meta-wrong-type', { ...good, numClasses: '10' }, 'numClasses: must be a whole number \\(got "10"\\)');
  meta('meta-dataset-null', { ...good, dataset: null }, 'dataset: must be an object \\(got null\\)');
  meta('meta-spec-kind', { ...good, dataset: { ...good.dataset, spec: { kind: 'imagenet' } } }, 'dataset\\.spec\\.kind: unknown dataset kind "imagenet"');
  meta('meta-loss-no-mu', { ...good, loss: { kind: 'gccs' } }, 'loss: missing "muT"');
  meta('meta-input-shape-negative', { ...good, inputShape: [-28, 28, 1] }, 'inputShape\\[0\\]: must be ≥ 1');
  meta('meta-proto-key', `{"__proto__": {"numClasses": 10}, ${JSON.stringify(good).slice(1)}`, '__proto__: the key "__proto__" is not allowed');
  meta('meta-not-json', '{"engineVersion": ', 'not valid JSON');
  // The bombs.
  add('bomb-dense-400000', 'bombs', (dir) => {
    writeModel(dir, { manifestWeights: weights(400_000), shardBytes: 64 });
    const file = path.join(dir, 'model.json');
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    json.modelTopology.config.layers[1].config.units = 400_000;
    fs.writeFileSync(file, JSON.stringify(json));
  }, 'weightsManifest declares 1197\\.8 MiB, more than the 512\\.0 MiB cap on weights', { bomb: true });
  add('bomb-dense-400000-small-manifest', 'bombs', (dir) => {
    writeModel(dir);
    const file = path.join(dir, 'model.json');
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    json.modelTopology.config.layers[1].config.units = 400_000;
    fs.writeFileSync(file, JSON.stringify(json));
  }, 'the topology implies 314,000,000 weights', { bomb: true });
  modelJson('bomb-model-json-50mb-nested', 'bombs', nestedJson(50 * 1024 * 1024), 'model\\.json: the file is 50\\.0 MiB, more than the .* cap \\(MODEL_LIMITS\\.modelJsonBytes', { bomb: true });
  fs.writeFileSync(path.join(outDir, 'cases.json'), JSON.stringify(cases, null, 2) + '\n');
  return cases;
}

if (process.argv[1] && path.resolve(process.argv[1]) === __filename) {
  const outDir = process.argv[2];
  if (!outDir) {
    process.stderr.write('usage: node --import tsx test/hostile/generate.ts OUTDIR\n');
    process.exit(2);
  }
  const cases = generateHostileModels(path.resolve(outDir));
  process.stdout.write(`${cases.length} hostile model folders in ${path.resolve(outDir, 'cases')} (list: cases.json)\n`);
}
