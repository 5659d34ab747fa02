import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { helpText } from '../../src/cli/args';
import { attackFlags } from '../../src/cli/sweepCommands';
import {
  ATTACK_CATALOG,
  ATTACK_NAMES,
  AttackEntry,
  LATENT_ATTACKS,
  CATALOG,
  Catalog,
  PARAMS,
  PRESET_NAMES,
  ParamKey,
  experimentSchema,
  isValidValue,
  resolveAttackParams,
  sweepSchema,
  withDefaults,
} from '../../src/core/catalog';
import { IMPLEMENTATIONS } from '../../src/core/attacks';
import { UserError } from '../../src/core/errors';
import { CONFIG_LIMITS } from '../../src/core/limits';
import { planPreset } from '../../src/core/robustness/presets';
import { SWEEP_SCHEMA } from '../../src/core/sweep/config';
import { JsonSchema, validateJson } from '../../src/core/sweep/jsonSchema';
import { attackPickItems, countProblem, epsGridProblem, needsEps, pickedSweepAttacks } from '../../src/host/commands/attackPicker';
import { sweepSchemaText } from '../../scripts/write-schemas';
import { ImportEdge, buildImportGraph, forbiddenReach, readCompilerOptions, sourceFilesUnder } from '../helpers/importGraph';

const root = path.resolve(__dirname, '../..');
const readJson = (file: string) => JSON.parse(fs.readFileSync(path.join(root, file), 'utf8')) as JsonSchema;

/** A catalog with one attack more, as someone adding FMN (Pintor et al. 2021) would write it. */
const FMN: AttackEntry = { display: 'FMN', role: 'targeted', targeted: true, description: 'fast minimum-norm perturbations toward the classes scoring highest', params: ['eps', 'norm', 'targetCount', 'restarts'] };
const extended: Catalog = { ...CATALOG, attacks: { ...ATTACK_CATALOG, fmn: FMN } };

test('an attack added to the catalog appears in the CLI help, the sweep schema and the Evaluate Robustness picker', () => {
  const help = helpText('attack', 'summary', attackFlags(extended));
  assert.match(help, /--attack <fgsm\|pgd\|.*\|fab-t\|square\|fmn>/);
  assert.match(help, /--target-count <integer> +APGD-T\/FAB-T\/FMN: /, 'its parameters name it');
  assert.doesNotMatch(helpText('attack', 'summary', attackFlags()), /\bfmn\b/, 'the real catalog has no FMN');

  const schema = sweepSchema(SWEEP_SCHEMA, extended);
  const attack = schema.$defs!.attack;
  assert.deepEqual(attack.properties!.name.enum, [...ATTACK_NAMES, 'fmn']);
  assert.match(attack.properties!.eps.description!, /\/FMN: a grid of ε/);
  const entry = { name: 'fmn', eps: [0.1], params: { targetCount: 3, restarts: 2 } };
  assert.equal(validateJson({ models: ['m'], attacks: [entry] }, schema), undefined, 'a sweep file may name it');
  assert.deepEqual(validateJson({ models: ['m'], attacks: [entry] }, SWEEP_SCHEMA)?.path, ['attacks', 0, 'name']);

  const items = attackPickItems(['pgd', 'fmn'], extended);
  assert.deepEqual(items.map((item) => item.label), [...ATTACK_NAMES, 'fmn']);
  assert.deepEqual(items.filter((item) => item.picked).map((item) => item.label), ['pgd', 'fmn']);
  assert.equal(items.at(-1)!.detail, FMN.description);
  assert.equal(needsEps(['fmn'], extended), true, 'it has an ε budget: the ε question is asked');
  assert.deepEqual(pickedSweepAttacks(['fmn', 'deepfool'], '0:0.1:0.05', extended), [{ name: 'fmn', eps: '0:0.1:0.05' }, { name: 'deepfool' }]);
});

test('the picker offers every catalog attack, and asks for ε only when a picked attack has a budget', () => {
  assert.deepEqual(attackPickItems([]).map((item) => item.label), ATTACK_NAMES);
  assert.deepEqual(LATENT_ATTACKS, ['fgsm', 'pgd', 'tgsm'], 'the latent panel and gccs latent offer the attacks on a loss of z');
  assert.equal(needsEps(['deepfool', 'jsma']), false);
  assert.equal(needsEps(['deepfool', 'square']), true);
  assert.deepEqual(
    attackPickItems([]).filter((item) => item.description.includes('once per model')).map((item) => item.label),
    ['jsma', 'deepfool'],
  );
  // The setting that ticks attacks by default names catalog attacks only.
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const setting = manifest.contributes.configuration.properties['gccs.defaultAttacks'];
  for (const name of [...setting.items.enum, ...setting.default]) assert.ok((ATTACK_NAMES as string[]).includes(name), name);
});

