/**
 * GCCS: Evaluate Robustness's picker (src/host/commands/attackPicker.ts, no vscode): presets first,
 * then attacks; what was picked as the sweep file's `attacks` and `presets`; the ε question; the
 * estimate dialog's words. And the estimate the command shows, from a real worker timing a model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/core/backend';
import { ATTACK_NAMES, PRESETS, PRESET_NAMES } from '../../src/core/catalog';
import { saveLayersModel } from '../../src/core/io/layersModelFiles';
import { planSweep, validateSweepConfig } from '../../src/core/sweep/config';
import { estimateSweep } from '../../src/core/sweep/estimate';
import type { SweepConfig } from '../../src/core/sweep/types';
import { ESTIMATE_CHOICES, estimateDialog, pickItems, pickNeedsEps, pickedSweepEntries } from '../../src/host/commands/attackPicker';

test('the picker offers the presets first, by name with their description, then every attack', () => {
  const items = pickItems(['pgd', 'quick']);
  assert.deepEqual(
    items.map((item) => `${item.group} ${item.label}`),
    [...PRESET_NAMES.map((name) => `presets ${name}`), ...ATTACK_NAMES.map((name) => `attacks ${name}`)],
  );
  const autoattack = items.find((item) => item.label === 'autoattack')!;
  assert.equal(autoattack.description, PRESETS.autoattack.description);
  assert.match(autoattack.description, /^AutoAttack's standard version/);
  // In a sweep a preset runs each of its attacks on every sample (no cascade): the detail says what runs.
  assert.equal(autoattack.detail, 'runs APGD-CE, APGD-T, FAB-T, Square, each on every sample, at every ε');
  assert.equal(items.find((item) => item.label === 'quick')!.detail, 'runs APGD-CE-20, APGD-T-20, each on every sample, at every ε');
  assert.deepEqual(
    items.filter((item) => item.picked).map((item) => item.label),
    ['quick', 'pgd'],
  );
});

test("what was picked becomes the sweep file's presets and attacks, which the sweep accepts and plans", () => {
  const items = pickItems([]);
  const pick = (...labels: string[]) => items.filter((item) => labels.includes(item.label));
  assert.deepEqual(pickedSweepEntries(pick('autoattack', 'fgsm', 'deepfool'), '0.05,0.1'), {
    attacks: [{ name: 'fgsm', eps: '0.05,0.1' }, { name: 'deepfool' }],
    presets: [{ name: 'autoattack', eps: '0.05,0.1' }],
  });
  assert.deepEqual(pickedSweepEntries(pick('quick'), '0.1'), { presets: [{ name: 'quick', eps: '0.1' }] });
  assert.deepEqual(pickedSweepEntries(pick('pgd'), '0.1'), { attacks: [{ name: 'pgd', eps: '0.1' }] });
  // A preset always has ε attacks; DeepFool and JSMA alone have none.
  assert.equal(pickNeedsEps(pick('paper')), true);
  assert.equal(pickNeedsEps(pick('deepfool', 'jsma')), false);
  assert.equal(pickNeedsEps(pick('deepfool', 'square')), true);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-picker-'));
  fs.mkdirSync(path.join(dir, 'model'));
  fs.writeFileSync(path.join(dir, 'model', 'model.json'), '{}');
  const config = validateSweepConfig({
    models: [path.join(dir, 'model')],
    data: { kind: 'synthetic' },
    ...pickedSweepEntries(pick('quick', 'fgsm'), '0.05,0.1'),
    count: 10,
  });
  const cells = planSweep(config).cells;
  // FGSM, then the preset's APGD-CE-20 and APGD-T-20, each at both ε.
  assert.deepEqual(
    cells.map((cell) => `${cell.attack} ${cell.eps} ${cell.params.iterations ?? ''}`.trim()),
    ['fgsm 0.05', 'fgsm 0.1', 'apgd-ce 0.05 20', 'apgd-ce 0.1 20', 'apgd-t 0.05 20', 'apgd-t 0.1 20'],
  );
  fs.rmSync(dir, { recursive: true });
});

test('the estimate dialog: the estimate, how it was made, and a way to ask for fewer samples', () => {
  const times = { forward: 0.0004, gradient: 0.0012, batchSize: 100, classes: 10, inputSize: 784 };
  const estimate = { seconds: 750, workers: 2, samples: 1000, epsValues: 3, runs: 12, exact: false, cascade: false, times: [times] };
  const { message, detail } = estimateDialog(estimate);
  assert.equal(
    message,
    'GCCS: about 13 min on 2 workers for 1000 samples × 3 ε (12 cells; at most: attacks that stop once a sample is broken counted as never stopping)',
  );
  assert.match(detail, /one batch of 100 on this model \(forward 0\.40 ms, forward \+ backward 1\.2 ms per sample\)/);
  assert.ok(detail.includes(ESTIMATE_CHOICES.fewer));
});

test("the command's estimate: the sweep planned, its model timed by a real worker, the cells dealt to the workers", async () => {
  await initBackend('cpu');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-estimate-'));
  const model = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [28, 28, 1] }), tfl.layers.dense({ units: 10 })] });
  await saveLayersModel(model, path.join(dir, 'mlp'));
  const items = pickItems([]).filter((item) => ['quick', 'fgsm'].includes(item.label));
  const config: SweepConfig = { models: [path.join(dir, 'mlp')], data: { kind: 'synthetic' }, ...pickedSweepEntries(items, '0,0.1'), count: 200 };
  const estimate = await estimateSweep(config, { backend: 'cpu', workers: 2 });
  assert.deepEqual([estimate.workers, estimate.samples, estimate.epsValues, estimate.runs, estimate.exact], [2, 200, 2, 6, false]);
  assert.equal(estimate.times.length, 1);
  const [times] = estimate.times;
  assert.deepEqual([times.classes, times.inputSize, times.batchSize], [10, 784, 100]);
  assert.ok(times.forward > 0 && times.gradient > 0 && estimate.seconds > 0);
  // A model that does not exist: the configuration's one-line error, before any worker starts.
  await assert.rejects(estimateSweep({ ...config, models: [path.join(dir, 'none')] }, { backend: 'cpu' }), /models\[0\]: no model at/);
  fs.rmSync(dir, { recursive: true });
});
