/**
 * The training panel restored after a reload that lost its webview state (a browser reload in
 * code-server can): it falls back to the folder it showed last, kept in the workspace's memento.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakePanel, FakeUri, fakeVscode, installFakeVscode } from '../helpers/fakeVscode';
import type { FolderConsent } from '../../src/host/workspace/folderConsent';

const vscode = fakeVscode();
installFakeVscode(vscode);
// eslint-disable-next-line @typescript-eslint/no-require-imports -- an import would be hoisted above installFakeVscode
const { TrainingPanels, TRAINING_PANEL_TYPE } = require('../../src/host/panels/training/panel') as typeof import('../../src/host/panels/training/panel');

const consent = { allow: async () => true } as unknown as FolderConsent;
const log = { warn: () => {}, info: () => {}, error: () => {} };

function memento(values: Record<string, unknown>) {
  return { get: (key: string) => values[key], update: async (key: string, value: unknown) => void (values[key] = value), keys: () => Object.keys(values) };
}

async function restoreWithoutState(memory?: ReturnType<typeof memento>) {
  const panels = new TrainingPanels(new FakeUri('/ext') as never, log as never, consent, memory as never);
  const panel = new FakePanel(TRAINING_PANEL_TYPE, 'GCCS Training', 1, true);
  await vscode.serializers.get(TRAINING_PANEL_TYPE)!.deserializeWebviewPanel(panel, undefined);
  panel.send({ type: 'ready' });
  await new Promise((resolve) => setImmediate(resolve));
  panels.dispose();
  return panel.posted as { type: string; message?: string }[];
}

test('a restored training panel with no saved state says there is nothing to show, when nothing was shown before', async () => {
  const posted = await restoreWithoutState(memento({}));
  assert.deepEqual(posted, [{ type: 'status', message: 'No training to show: start GCCS: Train, or run GCCS: Show Training on a model folder.', isError: false }]);
});

test('a restored training panel with no saved state shows the folder the workspace showed last', async () => {
  const posted = await restoreWithoutState(memento({ 'gccs.training.lastShown': '/nowhere/models/live' }));
  assert.equal(posted.length, 1);
  assert.equal(posted[0].type, 'status');
  // The folder is gone here: the panel names it instead of saying there is nothing to show.
  assert.match(posted[0].message ?? '', /\/nowhere\/models\/live/);
});
