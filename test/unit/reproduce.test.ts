// `gccs reproduce` (src/core/reproduce): the plan holds the paper's models with the paper's settings;
// a run on the synthetic set with tiny settings, cancelled part way through a training, resumes that
// training from its checkpoint and reuses what finished; its report holds for each model exactly
// what `gccs eval` and `gccs evaluate --preset quick` give for it; a third run trains and attacks
// nothing (files untouched); folders and files the run did not write are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../../src/core/backend';
import { UserError } from '../../src/core/errors';
import { PAPER_MODELS, ReproduceEvent, RUN_MARKER, SCALES, planReproduction, runReproduction, writeReproductionReport } from '../../src/core/reproduce';
import { TrainingCancelled } from '../../src/core/train/trainer';
import { evalCommand } from '../../src/cli/commands';
import { evaluateCommand } from '../../src/cli/evaluateCommand';
import { computeLatent } from '../../src/core/inspect/latent';
import { project, vertexPlane, vertexScale } from '../../src/core/metrics/projection';

const SYNTHETIC = { kind: 'synthetic' as const, syntheticTrain: 60, syntheticTest: 20 };
/**
 * Every kind of training: regular (cross-entropy, GCCS), a GCCS fine-tuning and an adversarial fine-tuning
 * (the defences' own tests are in loss-defences.test.ts).
 */
const MODELS = ['ce', 'gccs', 'gccs-ft', 'gccs-at'];
const tinyPlan = (outDir: string) =>
  planReproduction({
    dataset: SYNTHETIC,
    scale: 'quick',
    outDir,
    models: MODELS,
    overrides: { model: 'mlp', epochs: 1, fineTuneEpochs: 2, adversarialEpochs: 1, batchSize: 20, count: 6, eps: [0.1], jsmaIterations: 5 },
  });

/** Path → mtime of every file under `dir`. */
function mtimes(dir: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) found.set(path.join(entry.parentPath, entry.name), fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return found;
}

