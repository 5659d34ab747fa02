import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { initBackend } from '../../src/core/backend';
import { resolveAttackParams } from '../../src/core/catalog';
import { UserError } from '../../src/core/errors';
import { ROBUSTNESS_LIMITS } from '../../src/core/limits';
import {
  PRESET_NAMES,
  Preset,
  RobustnessEvaluation,
  decodeBits,
  encodeBits,
  evaluateRobustness,
  evaluationJson,
  planPreset,
  resultChecks,
  worstCase,
} from '../../src/core/robustness';
import { planSweep } from '../../src/core/sweep';
import { Problem, plainModel, prototypeProblem, saturatedModel, softmaxModel } from '../helpers/maskedModels';
import { sampleModelMeta } from '../helpers/modelMeta';

/** Existing attacks, as a cascade: a white-box one, then a gradient-free one on what it left. */
const CASCADE: Preset = {
  description: 'test cascade',
  order: 'cascade',
  attacks: [
    { name: 'pgd', params: { steps: 10 }, label: 'PGD-10' },
    { name: 'spsa', params: { iterations: 10, samples: 16 } },
  ],
};
const INDEPENDENT: Preset = { ...CASCADE, order: 'independent' };

let problem: Problem;
before(async () => {
  await initBackend('cpu');
  problem = prototypeProblem({ perClass: 25 });
});

const evaluate = (model = plainModel(problem), preset: Preset | string = CASCADE, extra = {}) =>
  evaluateRobustness(model, problem.examples, { preset, eps: [0.1, 0.2, 0.3], batchSize: 50, seed: 3, diagnostics: false, ...extra });

/** Everything but the wall times. */
const withoutTimes = (evaluation: RobustnessEvaluation) =>
  JSON.parse(JSON.stringify(evaluationJson(evaluation), (key, value) => (key === 'seconds' ? undefined : value)));

describe('robustness: worst case', () => {
  it('is the per-sample minimum: never above any attack on any sample, and broken wherever one attack broke it', async () => {
    for (const preset of [CASCADE, INDEPENDENT]) {
      const evaluation = await evaluate(undefined, preset);
      for (const e of evaluation.eps) {
        assert.ok(e.runs.length >= 4, 'the paper gradient attacks run beside the preset');
        for (let i = 0; i < evaluation.count; i++) {
          const broken = e.runs.some((run) => run.robust[i] === 0);
          assert.equal(e.worst[i], broken ? 0 : 1, `sample ${i} at ε = ${e.eps}`);
        }
        for (const run of e.runs) assert.ok(e.worstAccuracy <= run.accuracy, `${run.label} at ε = ${e.eps}`);
        assert.ok(e.worstAccuracy <= evaluation.cleanAccuracy);
      }
      // Not vacuous: the attacks break some samples and not all.
      assert.ok(
        evaluation.eps.some((e) => e.worstAccuracy > 0.2 && e.worstAccuracy < 0.9),
        JSON.stringify(evaluation.eps.map((e) => e.worstAccuracy)),
      );
    }
  });

  it('worstCase is the AND of any per-attack outcomes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }).chain((n) => fc.array(fc.uint8Array({ minLength: n, maxLength: n, min: 0, max: 1 }), { minLength: 1, maxLength: 6 })),
        (runs) => {
          const worst = worstCase(runs);
          worst.forEach((flag, i) => assert.equal(flag, runs.every((run) => run[i] === 1) ? 1 : 0));
        },
      ),
    );
    assert.throws(() => worstCase([new Uint8Array(3), new Uint8Array(4)]), UserError);
  });

  it('a cascade attacks only what the earlier attacks left, and never lets a sample recover', async () => {
    const evaluation = await evaluate();
    for (const e of evaluation.eps) {
      const [pgd, spsa] = e.runs.filter((run) => run.protocol === 'preset');
      assert.equal(
        pgd.attacked,
        evaluation.clean.reduce((a, b) => a + b, 0),
      );
      assert.equal(
        spsa.attacked,
        pgd.robust.reduce((a, b) => a + b, 0),
      );
      spsa.robust.forEach((flag, i) => assert.ok(flag <= pgd.robust[i]));
    }
  });

  it('the same seed gives identical results; another seed may differ only through the random attacks', async () => {
    const [a, b] = [await evaluate(), await evaluate()];
    assert.deepEqual(withoutTimes(a), withoutTimes(b));
  });

  it('per-sample outcomes survive the JSON bitsets', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100, min: 0, max: 1 }), (flags) => {
        assert.deepEqual(decodeBits(encodeBits(flags), flags.length, 'test'), flags);
      }),
    );
    assert.throws(() => decodeBits('AAAA', 100, 'results.jsonl:3'), /results.jsonl:3: per-sample results are not a base64 bitset of 100 samples/);
    assert.throws(() => decodeBits('!!', 3, 'x'), UserError);
  });
});

