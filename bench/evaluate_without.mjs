// `gccs evaluate` with a preset less some of its attacks, for runs too long to do whole on a small
// machine: e.g. the paper preset without SPSA on 1000 images (SPSA at IT 50 × BS 1024 is ~100,000
// forward passes per image and ε), SPSA then run on a subset with `gccs attack`. Same evaluation,
// diagnostics, verdict and JSON as `gccs evaluate` (evaluateRobustness with a preset of one's own).
//
//   node bench/evaluate_without.mjs --cli-dist dist --model models/mnist-ce --preset paper --without spsa \
//       --eps 0.05,0.1,0.2 --count 1000 --out ce.paper-nospsa.json
// (--cli-dist: a copy of dist/ keeps a rebuild from disturbing a long run)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';

const { values: flags } = parseArgs({
  options: {
    'cli-dist': { type: 'string', default: 'dist' },
    model: { type: 'string' },
    preset: { type: 'string', default: 'paper' },
    without: { type: 'string', default: '' },
    eps: { type: 'string', default: '0.1' },
    count: { type: 'string', default: '1000' },
    'batch-size': { type: 'string', default: '100' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string' },
    backend: { type: 'string', default: 'wasm' },
    'skip-probes': { type: 'boolean', default: false },
  },
});
if (!flags.model) throw new Error('--model is required');
if (flags.out && fs.existsSync(flags.out)) throw new Error(`${flags.out} exists`);
const core = createRequire(import.meta.url)(path.resolve(flags['cli-dist'], 'core.js'));
await core.initBackend(flags.backend);

const left = new Set(flags.without.split(',').filter(Boolean));
const base = core.PRESETS[flags.preset];
if (!base) throw new Error(`unknown preset ${flags.preset}`);
// The preset itself, less those attacks (in this process only), so that the evaluation keeps its name
// and behaviour (the paper preset's attacks then run once, not also as "the paper's protocol").
base.attacks = base.attacks.filter((attack) => !left.has(attack.name));
const { model, meta, modelJson, dataset, examples: test } = await core.loadModelSplit({ model: flags.model });
const count = Math.min(Number(flags.count), test.labels.length);
const examples = core.subset(
  test,
  Int32Array.from({ length: count }, (_, i) => i),
);
const started = Date.now();
const log = (line) => console.log(`[${((Date.now() - started) / 1000).toFixed(0)} s] ${line}`);
log(`${modelJson}: ${count} samples of ${dataset.source}; preset ${flags.preset} without ${[...left].join(', ') || 'nothing'}`);
const evaluation = await core.evaluateRobustness(model, examples, {
  preset: flags.preset,
  eps: flags.eps.split(',').map(Number),
  batchSize: Number(flags['batch-size']),
  seed: Number(flags.seed),
  muT: meta?.loss.kind === 'gccs' ? meta.loss.muT : undefined,
  diagnostics: !flags['skip-probes'],
  onEvent: (event) => {
    if (event.type === 'attackDone')
      log(`${event.run.label} ε=${event.run.eps}: ${(100 * event.run.accuracy).toFixed(1)}% (${event.run.seconds.toFixed(0)} s)`);
    if (event.type === 'diagnostics') log('diagnostics: probing the model…');
  },
});
core.formatEvaluation(evaluation).forEach((line) => console.log(line));
if (flags.out)
  fs.writeFileSync(flags.out, JSON.stringify({ model: modelJson, dataset: dataset.source, without: [...left], ...core.evaluationJson(evaluation) }));
log('done');
