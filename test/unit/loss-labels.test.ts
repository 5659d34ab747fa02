/**
 * A model's own training loss and an attack's loss are named apart, with one spelling of μ_T, σ_T
 * and λ: the catalog's lossLabel, the sweep summary's clean table (CLI text, report, robustness
 * panel) and a `gccs evaluate` report's attack parameters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sampleModelMeta } from '../helpers/modelMeta';
import { GCCS_DEFAULTS, lossLabel } from '../../src/core/catalog';
import { AttackParams } from '../../src/core/attacks';
import { CellResult, SweepConfig, formatSummary, planSweep, summarizeSweep } from '../../src/core/sweep';
import { modelLossLabel, summarizeEvaluation } from '../../src/core/sweep/summary';
import type { RobustnessEvaluation } from '../../src/core/robustness/evaluate';
import type { ModelMeta } from '../../src/core/io/modelDir';

function model(name: string, overrides: Partial<ModelMeta>): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-loss-labels-')), name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'model.json'), '{}');
  const meta = sampleModelMeta(overrides);
  const spec = { kind: 'synthetic', syntheticTrain: 600, syntheticTest: 300 };
  fs.writeFileSync(path.join(dir, 'gccs.json'), JSON.stringify({ ...meta, dataset: { ...meta.dataset, spec, validationFraction: 0, splitSeed: 0 } }));
  return dir;
}

test('lossLabel: GCCS with μ_T, σ_T, λ (and a non-linear kurtosis penalty), cross-entropy, a defence penalty', () => {
  assert.equal(lossLabel({ kind: 'gccs', ...GCCS_DEFAULTS }), 'GCCS (μ_T 70, σ_T 1, λ 0.2)');
  assert.equal(lossLabel({ kind: 'gccs', ...GCCS_DEFAULTS, muT: 35, sigmaT: 0.5, lambda: 0, kurtosis: 'squared' }), 'GCCS (μ_T 35, σ_T 0.5, λ 0 on (K−3)²)');
  assert.equal(lossLabel({ kind: 'crossentropy' }), 'cross-entropy');
  assert.equal(lossLabel({ kind: 'crossentropy' }, { kind: 'jr', weight: 0.01 }), 'cross-entropy + JR (weight 0.01)');
});

test("a sweep's clean table names each model's training loss; its attack's loss is the attack's, without μ_T", () => {
  const gccs = model('gccs-model', { loss: { kind: 'gccs', muT: 50, sigmaT: 1, lambda: 0.2, kurtosis: 'linear', ridge: 1e-4 } });
  const ce = model('ce-model', { loss: { kind: 'crossentropy' } });
  const config: SweepConfig = { models: [gccs, ce], attacks: [{ name: 'pgd', eps: [0, 0.1] }], count: 300 };
  const plan = planSweep(config);
  // The sweep gave PGD the GCCS model's μ_T (for a latent loss it does not use).
  assert.ok(plan.cells.some((cell) => (cell.params as Record<string, unknown>).muT === 50));
  const results: CellResult[] = plan.cells.map((cell) => ({
    configHash: plan.configHash,
    cell,
    accuracy: cell.eps ? 0.5 : 0.9,
    cleanAccuracy: 0.9,
    count: 300,
    seconds: 1,
    backend: 'wasm',
    finishedAt: '2025-01-01T00:00:00.000Z',
  }));
  const summary = summarizeSweep(plan.cells, results);
  assert.deepEqual(summary.clean.columns, ['model', 'training loss', 'clean accuracy', 'samples', 'path']);
  assert.deepEqual(
    summary.clean.rows.map((row) => row.slice(0, 2)),
    [
      ['gccs-model', 'GCCS (μ_T 50, σ_T 1, λ 0.2)'],
      ['ce-model', 'cross-entropy'],
    ],
  );
  const text = formatSummary(summary).join('\n');
  assert.match(text, /^ {2}gccs-model {2}GCCS \(μ_T 50, σ_T 1, λ 0\.2\) {2}90\.00%/m);
  assert.match(text, /attack loss: cross-entropy/);
  assert.doesNotMatch(text, /muT|crossentropy|μ_T of the attack loss/);

  // A model that is gone (or not ours) still gets its row.
  fs.rmSync(path.join(ce, 'gccs.json'));
  assert.equal(modelLossLabel(ce), '—');
  assert.equal(modelLossLabel(path.join(os.tmpdir(), 'no-such-model-folder')), '—');
});

test("a gccs evaluate report: the model's training loss in the clean table, the attacks' parameters in plain words", () => {
  const gccs = model('evaluated', { loss: { kind: 'gccs', muT: 70, sigmaT: 1, lambda: 0.2, kurtosis: 'linear', ridge: 1e-4 } });
  const run = (label: string, params: Partial<AttackParams>) => ({
    name: 'pgd' as const,
    label,
    protocol: 'paper' as const,
    eps: 0.1,
    params: { eps: 0.1, ...params } as AttackParams,
    attacked: 4,
    robust: Uint8Array.of(1, 0, 1, 0),
    accuracy: 0.5,
    seconds: 1,
  });
  const runs = [run('PGD-5', { steps: 5, stepSize: 0.05, loss: 'crossentropy', muT: 70 }), run('PGD-latent', { steps: 5, loss: 'latent', muT: 70 })];
  const evaluation: RobustnessEvaluation = {
    preset: 'paper',
    norm: 'linf',
    otherNorm: [],
    order: 'independent',
    missing: [],
    count: 4,
    clean: Uint8Array.of(1, 1, 1, 0),
    cleanAccuracy: 0.75,
    eps: [{ eps: 0.1, runs, worst: Uint8Array.of(1, 0, 1, 0), worstAccuracy: 0.5, paper: { accuracy: 0.5, label: 'PGD-5' } }],
    unbounded: [],
    diagnostics: [],
    verdict: [],
    seconds: 1,
  };
  const summary = summarizeEvaluation(evaluation, path.join(gccs, 'model.json'));
  assert.deepEqual(summary.clean.rows[0].slice(0, 3), ['model.json', 'GCCS (μ_T 70, σ_T 1, λ 0.2)', '75.00%']);
  const parameters = summary.sections[0].parameters;
  assert.ok(parameters.includes('PGD-5: steps 5, step size 0.05, attack loss cross-entropy'), parameters.join('\n'));
  assert.ok(parameters.includes('PGD-latent: steps 5, attack loss latent, μ_T of the attack loss 70'), parameters.join('\n'));
});