describe('robustness: presets and bad input', () => {
  it('an unknown preset is one line naming the presets', () => {
    assert.throws(
      () => planPreset('autoatack'),
      (error: Error) => error instanceof UserError && error.message === 'unknown preset "autoatack": expected one of paper, autoattack, quick',
    );
  });

  it('the paper preset holds the paper six attacks and parameters', () => {
    const plan = planPreset('paper');
    assert.deepEqual(
      plan.attacks.map((a) => a.label),
      ['FGSM', 'PGD-5', 'TGSM-5', 'SPSA (IT 50, BS 1024)', 'JSMA-200', 'DeepFool'],
    );
    assert.deepEqual(
      plan.attacks.map((a) => a.bounded),
      [true, true, true, true, false, false],
    );
    assert.equal(plan.preset.order, 'independent');
  });

  it('ε outside (0, 1] and too many ε are refused in one line', async () => {
    await assert.rejects(
      evaluate(undefined, CASCADE, { eps: [0.1, 1.5] }),
      (error: Error) => error instanceof UserError && !error.message.includes('\n') && /ε must be in \(0, 1\]/.test(error.message),
    );
    await assert.rejects(evaluate(undefined, CASCADE, { eps: Array.from({ length: 40 }, (_, i) => (i + 1) / 40) }), /at most 32/);
    await assert.rejects(evaluate(undefined, 'nope'), /unknown preset "nope"/);
  });
});

describe('robustness: diagnostics', () => {
  const flagged = (evaluation: RobustnessEvaluation) => evaluation.diagnostics.filter((d) => !d.ok).map((d) => d.id);

  it('the plain classifier is not flagged', async () => {
    const evaluation = await evaluate(undefined, CASCADE, { diagnostics: true });
    assert.deepEqual(flagged(evaluation), [], evaluation.diagnostics.map((d) => d.message).join('\n'));
    assert.equal(evaluation.diagnostics.length, 9);
    assert.ok(!evaluation.verdict.some((line) => /upper bounds/.test(line)));
  });

  it('a softmax output layer is flagged', async () => {
    const evaluation = await evaluate(softmaxModel(problem), CASCADE, { diagnostics: true });
    const ids = flagged(evaluation);
    assert.ok(ids.includes('outputs'), ids.join(', '));
    assert.match(evaluation.diagnostics.find((d) => d.id === 'outputs')!.message, /look like probabilities/);
    assert.ok(evaluation.verdict.some((line) => /upper bounds/.test(line)));
  });

  it('a steep saturating layer (tanh(100·z)) is flagged: saturated outputs, zero gradients, PGD at ε = 1 above chance', async () => {
    const ids = flagged(await evaluate(saturatedModel(problem), CASCADE, { diagnostics: true }));
    for (const id of ['outputs', 'gradients', 'unbounded']) assert.ok(ids.includes(id as never), `${id} in ${ids.join(', ')}`);
  });

  it('result checks: accuracy rising with ε, iterative weaker than one step, gradient-free breaking what white-box missed', () => {
    const bits = (s: string) => Uint8Array.from(s, Number);
    const checks = resultChecks([
      { name: 'fgsm', label: 'FGSM', points: [{ eps: 0.1, accuracy: 0.5, robust: bits('11110000') }] },
      {
        name: 'pgd',
        label: 'PGD-5',
        points: [
          { eps: 0.1, accuracy: 0.625, robust: bits('11111000') },
          { eps: 0.2, accuracy: 0.75, robust: bits('11111100') },
        ],
      },
      { name: 'spsa', label: 'SPSA', points: [{ eps: 0.1, accuracy: 0.25, robust: bits('00110000') }] },
    ]);
    assert.deepEqual(
      checks.map((d) => [d.id, d.ok]),
      [
        ['eps-monotone', false],
        ['iterative-vs-single-step', false],
        ['gradient-free', false],
      ],
    );
    assert.match(checks[2].message, /breaks 25.0% of the samples that every white-box attack left standing/);
    const fine = resultChecks([
      { name: 'fgsm', label: 'FGSM', points: [{ eps: 0.1, accuracy: 0.5 }] },
      {
        name: 'pgd',
        label: 'PGD-5',
        points: [
          { eps: 0.1, accuracy: 0.4 },
          { eps: 0.2, accuracy: 0.1 },
        ],
      },
      { name: 'spsa', label: 'SPSA', points: [{ eps: 0.1, accuracy: 0.45 }] },
    ]);
    assert.ok(fine.every((d) => d.ok));
  });
});

