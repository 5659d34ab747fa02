import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CellResult, appendResult } from '../../src/core/sweep';
import { experimentEntry, modelEntry, resultEntry, resultLocations } from '../../src/host/sidebar/entries';
import { sampleModelMeta } from '../helpers/modelMeta';

const workspace = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-sidebar-'));

function cell(id: string, model: string, attack: 'fgsm' | 'pgd', eps: number, accuracy: number): CellResult {
  return {
    configHash: 'aaaa',
    cell: {
      id,
      entry: 0,
      model,
      attack,
      params: { eps },
      eps,
      iterations: null,
      samples: null,
      data: { spec: { kind: 'synthetic' }, trainRange: null, testRange: null, validationFraction: 0, splitSeed: 0 },
      count: 10,
      batchSize: 100,
      seed: 0,
    },
    accuracy,
    cleanAccuracy: 0.9,
    count: 10,
    seconds: 0.1,
    backend: 'cpu',
    finishedAt: '2025-01-01T00:00:00.000Z',
  };
}

function writeModel(folder: string, checkpoint = false): void {
  fs.mkdirSync(path.join(folder, checkpoint ? 'checkpoint' : ''), { recursive: true });
  fs.writeFileSync(path.join(folder, 'model.json'), '{}');
  fs.writeFileSync(path.join(folder, 'gccs.json'), JSON.stringify(sampleModelMeta()));
}

test('an experiment is not trained, training with its progress, or trained once its outDir has a gccs.json; a bad one says why', () => {
  const root = workspace();
  const file = path.join(root, 'tiny.gccs.json');
  fs.writeFileSync(file, JSON.stringify({ dataset: { kind: 'synthetic' }, outDir: 'models/tiny' }));
  assert.deepEqual([experimentEntry(file).description, experimentEntry(file).contextValue], ['not trained', 'experiment']);
  assert.deepEqual([experimentEntry(file, 0.426).description, experimentEntry(file, 0.426).contextValue], ['training 43%', 'experiment.training']);
  writeModel(path.join(root, 'models', 'tiny'));
  assert.deepEqual([experimentEntry(file).description, experimentEntry(file).contextValue], ['trained', 'experiment.trained']);
  fs.writeFileSync(file, JSON.stringify({ dataset: { kind: 'synthetic' }, epochs: -1, outDir: 'x' }));
  const bad = experimentEntry(file);
  assert.equal(bad.description, 'invalid');
  assert.match(bad.tooltip, /^tiny\.gccs\.json: epochs: /);
});

test('a sweep shows its lowest accuracy under attack and where; an evaluation its worst case; other JSON is no result', () => {
  const root = workspace();
  const results = path.join(root, '.gccs', 'results');
  fs.mkdirSync(results, { recursive: true });
  const sweep = path.join(results, 'tiny.jsonl');
  for (const [i, [attack, eps, accuracy]] of (
    [
      ['fgsm', 0.1, 0.6],
      ['pgd', 0.3, 0.125],
      ['fgsm', 0.3, 0.25],
    ] as const
  ).entries())
    appendResult(sweep, cell(`c${i}`, '/m', attack, eps, accuracy));
  assert.equal(resultEntry(sweep).description, 'worst 12.5% (pgd, ε 0.3)');
  assert.equal(resultEntry(sweep).contextValue, 'result.sweep');
  const evaluation = path.join(results, 'tiny-eval.json');
  fs.writeFileSync(
    evaluation,
    JSON.stringify({
      model: path.join(root, 'models', 'tiny', 'model.json'),
      eps: [
        { eps: 0.1, worstAccuracy: 0.5 },
        { eps: 0.2, worstAccuracy: 0.0625 },
      ],
      verdict: ['robust to nothing'],
    }),
  );
  assert.equal(resultEntry(evaluation).description, 'worst 6.3% (worst case over the attacks, ε 0.2)');
  assert.match(resultEntry(evaluation).tooltip, /^tiny: lowest accuracy under attack 6\.3% .*\nrobust to nothing\n/);
  fs.writeFileSync(path.join(results, 'tiny.eval.json'), JSON.stringify({ accuracy: 0.9, separation: { mean: 6.06 } }));
  fs.writeFileSync(path.join(results, 'tiny.sweep.json'), '{}');
  fs.writeFileSync(path.join(results, 'notes.json'), '{"a": 1}');
  assert.deepEqual(
    resultLocations(results, 10)
      .map((f) => path.basename(f))
      .sort(),
    ['tiny-eval.json', 'tiny.jsonl'],
  );
  assert.deepEqual(resultLocations(results, 1).length, 1);
  fs.writeFileSync(path.join(results, 'broken.jsonl'), '{"not": "a result"}\n');
  assert.equal(resultEntry(path.join(results, 'broken.jsonl')).description, 'unreadable');
  assert.match(resultEntry(path.join(results, 'broken.jsonl')).tooltip, /broken\.jsonl:1: not a sweep result line/);
});

