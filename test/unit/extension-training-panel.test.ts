/**
 * The training panel restored after a reload that lost its webview state, or came back with an older
 * one (a browser reload in code-server can do both): it shows the folder it showed last, kept in the
 * workspace's memento, once the folder consent allows it again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakePanel, FakeUri, fakeVscode, installFakeVscode } from '../helpers/fakeVscode';
import type { FolderConsent } from '../../src/host/workspace/folderConsent';

const vscode = fakeVscode();
installFakeVscode(vscode);
// eslint-disable-next-line @typescript-eslint/no-require-imports -- an import would be hoisted above installFakeVscode
const { TrainingPanels, TRAINING_PANEL_TYPE } = require('../../src/host/panels/training/panel') as typeof import('../../src/host/panels/training/panel');

/** Paths under /nowhere count as inside the workspace; every other is refused, and asked about. */
const asked: string[] = [];
const consent = { allow: async (target: string) => target.startsWith('/nowhere/') || void asked.push(target) || false } as unknown as FolderConsent;
const log = { warn: () => {}, info: () => {}, error: () => {} };

function memento(values: Record<string, unknown>) {
  return { get: (key: string) => values[key], update: async (key: string, value: unknown) => void (values[key] = value), keys: () => Object.keys(values) };
}

async function restoreWithoutState(memory?: ReturnType<typeof memento>, state?: { outDir: string }) {
  const panels = new TrainingPanels(new FakeUri('/ext') as never, log as never, consent, memory as never);
  const panel = new FakePanel(TRAINING_PANEL_TYPE, 'GCCS Training', 1, true);
  await vscode.serializers.get(TRAINING_PANEL_TYPE)!.deserializeWebviewPanel(panel, state);
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

test('a restored training panel whose saved state is older than what it showed last shows the newer folder', async () => {
  const posted = await restoreWithoutState(memento({ 'gccs.training.lastShown': '/nowhere/models/live' }), { outDir: '/nowhere/models/tiny' });
  assert.equal(posted.length, 1);
  assert.match(posted[0].message ?? '', /\/nowhere\/models\/live/);
  assert.doesNotMatch(posted[0].message ?? '', /tiny/);
});

test('the folder shown last is not read again when it is outside the workspace and the user does not confirm it', async () => {
  asked.length = 0;
  const posted = await restoreWithoutState(memento({ 'gccs.training.lastShown': '/elsewhere/models/live' }));
  assert.deepEqual(asked, ['/elsewhere/models/live']);
  assert.deepEqual(posted, [{ type: 'status', message: 'No training to show: start GCCS: Train, or run GCCS: Show Training on a model folder.', isError: false }]);
  // A saved state inside the workspace is still shown when the remembered folder is refused.
  const fromState = await restoreWithoutState(memento({ 'gccs.training.lastShown': '/elsewhere/models/live' }), { outDir: '/nowhere/models/tiny' });
  assert.match(fromState[0].message ?? '', /\/nowhere\/models\/tiny/);
});