test("the plan: the paper's models (CE, GCCS, JR, IGR, CLR; GCCS fine-tuned from CE; each regular one with FGSM adversarial fine-tuning) with the paper's settings", () => {
  const plan = planReproduction({ dataset: { kind: 'mnist', path: '/data/mnist' }, scale: 'paper', outDir: '/tmp/x' });
  const byId = new Map(plan.models.map((m) => [m.id, m]));
  assert.deepEqual(
    plan.models.map((m) => m.id),
    ['ce', 'gccs', 'jr', 'igr', 'clr', 'gccs-ft', 'ce-at', 'gccs-at', 'jr-at', 'igr-at', 'clr-at'],
  );
  assert.equal(plan.scaleName, 'paper');
  for (const [id, loss, defence] of [
    ['ce', 'crossentropy', undefined],
    ['gccs', 'gccs', undefined],
    ['jr', 'crossentropy', 'jr'],
    ['igr', 'crossentropy', 'igr'],
    ['clr', 'crossentropy', 'clr'],
  ] as const) {
    const regular = byId.get(id)!;
    assert.equal(regular.config.loss.kind, loss);
    assert.equal(regular.config.defence?.kind, defence);
    assert.equal(regular.config.fineTuneFrom, null);
    assert.equal(regular.config.adversarial, undefined);
    // The paper's §4.1: ResNet-18, 1800 epochs, batch 200.
    assert.deepEqual([regular.config.model, regular.config.epochs, regular.config.batchSize], ['resnet18', 1800, 200]);
    // §5: FGSM adversarial training at ε 0.03, 100 epochs of fine-tuning of the regular model, same loss and defence.
    const adversarial = byId.get(`${id}-at`)!;
    assert.deepEqual(adversarial.config.adversarial, { method: 'fgsm', eps: 0.03, steps: 1 });
    assert.equal(adversarial.config.fineTuneFrom, regular.dir);
    assert.equal(adversarial.config.epochs, 100);
    assert.equal(adversarial.config.loss.kind, loss);
    assert.equal(adversarial.config.defence?.kind, defence);
    assert.equal(adversarial.config.optimizer.learningRate, 1e-3);
  }
  // §4: the cross-entropy model fine-tuned with GCCS for 100 epochs at lr 1e-3 without decay.
  const fineTuned = byId.get('gccs-ft')!;
  assert.equal(fineTuned.config.fineTuneFrom, byId.get('ce')!.dir);
  assert.deepEqual(
    [fineTuned.config.loss.kind, fineTuned.config.epochs, fineTuned.config.optimizer.learningRate, fineTuned.config.optimizer.schedule],
    ['gccs', 100, 1e-3, 'constant'],
  );
  // ε up to the paper's 0.1 for MNIST; the data path made absolute.
  assert.deepEqual(plan.settings.eps, [0.02, 0.04, 0.06, 0.08, 0.1]);
  assert.equal(byId.get('ce')!.config.dataset.path, '/data/mnist');
  assert.deepEqual(plan.settings.spsa, SCALES.paper.spsa);
  assert.equal(PAPER_MODELS.length, 11);

  // The default scale is the issue's: the MNIST sample (images 0–7999 / 8000–9999), the reference CNN, a few epochs per model.
  const sample = planReproduction({ dataset: { kind: 'mnist', path: '/data/mnist' }, outDir: '/tmp/x' });
  assert.equal(sample.scaleName, 'sample');
  assert.deepEqual([sample.settings.model, sample.settings.trainRange, sample.settings.testRange], ['cnn', '0:8000', '8000:10000']);
  for (const m of sample.models) {
    assert.equal(m.config.model, 'cnn', m.id);
    assert.ok(m.config.epochs >= 2 && m.config.epochs <= 5, `${m.id}: ${m.config.epochs} epochs`);
  }
  assert.deepEqual(sample.settings.eps, [0.025, 0.05, 0.075, 0.1]);

  // Equal settings give equal folders; a changed setting gives a new folder to it and to the models fine-tuned from it.
  const again = planReproduction({ dataset: { kind: 'mnist', path: '/data/mnist' }, scale: 'paper', outDir: '/tmp/x' });
  assert.deepEqual(
    again.models.map((m) => m.dir),
    plan.models.map((m) => m.dir),
  );
  const moreEpochs = planReproduction({ dataset: { kind: 'mnist', path: '/data/mnist' }, scale: 'paper', outDir: '/tmp/x', overrides: { epochs: 10 } });
  moreEpochs.models.forEach((m, i) => assert.notEqual(m.dir, plan.models[i].dir, m.id));
  const moreFineTuning = planReproduction({
    dataset: { kind: 'mnist', path: '/data/mnist' },
    scale: 'paper',
    outDir: '/tmp/x',
    overrides: { fineTuneEpochs: 5 },
  });
  moreFineTuning.models.forEach((m, i) => assert.equal(m.dir === plan.models[i].dir, m.id !== 'gccs-ft', m.id));
  // A subset brings the models it starts from.
  assert.deepEqual(
    planReproduction({ dataset: SYNTHETIC, outDir: '/tmp/x', models: ['clr-at', 'gccs-ft'] }).models.map((m) => m.id),
    ['ce', 'clr', 'gccs-ft', 'clr-at'],
  );

  // Bad input: one line before anything runs.
  const refused = (overrides: Parameters<typeof planReproduction>[0], pattern: RegExp) =>
    assert.throws(
      () => planReproduction(overrides),
      (error: Error) => error instanceof UserError && pattern.test(error.message),
    );
  refused({ dataset: SYNTHETIC, outDir: '/tmp/x', scale: 'huge' as 'paper' }, /unknown scale "huge"/);
  refused({ dataset: SYNTHETIC, outDir: '/tmp/x', overrides: { epochs: 0 } }, /--epochs must be an integer from 1/);
  refused({ dataset: SYNTHETIC, outDir: '/tmp/x', overrides: { eps: [1.5] } }, /ε must be in \(0, 1\]/);
  refused({ dataset: SYNTHETIC, outDir: '/tmp/x', models: ['ce', 'pgd-at'] }, /unknown model "pgd-at"/);
});

