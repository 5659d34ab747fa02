import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BACKEND_NAMES } from '../../src/core/backend';

const root = path.resolve(__dirname, '../..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const extensionSource = fs.readFileSync(path.join(root, 'src/extension.ts'), 'utf8');

test('every contributed command has category GCCS and is registered in src/extension.ts, and vice versa', () => {
  const commands: { command: string; title: string; category: string }[] = manifest.contributes.commands;
  assert.deepEqual(commands.map((c) => c.command).sort(), [
    'gccs.cancelJob',
    'gccs.compareModels',
    'gccs.deleteCheckpoint',
    'gccs.enableNativeBackend',
    'gccs.evaluateRobustness',
    'gccs.newExperiment',
    'gccs.openReport',
    'gccs.refreshView',
    'gccs.reproducePaper',
    'gccs.showLatentSpace',
    'gccs.showTraining',
    'gccs.train',
  ]);
  for (const command of commands) assert.equal(command.category, 'GCCS', command.command);
  const registered = [...extensionSource.matchAll(/register(?:Trusted)?Command\(\s*'([^']+)'/g)].map((m) => m[1]).sort();
  assert.deepEqual(registered, commands.map((c) => c.command).sort());
  // Menus name only contributed commands.
  for (const items of Object.values(manifest.contributes.menus) as { command: string }[][]) {
    for (const item of items) assert.ok(registered.includes(item.command), item.command);
  }
});

test('the manifest: main, extensionKind, activation, schemas and settings', () => {
  assert.equal(manifest.main, './dist/extension.js');
  assert.deepEqual(manifest.extensionKind, ['workspace']);
  assert.ok(manifest.activationEvents.includes('workspaceContains:**/*.gccs.json'));
  for (const panel of ['robustness', 'latent', 'training']) assert.ok(manifest.activationEvents.includes(`onWebviewPanel:gccs.${panel}`), panel);
  // Every panel type with an activation event has its serializer registered: the panel base class registers its kind's type.
  assert.match(fs.readFileSync(path.join(root, 'src/host/panels/panel.ts'), 'utf8'), /registerWebviewPanelSerializer\(kind\.type,/);
  for (const panel of ['robustness', 'latent', 'training']) {
    const source = fs.readFileSync(path.join(root, `src/host/panels/${panel}/panel.ts`), 'utf8');
    const constant = `${panel.toUpperCase()}_PANEL_TYPE`;
    assert.ok(source.includes(`export const ${constant} = 'gccs.${panel}';`) && source.includes(`type: ${constant},`) && / extends Panels</.test(source), panel);
  }
  const evaluate = manifest.contributes.menus['explorer/context'].find((m: { command: string }) => m.command === 'gccs.evaluateRobustness');
  assert.match(evaluate.when, /model\.json/);
  assert.match(evaluate.when, /gccs\.json/);
  for (const { url } of manifest.contributes.jsonValidation) assert.ok(fs.existsSync(path.join(root, url)), url);
  // A model's sidecar (net.onnx.gccs.json, a graph model's model.json.gccs.json) is not an experiment.
  const fileMatches = manifest.contributes.jsonValidation.map((v: { fileMatch: string | string[] }) => v.fileMatch);
  assert.deepEqual(fileMatches, [['*.gccs.json', '!*.onnx.gccs.json', '!*.json.gccs.json'], '*.sweep.json']);
  const settings = manifest.contributes.configuration.properties;
  assert.deepEqual(settings['gccs.backend'].enum, BACKEND_NAMES);
  assert.equal(settings['gccs.workers'].default, 0);
  assert.deepEqual(settings['gccs.defaultAttacks'].default, ['fgsm', 'pgd']);
  assert.equal(settings['gccs.defaultEpsilons'].default, '0:0.3:0.05');
  assert.equal(settings['gccs.sampleCount'].default, 1000);
  assert.equal(settings['gccs.resultsFolder'].default, '.gccs/results');
  // The settings' defaults are what the settings module falls back to.
  const settingsSource = fs.readFileSync(path.join(root, 'src/host/workspace/settings.ts'), 'utf8');
  for (const [key, spec] of Object.entries(settings) as [string, { default: unknown }][]) {
    assert.ok(settingsSource.includes(`'${key.slice(5)}', ${JSON.stringify(spec.default).replace(/"/g, "'").replace(/,/g, ', ')}`), key);
  }
});

test('Restricted Mode: limited support declared; exactly the commands that run workspace content need trust; path settings are restricted', () => {
  const untrusted = manifest.capabilities.untrustedWorkspaces;
  assert.equal(untrusted.supported, 'limited');
  assert.match(untrusted.description, /Restricted Mode/);
  assert.deepEqual(untrusted.restrictedConfigurations, ['gccs.resultsFolder']);
  for (const key of untrusted.restrictedConfigurations) assert.ok(manifest.contributes.configuration.properties[key], key);
  const gated = [...extensionSource.matchAll(/registerTrustedCommand\(\s*'([^']+)'/g)].map((m) => m[1]).sort();
  const trusted = ['gccs.compareModels', 'gccs.enableNativeBackend', 'gccs.evaluateRobustness', 'gccs.reproducePaper', 'gccs.showLatentSpace', 'gccs.train'];
  assert.deepEqual(gated, trusted);
  // Each has its explanation in host/workspace/trust.ts, and nothing else does.
  const trustSource = fs.readFileSync(path.join(root, 'src/host/workspace/trust.ts'), 'utf8');
  const explained = [...trustSource.matchAll(/^ {2}'(gccs\.[A-Za-z]+)': \{ title: '([^']+)', why: (['"])(.+)\3 \},$/gm)];
  assert.deepEqual(explained.map((m) => m[1]).sort(), gated);
  for (const [, command, title] of explained) assert.equal(title, `GCCS: ${manifest.contributes.commands.find((c: { command: string }) => c.command === command).title}`);
});