test('a model shows test accuracy and r_AB from its saved evaluation, its newest robustness result, and offers Delete Checkpoint when it has one', () => {
  const root = workspace();
  const results = path.join(root, '.gccs', 'results');
  fs.mkdirSync(results, { recursive: true });
  const folder = path.join(root, 'models', 'tiny');
  writeModel(folder, true);
  // Before any evaluation: the last validation accuracy of gccs.json.
  assert.equal(modelEntry(folder, [], results).description, 'validation 60.0%');
  assert.equal(modelEntry(folder, [], results).contextValue, 'model.checkpoint');
  const sweep = path.join(results, 'tiny.jsonl');
  appendResult(sweep, cell('c1', folder, 'fgsm', 0.2, 0.375));
  fs.writeFileSync(path.join(results, 'tiny.eval.json'), JSON.stringify({ accuracy: 0.9125, separation: { mean: 6.0612 } }));
  const other = path.join(results, 'other.jsonl');
  appendResult(other, cell('c2', '/elsewhere', 'fgsm', 0.2, 0.01));
  const entry = modelEntry(folder, [other, sweep], results);
  assert.equal(entry.description, 'test 91.3% · r_AB 6.06 · worst 37.5% (fgsm, ε 0.2)');
  assert.match(entry.tooltip, /training loss: GCCS \(μ_T 50, σ_T 1, λ 0\.2\)/);
  fs.rmSync(path.join(folder, 'checkpoint'), { recursive: true });
  assert.equal(modelEntry(folder, [sweep], results).contextValue, 'model');
  // An evaluation of this model (newer than the sweep) is its latest result.
  const evaluation = path.join(results, 'run.json');
  fs.writeFileSync(evaluation, JSON.stringify({ model: path.join(folder, 'model.json'), eps: [{ eps: 0.3, worstAccuracy: 0.2 }], verdict: [] }));
  assert.match(modelEntry(folder, [evaluation, sweep], results).description, / · worst 20\.0% \(worst case over the attacks, ε 0\.3\)$/);
  fs.writeFileSync(path.join(folder, 'gccs.json'), '{"engineVersion": 3}');
  assert.equal(modelEntry(folder, [], results).description, 'unreadable gccs.json');
});

test("the view's inline actions per row (package.json view/item/context): each row gets the commands that apply to it", () => {
  const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8'));
  const items: { command: string; when: string; group: string }[] = manifest.contributes.menus['view/item/context'];
  const actions = (contextValue: string) =>
    items
      .filter(({ when }) => {
        const [view, item] = when.split(' && ');
        assert.equal(view, 'view == gccs.workspace');
        const regex = /^viewItem =~ \/(.+)\/$/.exec(item);
        return regex ? new RegExp(regex[1]).test(contextValue) : item === `viewItem == ${contextValue}`;
      })
      .map((item) => item.command.slice('gccs.'.length))
      .sort();
  assert.deepEqual(actions('experiment'), ['train']);
  // A training experiment offers Cancel instead of a second Train (which would queue the same run again).
  assert.deepEqual(actions('experiment.training'), ['cancelJob']);
  assert.deepEqual(actions('experiment.trained'), ['showLatentSpace', 'train']);
  assert.deepEqual(actions('model'), ['compareModels', 'evaluateRobustness', 'showLatentSpace', 'showTraining']);
  assert.deepEqual(actions('model.checkpoint'), ['compareModels', 'deleteCheckpoint', 'evaluateRobustness', 'showLatentSpace', 'showTraining']);
  assert.deepEqual(actions('result.sweep'), ['compareModels', 'openReport']);
  assert.deepEqual(actions('result.evaluation'), []);
  for (const { group } of items) assert.match(group, /^inline@\d$/);
  for (const command of new Set(items.map((item) => item.command)))
    assert.ok(manifest.contributes.commands.find((c: { command: string }) => c.command === command).icon, `${command} has an icon`);
});