test('a run cancelled mid-training resumes; the report equals gccs eval and gccs evaluate; a second run reuses everything', async () => {
  const backend = (await initBackend('wasm')).name;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-reproduce-'));
  try {
    const outDir = path.join(root, 'run');
    const plan = tinyPlan(outDir);
    const dirOf = (id: string) => plan.models.find((m) => m.id === id)!.dir;

    // 1. Cancelled after the first epoch of the fine-tuning: CE and GCCS are finished, the fine-tuning has a checkpoint.
    const controller = new AbortController();
    await assert.rejects(
      runReproduction(plan, {
        backend,
        signal: controller.signal,
        onEvent: (e) => e.type === 'train' && e.id === 'gccs-ft' && e.event.type === 'epoch' && controller.abort(),
      }),
      TrainingCancelled,
    );
    assert.ok(fs.existsSync(path.join(dirOf('gccs'), 'gccs.json')));
    assert.ok(fs.existsSync(path.join(dirOf('gccs-ft'), 'checkpoint', 'state.json')));
    assert.ok(!fs.existsSync(path.join(dirOf('gccs-ft'), 'gccs.json')));
    const finishedBefore = mtimes(dirOf('ce'));

    // 2. Resumed: CE and GCCS reused (files untouched), the fine-tuning continues at epoch 2, the rest trains.
    const events: ReproduceEvent[] = [];
    const outcome = await runReproduction(plan, { backend, onEvent: (e) => events.push(e) });
    const actions = Object.fromEntries(events.flatMap((e) => (e.type === 'model' ? [[e.id, e.action]] : [])));
    assert.deepEqual(actions, { ce: 'reuse', gccs: 'reuse', 'gccs-ft': 'resume', 'gccs-at': 'train' });
    assert.deepEqual(
      events.flatMap((e) => (e.type === 'train' && e.id === 'gccs-ft' && e.event.type === 'epoch' ? [e.event.record.epoch] : [])),
      [2],
    );
    assert.deepEqual(mtimes(dirOf('ce')), finishedBefore);
    assert.ok(!fs.existsSync(path.join(dirOf('gccs-ft'), 'checkpoint')), 'the checkpoint goes once the model is committed');
    const fineTuned = outcome.models.find((m) => m.model.id === 'gccs-ft')!;
    assert.deepEqual(
      fineTuned.meta.epochs.map((r) => r.epoch),
      [1, 2],
    );

    const files = writeReproductionReport(outcome, { backend, machine: 'test' });
    const report = JSON.parse(fs.readFileSync(files.json, 'utf8'));
    assert.deepEqual(
      report.models.map((m: { id: string }) => m.id),
      plan.models.map((m) => m.id),
    );
    assert.match(
      fs.readFileSync(files.markdown, 'utf8'),
      /Table 3 — r_AB[\s\S]*Table 4[\s\S]*Table 5[\s\S]*Table 6[\s\S]*Table 7[\s\S]*Table 8[\s\S]*worst case/,
    );
    assert.match(fs.readFileSync(files.html, 'utf8'), /<caption>Table 6 — DeepFool ρ/);
    // Table 8 compares seconds per epoch: the 2-epoch fine-tuning with cross-entropy's regular epochs.
    const ce = outcome.models.find((m) => m.model.id === 'ce')!;
    const perEpoch = (m: typeof ce) => m.meta.trainingSeconds / m.meta.epochs.length;
    const overhead = (100 * (perEpoch(fineTuned) - perEpoch(ce))) / perEpoch(ce);
    const cell = `${fineTuned.meta.trainingSeconds.toFixed(1)} s, ${perEpoch(fineTuned).toFixed(1)} s/epoch (${overhead >= 0 ? '+' : ''}${overhead.toFixed(0)}%)`;
    const gccsRow = fs.readFileSync(files.markdown, 'utf8').split('Table 8')[1].split('\n').find((line) => line.startsWith('| GCCS |'))!;
    assert.equal(gccsRow.split(' | ')[2], cell);

    // Figure 3: the regular models' latent plots, clean and under FGSM, PGD-5, TGSM-5 and JSMA, one scatter each.
    assert.deepEqual(
      outcome.figures.map((f) => f.id),
      ['ce', 'gccs'],
    );
    assert.equal((fs.readFileSync(files.html, 'utf8').match(/<canvas id="scatter-/g) ?? []).length, 2 * 5);
    for (const { id, figure } of outcome.figures) {
      assert.deepEqual(
        figure.panels.map((p) => p.label),
        ['no attack', 'FGSM', 'PGD-5', 'TGSM-5', 'JSMA-5'],
      );
      assert.deepEqual(report.figure3.find((f: { id: string }) => f.id === id).panels[1].points, figure.panels[1].points);
      // The points are `gccs latent`'s z (clean and under FGSM, deterministic) of the same samples, projected as the latent panel does.
      const { loss } = outcome.models.find((m) => m.model.id === id)!.meta;
      const muT = loss.kind === 'gccs' ? loss.muT : null;
      const latent = await computeLatent({ model: dirOf(id), count: 1000, attack: { name: 'fgsm', eps: 0.1 } });
      const shown = latent.samples.filter((sample) => figure.classes.includes(sample.label)).slice(0, 1000);
      assert.deepEqual(figure.classes, [0, 1, 9]);
      assert.deepEqual(
        figure.labels,
        shown.map((sample) => sample.label),
      );
      const projection = vertexPlane(latent.dims, figure.classes, vertexScale(muT, shown));
      const close = (a: number, b: number) => Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b));
      shown.forEach((sample, n) => {
        const [x, y] = project(projection, sample.z);
        const [ax, ay] = project(projection, sample.zAttacked!);
        assert.ok(close(figure.panels[0].points[n][0], x) && close(figure.panels[0].points[n][1], y), `${id} clean point ${n}`);
        assert.ok(close(figure.panels[1].points[n][0], ax) && close(figure.panels[1].points[n][1], ay), `${id} FGSM point ${n}`);
      });
      const correct = shown.filter((sample) => sample.zAttacked!.indexOf(Math.max(...sample.zAttacked!)) === sample.label).length;
      assert.equal(figure.panels[1].accuracy, correct / shown.length, `${id} FGSM accuracy of the shown samples`);
    }

    // 3. Every model's numbers are gccs eval's and gccs evaluate's for that model.
    for (const id of MODELS) {
      const inReport = report.models.find((m: { id: string }) => m.id === id);
      const evaluated = (await evalCommand({ flags: { model: dirOf(id) }, backend, log: () => undefined })) as Awaited<ReturnType<typeof evalCommand>>;
      assert.equal(inReport.clean.accuracy, evaluated.accuracy, id);
      assert.equal(inReport.clean.macroF1, evaluated.macroF1, id);
      assert.deepEqual(inReport.clean.rAB, JSON.parse(JSON.stringify(evaluated.separation)), id);
      assert.equal(inReport.clean.count, evaluated.count);
    }
    // gccs evaluate takes as long as the run's own evaluation: checked on a fine-tuned one (GCCS, then adversarial fine-tuning).
    for (const id of ['gccs-at']) {
      const inReport = report.models.find((m: { id: string }) => m.id === id);
      const attacked = (await evaluateCommand({
        flags: { model: dirOf(id), preset: 'quick', eps: '0.1', count: 6, json: true },
        backend,
        log: () => undefined,
      })) as {
        cleanAccuracy: number;
        eps: { eps: number; worstAccuracy: number; worst: string; runs: { label: string; accuracy: number; robust: string }[] }[];
        diagnostics: { ok: boolean }[];
      };
      const stored = outcome.models.find((m) => m.model.id === id)!.evaluation.robustness;
      assert.equal(inReport.robustness.cleanAccuracy, attacked.cleanAccuracy);
      assert.equal(inReport.robustness.eps[0].worstCase, attacked.eps[0].worstAccuracy);
      assert.equal(stored.eps[0].worst, attacked.eps[0].worst, 'the same samples survive');
      for (const run of attacked.eps[0].runs) {
        assert.equal(inReport.robustness.eps[0].attacks[run.label], run.accuracy, `${id} ${run.label}`);
        assert.equal(stored.eps[0].runs.find((r) => r.label === run.label)!.robust, run.robust, `${id} ${run.label}`);
      }
      assert.deepEqual(
        stored.diagnostics.map((d) => d.ok),
        attacked.diagnostics.map((d) => d.ok),
      );
    }

    // 4. Again: nothing trained, evaluated or attacked; every file untouched.
    const before = mtimes(path.join(outDir, 'models'));
    const evaluationsBefore = mtimes(path.join(outDir, 'evaluations'));
    const sweepsBefore = mtimes(path.join(outDir, 'sweeps'));
    const figuresBefore = mtimes(path.join(outDir, 'figure3'));
    const third: ReproduceEvent[] = [];
    await runReproduction(plan, { backend, onEvent: (e) => third.push(e) });
    assert.ok(
      third.every((e) =>
        e.type === 'plan'
          ? true
          : e.type === 'model' || e.type === 'evaluation' || e.type === 'figure'
            ? e.action === 'reuse'
            : e.type === 'sweep'
              ? e.event.type === 'start' && e.event.finished === e.event.total
              : false,
      ),
      JSON.stringify(third.map((e) => e.type)),
    );
    assert.equal(third.filter((e) => e.type === 'sweep').length, 2);
    assert.deepEqual(mtimes(path.join(outDir, 'models')), before);
    assert.deepEqual(mtimes(path.join(outDir, 'evaluations')), evaluationsBefore);
    assert.deepEqual(mtimes(path.join(outDir, 'sweeps')), sweepsBefore);
    assert.deepEqual(mtimes(path.join(outDir, 'figure3')), figuresBefore);

    // 5. What the run did not write is never continued.
    const evaluationFile = [...evaluationsBefore.keys()][0];
    const text = fs.readFileSync(evaluationFile, 'utf8');
    fs.writeFileSync(evaluationFile, text.replace(/"key": "[0-9a-f]+"/, '"key": "000000000000"'));
    await assert.rejects(runReproduction(plan, { backend }), /not an evaluation this run wrote \(its key differs\)/);
    // A tampered file with the right key (copied): one line naming the file and what is wrong, not an internal error.
    const { key } = JSON.parse(text);
    const tampered: [string, RegExp][] = [
      [JSON.stringify({ key }), /missing "model"/],
      [JSON.stringify({ ...JSON.parse(text), robustness: { ...JSON.parse(text).robustness, eps: 'all' } }), /robustness\.eps: /],
      [JSON.stringify({ ...JSON.parse(text), clean: { ...JSON.parse(text).clean, accuracy: 7 } }), /clean\.accuracy: /],
      ['{"key": ', /./],
    ];
    for (const [content, problem] of tampered) {
      fs.writeFileSync(evaluationFile, content);
      await assert.rejects(runReproduction(plan, { backend }), (error: Error) => {
        assert.ok(error instanceof UserError, `${content.slice(0, 40)}: ${error.stack}`);
        assert.ok(error.message.startsWith(`${evaluationFile}: not an evaluation this run wrote (`), error.message);
        assert.match(error.message, problem);
        assert.ok(!error.message.includes('\n'));
        return true;
      });
    }
    fs.writeFileSync(evaluationFile, text);
    const figureFile = [...figuresBefore.keys()][0];
    const figureText = fs.readFileSync(figureFile, 'utf8');
    fs.writeFileSync(figureFile, JSON.stringify({ ...JSON.parse(figureText), panels: [{ label: 'no attack' }] }));
    await assert.rejects(
      runReproduction(plan, { backend }),
      (error: Error) => error instanceof UserError && error.message.startsWith(`${figureFile}: not a Figure 3 this run wrote (panels[0]: missing`),
    );
    fs.writeFileSync(figureFile, figureText);
    const foreign = path.join(root, 'foreign');
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'notes.txt'), 'mine');
    await assert.rejects(runReproduction(tinyPlan(foreign), { backend }), new RegExp(`did not make \\(no ${RUN_MARKER}\\)`));
    assert.deepEqual(fs.readdirSync(foreign), ['notes.txt']);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