test("the picker's input boxes refuse what the sweep file would refuse, with the same words", () => {
  assert.equal(epsGridProblem('0:0.3:0.05'), undefined);
  assert.equal(epsGridProblem('0, 0.5, 1.5'), 'ε must be ≤ 1 (got 1.5)');
  assert.equal(epsGridProblem('-0.1:0.1:0.1'), 'ε must be ≥ 0 (got -0.1)');
  assert.match(epsGridProblem('0:0.1')!, /^"0:0\.1" is not a grid/);
  assert.equal(countProblem(' 500 '), undefined);
  assert.equal(countProblem('0'), 'must be ≥ 1 (got 0)');
  assert.equal(countProblem(String(CONFIG_LIMITS.count + 1)), `must be ≤ ${CONFIG_LIMITS.count} (got ${CONFIG_LIMITS.count + 1})`);
  assert.equal(countProblem('2.5'), 'a whole number ≥ 1');
});

test('every catalog attack has an implementation and every implementation a catalog entry', () => {
  assert.deepEqual(Object.keys(IMPLEMENTATIONS), ATTACK_NAMES);
  for (const name of ATTACK_NAMES) assert.equal(typeof IMPLEMENTATIONS[name].run, 'function', name);
});

test('every default is within its range; each attack overrides only parameters it takes', () => {
  for (const [key, spec] of Object.entries(PARAMS)) {
    if (spec.default !== undefined) assert.ok(isValidValue(spec, spec.default), `${key} default ${spec.default}`);
  }
  for (const name of ATTACK_NAMES) {
    const entry: AttackEntry = ATTACK_CATALOG[name];
    for (const key of Object.keys(entry.defaults ?? {})) assert.ok(entry.params.includes(key as ParamKey), `${name} takes ${key}`);
    const resolved = withDefaults(name, {}) as Record<string, unknown>;
    assert.deepEqual(Object.keys(resolved).sort(), [...entry.params].sort(), name);
    for (const [key, value] of Object.entries(resolved)) assert.ok(isValidValue(PARAMS[key as ParamKey], value), `${name}.${key} = ${value}`);
    assert.deepEqual(resolveAttackParams(name), resolved);
  }
  // The presets' parameters pass the same checks.
  for (const name of PRESET_NAMES) assert.ok(planPreset(name).attacks.length > 0, name);
});

test('parameter checks: one line naming the attack, the parameter and its range; the step size follows ε, 0 at ε = 0', () => {
  const refuses = (name: string, params: object, message: string) =>
    assert.throws(() => resolveAttackParams(name as 'pgd', params), (error: unknown) => error instanceof UserError && error.message === message);
  refuses('pgd', { steps: 0 }, 'pgd: steps must be a whole number from 1 to 10000 (got 0)');
  refuses('pgd', { stepSize: Infinity }, 'pgd: stepSize must be a number > 0 (got null)');
  refuses('apgd-t', { targetCount: 1.5 }, 'apgd-t: targetCount must be a whole number ≥ 1 (at most the number of classes − 1) (got 1.5)');
  refuses('jsma', { target: 'previous' }, 'jsma: target must be next, least-likely or a class index ≥ 0 (got "previous")');
  refuses('square', { pInit: 1.5 }, 'square: pInit must be a number in (0, 1] (got 1.5)');
  refuses('spsa', { earlyStop: 'yes' }, 'spsa: earlyStop must be true or false (got "yes")');
  assert.equal(resolveAttackParams('pgd', { eps: 0.2, steps: 10 }).stepSize, 0.05);
  assert.equal(resolveAttackParams('pgd', { eps: 0 }).stepSize, 0);
  assert.equal(resolveAttackParams('tgsm', { target: 3 }).target, 3);
});

test('schema/sweep.schema.json is up to date with the catalog (npm run build writes it)', () => {
  const text = fs.readFileSync(path.join(root, 'schema/sweep.schema.json'), 'utf8');
  assert.equal(sweepSchemaText(text), text, 'run npm run build (scripts/write-schemas.ts)');
  assert.deepEqual(JSON.parse(text), SWEEP_SCHEMA, 'the validator uses what the file says');
});

test("schema/experiment.schema.json's dataset kinds, losses, GCCS defaults and built-in models are the catalog's", () => {
  const file = readJson('schema/experiment.schema.json');
  assert.deepEqual(experimentSchema(file), file);
});

test('the catalog, sweep planning and the attack picker load no TensorFlow.js, directly or through an import', () => {
  const graph = buildImportGraph(sourceFilesUnder(path.join(root, 'src')), readCompilerOptions(path.join(root, 'tsconfig.json')));
  const tfModule = path.join(root, 'src/core/tf.ts');
  const loadsTensorFlow = (edge: ImportEdge) => edge.target === tfModule || (edge.pkg?.startsWith('@tensorflow/') ?? false);
  const roots = [
    ...sourceFilesUnder(path.join(root, 'src/core/catalog')),
    ...['src/core/sweep/config.ts', 'src/core/robustness/presets.ts', 'src/host/commands/attackPicker.ts'].map((file) => path.join(root, file)),
  ];
  assert.deepEqual(forbiddenReach(graph, roots, loadsTensorFlow).map((chain) => chain.map((file) => path.relative(root, file)).join(' → ')), []);
  // The check finds TensorFlow.js where it is.
  assert.equal(forbiddenReach(graph, [path.join(root, 'src/core/attacks/index.ts')], loadsTensorFlow).length, 1);
});
