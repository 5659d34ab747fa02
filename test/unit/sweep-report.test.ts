import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sampleModelMeta } from '../helpers/modelMeta';
import { CellResult, SweepCell, SweepConfig, formatSummary, planSweep, renderReport, summarizeSweep } from '../../src/core/sweep';
import { encodeBits } from '../../src/core/robustness/bits';

function fakeModel(name: string): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-sweep-report-')), name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'model.json'), '{}');
  const spec = { kind: 'synthetic', syntheticTrain: 600, syntheticTest: 300 };
  const meta = sampleModelMeta({ loss: { kind: 'crossentropy' } });
  fs.writeFileSync(path.join(dir, 'gccs.json'), JSON.stringify({ ...meta, dataset: { ...meta.dataset, spec, validationFraction: 0, splitSeed: 0 } }));
  return dir;
}

/** Results as the accuracy function says, the way a sweep would have written them. */
function fabricate(config: SweepConfig, accuracy: (cell: SweepCell) => number) {
  const plan = planSweep(config);
  const results: CellResult[] = plan.cells.map((cell) => ({
    configHash: plan.configHash,
    cell,
    accuracy: accuracy(cell),
    cleanAccuracy: 0.9,
    count: 300,
    ...(cell.attack === 'deepfool' && { rho: 0.1234 }),
    ...(cell.attack === 'jsma' && { meanChangedPixels: 0.02 }),
    seconds: 1,
    backend: 'wasm',
    finishedAt: '2025-01-01T00:00:00.000Z',
  }));
  return { plan, results };
}

const config = (models: string[]): SweepConfig => ({
  models,
  attacks: [
    { name: 'fgsm', eps: [0, 0.05, 0.1] },
    { name: 'pgd', eps: [0, 0.05, 0.1] },
    { name: 'spsa', eps: [0.05, 0.1], iterations: [5, 10], samples: [8, 16] },
    { name: 'deepfool' },
    { name: 'jsma' },
  ],
  count: 300,
});

test('the report: a chart per ε attack, chart.js inline, every table, the parameters', () => {
  const models = [fakeModel('robust'), fakeModel('plain')];
  const { plan, results } = fabricate(config(models), (cell) => (cell.eps ? 0.9 - 4 * cell.eps - (cell.iterations ?? 0) / 100 : 0.9));
  const summary = summarizeSweep(plan.cells, results);
  assert.deepEqual(summary.warnings, []);
  const html = renderReport(summary, { configHash: plan.configHash, sweep: plan.sweep, resultsFile: 'r.jsonl' });
  // The report is large: say which pattern is missing, not the whole file.
  const has = (pattern: RegExp, text = html) => assert.ok(pattern.test(text), `${pattern} is in the report`);
  assert.equal(html.match(/<canvas /g)?.length, 3, 'FGSM, PGD and SPSA have an ε axis');
  has(/Chart\.js v4/);
  assert.ok(!/<script src=/.test(html), 'self-contained');
  has(/<caption>SPSA, ε = 0\.1<\/caption>/);
  has(/<th>IT \\ BS<\/th><th>8<\/th><th>16<\/th>/);
  has(/<th>ρ<\/th>/);
  has(/<td>0\.1234<\/td>/);
  has(/<th>changed pixels<\/th>/);
  has(/step size: 0–0\.05 \(per ε\)<br>/);
  has(/attack loss: cross-entropy/);
  assert.ok(!/muT|μ_T/.test(html), 'no μ_T for a cross-entropy attack loss');
  has(/<td>robust<\/td><td>90\.00%<\/td>/);
  const text = formatSummary(summary).join('\n');
  assert.match(text, /^ {2}ε {5}robust {2}plain$/m);
  assert.match(text, /^ {2}0\.05 {2}70\.00% {2}70\.00%$/m);
  // Unfinished cells are shown as such.
  const partial = summarizeSweep(plan.cells, results.slice(0, 3));
  assert.match(formatSummary(partial).join('\n'), /3 of 32 cells finished/);
  has(/<td>—<\/td>/, renderReport(partial, { configHash: plan.configHash, sweep: plan.sweep }));
});