describe('robustness: per-sample attacks', () => {
  it('give the accuracies evaluateAttack gives (same batches and seeds), with which samples fell', async () => {
    const { evaluateAttack } = await import('../../src/core/robustness/samples');
    const { attackSamples, fractionOf } = await import('../../src/core/robustness');
    const model = plainModel(problem);
    const indices = Int32Array.from({ length: problem.examples.labels.length }, (_, i) => i);
    for (const [name, params] of [
      ['pgd', { eps: 0.2, randomStart: true }],
      ['deepfool', {}],
      ['jsma', { maxIterations: 5 }],
    ] as const) {
      const reference = await evaluateAttack(model, problem.examples, name, params, { batchSize: 30, seed: 5 });
      const samples = await attackSamples(model, problem.examples, indices, name, resolveAttackParams(name, params), { batchSize: 30, seed: 5 });
      assert.equal(fractionOf(samples.robust), reference.accuracy, name);
      assert.equal(fractionOf(samples.clean), reference.cleanAccuracy, name);
      assert.equal(samples.rho, reference.rho, name);
      assert.equal(samples.meanChangedPixels, reference.meanChangedPixels, name);
    }
  });
});

describe('robustness: presets in sweep files', () => {
  const fakeModel = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-preset-sweep-'));
    fs.writeFileSync(path.join(dir, 'model.json'), '{}');
    const meta = sampleModelMeta({ loss: { kind: 'crossentropy' } });
    fs.writeFileSync(
      path.join(dir, 'gccs.json'),
      JSON.stringify({ ...meta, dataset: { ...meta.dataset, spec: { kind: 'synthetic' }, validationFraction: 0, splitSeed: 0 } }),
    );
    return dir;
  };

  it('a preset adds its attacks with its parameters, after the configuration own attacks', () => {
    const plan = planSweep({ models: [fakeModel()], attacks: [{ name: 'fgsm', eps: [0.3] }], presets: [{ name: 'paper', eps: '0.05:0.1:0.05' }] });
    const cells = plan.cells.map((cell) => [cell.entry, cell.attack, cell.eps, cell.iterations, cell.samples]);
    assert.deepEqual(cells, [
      [0, 'fgsm', 0.3, null, null],
      [1, 'fgsm', 0.05, null, null],
      [1, 'fgsm', 0.1, null, null],
      [2, 'pgd', 0.05, null, null],
      [2, 'pgd', 0.1, null, null],
      [3, 'tgsm', 0.05, null, null],
      [3, 'tgsm', 0.1, null, null],
      [4, 'spsa', 0.05, 50, 1024],
      [4, 'spsa', 0.1, 50, 1024],
      [5, 'jsma', null, null, null],
      [6, 'deepfool', null, null, null],
    ]);
    assert.equal(plan.cells.find((cell) => cell.attack === 'pgd')!.params.steps, 5);
    assert.equal(plan.cells.find((cell) => cell.attack === 'jsma')!.params.maxIterations, 200);
  });

  it('the schema lists the presets; a sweep without attacks or presets, or with an unknown preset, is one line', () => {
    const schema = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../schema/sweep.schema.json'), 'utf8'));
    assert.deepEqual(schema.properties.presets.items.properties.name.enum, PRESET_NAMES);
    assert.equal(schema.properties.presets.maxItems, ROBUSTNESS_LIMITS.sweepPresets);
    const model = fakeModel();
    assert.throws(() => planSweep({ models: [model] }), /: sweep config: a sweep needs "attacks", "presets" or both$/);
    assert.throws(
      () => planSweep({ models: [model], presets: [{ name: 'autoatack', eps: [0.1] }] }),
      (error: Error) => error instanceof UserError && /^sweep config: presets\[0\]\.name: /.test(error.message) && !error.message.includes('\n'),
    );
    assert.throws(() => planSweep({ models: [model], presets: [{ name: 'quick', eps: '0:1:x' }] }), /: sweep config: presets\[0\]\.eps: /);
  });
});

describe('robustness: L2 threat model', () => {
  it('runs the attacks that have an L2 version with norm l2, leaves the others out and says so', async () => {
    const evaluation = await evaluate(undefined, INDEPENDENT, { norm: 'l2', eps: [0.2] });
    assert.equal(evaluation.norm, 'l2');
    assert.deepEqual(
      evaluation.eps[0].runs.map((r) => [r.label, r.params.norm]),
      [['PGD-10', 'l2']],
    );
    assert.deepEqual(evaluation.otherNorm, ['SPSA']);
    assert.ok(evaluation.verdict.includes('no L2 version, left out: SPSA'));
  });
});