test('possible gradient masking is flagged: accuracy rising with ε, PGD weaker than FGSM, SPSA far stronger', () => {
  const model = fakeModel('masked');
  const accuracy = (cell: SweepCell) => {
    if (cell.eps === 0) return 0.9;
    if (cell.attack === 'fgsm') return cell.eps === 0.05 ? 0.5 : 0.6;
    if (cell.attack === 'pgd') return 0.7;
    return 0.2;
  };
  const { plan, results } = fabricate(config([model]), accuracy);
  const summary = summarizeSweep(plan.cells, results);
  assert.equal(summary.warnings.length, 3);
  assert.match(summary.warnings[0], /^possible gradient masking on masked: FGSM: accuracy rises with ε \(50\.0% at ε = 0\.05 → 60\.0% at ε = 0\.1\)/);
  assert.match(summary.warnings[1], /^possible gradient masking on masked: at ε = 0\.05, PGD leaves 70\.0% but one step of FGSM only 50\.0%/);
  assert.match(summary.warnings[2], /^possible gradient masking on masked: at ε = 0\.1, gradient-free SPSA ends 40\.0% below the best white-box attack/);
  const html = renderReport(summary, { configHash: plan.configHash, sweep: plan.sweep });
  assert.equal(html.match(/class="warning"/g)?.length, 3);
  assert.ok(formatSummary(summary).includes(`warning: ${summary.warnings[1]}`));
});

test('the per-sample worst case: exact where every attack at ε recorded its samples, never above any attack, absent for older results', () => {
  const model = fakeModel('bits');
  const sweep: SweepConfig = {
    models: [model],
    attacks: [
      { name: 'fgsm', eps: [0, 0.1] },
      { name: 'pgd', eps: [0, 0.1] },
      { name: 'spsa', eps: [0.1], iterations: [5], samples: [8] },
    ],
    count: 300,
  };
  const plan = planSweep(sweep);
  // At ε = 0.1 FGSM breaks every 5th sample, PGD every 3rd, SPSA every 6th (all of them PGD's too).
  const every = (cell: SweepCell) => (cell.eps === 0 ? 0 : ({ fgsm: 5, pgd: 3, spsa: 6 } as Record<string, number>)[cell.attack]);
  const robust = (cell: SweepCell) => Uint8Array.from({ length: 300 }, (_, i) => (every(cell) && i % every(cell) === 0 ? 0 : 1));
  const results: CellResult[] = plan.cells.map((cell) => ({
    configHash: plan.configHash,
    cell,
    accuracy: robust(cell).reduce((a, b) => a + b, 0) / 300,
    cleanAccuracy: 1,
    count: 300,
    robust: encodeBits(robust(cell)),
    seconds: 1,
    backend: 'wasm',
    finishedAt: '2025-01-01T00:00:00.000Z',
  }));
  const summary = summarizeSweep(plan.cells, results);
  const worst = summary.sections[0];
  assert.match(worst.title, /^Worst case/);
  const survivors = Array.from({ length: 300 }, (_, i) => i).filter((i) => i % 3 && i % 5).length;
  assert.deepEqual(worst.tables[0].rows, [
    ['0', '100.00%', '100.00%'],
    ['0.1', `${(100 * (survivors / 300)).toFixed(2)}%`, '66.67%'],
  ]);
  const curve = worst.chart!.series.find((s) => s.label === 'bits: worst case')!;
  for (const s of worst.chart!.series) for (const p of s.points) assert.ok(curve.points.find((q) => q.eps === p.eps)!.accuracy <= p.accuracy, s.label);
  assert.deepEqual(summary.warnings, [], 'independent attacks breaking different samples are not masking');
  // Older results lines (no per-sample record) still summarise, without a worst case.
  const older = summarizeSweep(
    plan.cells,
    results.map(({ robust: _, ...rest }) => rest),
  );
  assert.ok(!older.sections.some((s) => /^Worst case/.test(s.title)));
  assert.match(
    renderReport(summary, { configHash: plan.configHash, sweep: plan.sweep }),
    /<caption>Worst case \(per sample, over every attack at each ε\)<\/caption>/,
  );
});

test('plain titles and parameters: an attack used twice is numbered, μ_T is listed only with the latent attack loss', () => {
  const sweep: SweepConfig = {
    models: [fakeModel('twice')],
    attacks: [
      { name: 'pgd', eps: [0, 0.1] },
      { name: 'pgd', eps: [0.1], params: { loss: 'latent', muT: 50 } },
    ],
    count: 300,
  };
  const { plan, results } = fabricate(sweep, () => 0.5);
  const sections = summarizeSweep(plan.cells, results).sections.filter((s) => s.title.startsWith('PGD'));
  assert.deepEqual(
    sections.map((s) => s.title),
    ['PGD #1', 'PGD #2'],
  );
  assert.ok(
    sections[0].parameters.includes('attack loss: cross-entropy') && !sections[0].parameters.some((p) => p.startsWith('μ_T')),
    sections[0].parameters.join('; '),
  );
  assert.ok(
    sections[1].parameters.includes('attack loss: latent') && sections[1].parameters.includes('μ_T of the attack loss: 50'),
    sections[1].parameters.join('; '),
  );
});
