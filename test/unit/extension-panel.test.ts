/**
 * The panel base class (src/host/panels/panel.ts) on a fake `vscode` (test/helpers/fakeVscode.ts):
 * restore through the serializer, reveal or create, ready and message dispatch, export saving, the
 * blank-page retry and dispose. The integration suite runs the three real panels in VS Code.
 */
import { TestContext, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakePanel, FakeUri, fakeVscode, installFakeVscode } from '../helpers/fakeVscode';
import { Checked, integer, optional, someFields, tagged } from '../../src/host/panels/messageCheck';
import { absolutePath, saveMessages } from '../../src/host/panels/messages';
import type { FeatureMessage, ReadyMessage } from '../../src/host/panels/panel';
import type { FolderConsent } from '../../src/host/workspace/folderConsent';

const vscode = fakeVscode();
installFakeVscode(vscode);
// After the fake is installed: panel.ts imports vscode.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- an import would be hoisted above installFakeVscode
const { Panels } = require('../../src/host/panels/panel') as typeof import('../../src/host/panels/panel');

const checkToHost = tagged({ ready: { dir: optional(absolutePath) }, ping: { n: integer(0, 9) }, ...saveMessages });
type ToHost = Checked<typeof checkToHost>;
const checkRestored = someFields({ dir: optional(absolutePath) });
type Restored = Checked<typeof checkRestored>;

/** Paths under /allowed are in the workspace; the user refuses every other. */
const consent = { allow: async (target: string) => target.startsWith('/allowed/') } as unknown as FolderConsent;

class TestPanels extends Panels<{ type: 'show'; dir?: string }, ToHost, Restored> {
  readonly events: string[] = [];
  readonly warnings: string[] = [];

  constructor() {
    const log = { warn: (line: string) => this.warnings.push(line), info: () => {}, error: () => {} };
    super(new FakeUri('/ext') as never, log as never, consent, {
      type: 'gccs.test',
      title: 'GCCS Test',
      script: 'test',
      checkToHost,
      messagePaths: (m) => (m.type === 'ready' ? [m.dir] : []),
      checkRestored,
      restoredPaths: (s) => [s.dir],
    });
  }
  protected restore(state: Restored | undefined): void {
    this.events.push(`restore ${JSON.stringify(state)}`);
  }
  protected ready(message: ReadyMessage<ToHost>): void {
    this.events.push(`ready ${message.dir}`);
    this.post({ type: 'show', dir: message.dir });
  }
  protected override receive(message: FeatureMessage<ToHost>): void {
    this.events.push(`ping ${message.n}`);
  }
  protected override closed(): void {
    this.events.push('closed');
  }
  open(): boolean {
    return this.reveal();
  }
  get shown() {
    return this.panel;
  }
}

/** Lets the queued message handling (receive.ts) run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A feature's panels, disposed after the test (a panel left open would retry its page forever). */
function newPanels(t: TestContext): TestPanels {
  const panels = new TestPanels();
  t.after(() => panels.dispose());
  return panels;
}

/**
 * shell.ts's retry timer, run by hand: each call of the returned tick is its 3 s period (node 20's
 * mock timers keep running an interval that clears itself from its own callback).
 */
function retryTimer(t: TestContext): () => void {
  const intervals = new Map<number, () => void>();
  let lastId = 0;
  t.mock.method(globalThis, 'setInterval', (callback: () => void) => (intervals.set(++lastId, callback), lastId));
  t.mock.method(globalThis, 'clearInterval', (id: number) => intervals.delete(id));
  return () => [...intervals.values()].forEach((callback) => callback());
}

function restoredPanel(): FakePanel {
  return new FakePanel('gccs.test', 'GCCS Test', 1, false);
}

test('a restored panel: its saved state checked and consented to, then its page loaded; its ready reaches the feature, which posts', async (t) => {
  const panels = newPanels(t);
  const panel = restoredPanel();
  await vscode.serializers.get('gccs.test')!.deserializeWebviewPanel(panel, { dir: '/allowed/model', extra: 1 });
  assert.deepEqual(panels.events, ['restore {"dir":"/allowed/model"}']);
  assert.equal(panel.pages.length, 1);
  assert.match(panel.pages[0], /src="https:\/\/webview\.test\/ext\/dist\/webview\/test\.js"/);
  assert.match(panel.pages[0], /<title>GCCS Test<\/title>/);
  panel.send({ type: 'ready', dir: '/allowed/model' });
  await settle();
  assert.deepEqual(panels.events.slice(1), ['ready /allowed/model']);
  assert.deepEqual(panel.posted, [{ type: 'show', dir: '/allowed/model' }]);
  assert.equal(panels.shown, panel);
});

test('a saved state that fails its check or names a refused folder is dropped (logged), and the panel still comes back', async (t) => {
  const panels = newPanels(t);
  for (const state of [{ dir: 'relative/model' }, { dir: '/elsewhere/model' }, 'not an object']) {
    await vscode.serializers.get('gccs.test')!.deserializeWebviewPanel(restoredPanel(), state);
  }
  // Each restored panel replaces the one before.
  assert.deepEqual(panels.events, ['restore undefined', 'restore undefined', 'closed', 'restore undefined', 'closed']);
  assert.equal(panels.warnings.length, 3);
  assert.match(panels.warnings[1], /GCCS Test: ignored the saved state of the restored panel: state: \/elsewhere\/model is outside the workspace and was not confirmed/);
  // No saved state at all: nothing to warn about.
  await vscode.serializers.get('gccs.test')!.deserializeWebviewPanel(restoredPanel(), undefined);
  assert.equal(panels.warnings.length, 3);
});

test('messages: saves go to the save dialog, the feature\'s own to receive, refused ones only to the log', async (t) => {
  const panels = newPanels(t);
  vscode.saveDialogs = 0;
  assert.equal(panels.open(), false);
  const panel = panels.shown as unknown as FakePanel;
  panel.send({ type: 'saveCsv', name: 'table', csv: 'a,b\n1,2\n' });
  panel.send({ type: 'ping', n: 3 });
  panel.send({ type: 'ping', n: 99 });
  panel.send({ type: 'ready', dir: '/elsewhere/model' });
  panel.send({ type: 'unknown' });
  await settle();
  assert.equal(vscode.saveDialogs, 1);
  assert.deepEqual(panels.events, ['ping 3']);
  assert.equal(panels.warnings.length, 3);
  for (const line of panels.warnings) assert.match(line, /^GCCS Test: ignored a message from the webview: /);
});

test('reveal opens one panel beside the editor, then brings it to the front; a closed panel is replaced by a new one', (t) => {
  const panels = newPanels(t);
  const before = vscode.created.length;
  assert.equal(panels.open(), false);
  const [panel] = vscode.created.slice(before);
  assert.deepEqual([panel.viewType, panel.title, panel.viewColumn, panel.preserveFocus], ['gccs.test', 'GCCS Test', vscode.ViewColumn.Beside, true]);
  assert.equal(panels.open(), true);
  assert.equal(panel.revealed, 1);
  assert.equal(vscode.created.length, before + 1);
  panel.dispose();
  assert.deepEqual(panels.events, ['closed']);
  assert.equal(panels.shown, undefined);
  assert.equal(panels.open(), false);
  assert.equal(vscode.created.length, before + 2);
});

test('a page that never says ready is set again every 3 s, then replaced by a fresh panel in the same column, which the feature serves', async (t) => {
  const tick = retryTimer(t);
  const panels = newPanels(t);
  const stale = restoredPanel();
  await vscode.serializers.get('gccs.test')!.deserializeWebviewPanel(stale, { dir: '/allowed/model' });
  const before = vscode.created.length;
  tick();
  tick();
  assert.equal(stale.pages.length, 3);
  assert.equal(vscode.created.length, before);
  tick();
  const [fresh] = vscode.created.slice(before);
  assert.deepEqual([fresh.viewType, fresh.title, fresh.viewColumn], ['gccs.test', 'GCCS Test', stale.viewColumn]);
  assert.ok(stale.disposed);
  assert.equal(panels.shown, fresh);
  stale.send({ type: 'ping', n: 1 });
  fresh.send({ type: 'ready' });
  await settle();
  assert.deepEqual(panels.events, ['restore {"dir":"/allowed/model"}', 'closed', 'ready undefined']);
  assert.deepEqual(fresh.posted, [{ type: 'show', dir: undefined }]);
  // Ready came: no more retries.
  for (let i = 0; i < 10; i++) tick();
  assert.equal(fresh.pages.length, 1);
  assert.equal(vscode.created.length, before + 1);
});

test('a panel shown again or moved to another group loads its page again: it is retried and replaced the same way until ready', async (t) => {
  const tick = retryTimer(t);
  const panels = newPanels(t);
  assert.equal(panels.open(), false);
  const panel = panels.shown as unknown as FakePanel;
  panel.send({ type: 'ready' });
  await settle();
  // Focus changes of a shown panel do not reload it: no retry.
  panel.changeView(true);
  tick();
  // Hidden, then shown: its page loads again and says ready.
  panel.changeView(false);
  tick();
  panel.changeView(true);
  panel.send({ type: 'ready' });
  await settle();
  tick();
  assert.equal(panel.pages.length, 1);
  // Moved to another group, its page stays blank: set again twice, then replaced in the new column.
  const before = vscode.created.length;
  panel.changeView(true, 3);
  tick();
  tick();
  assert.equal(panel.pages.length, 3);
  tick();
  const [fresh] = vscode.created.slice(before);
  assert.equal(fresh.viewColumn, 3);
  assert.ok(panel.disposed);
  assert.equal(panels.shown, fresh);
  assert.deepEqual(panels.events, ['ready undefined', 'ready undefined', 'closed']);
});

test('dispose closes the panel and unregisters the serializer', (t) => {
  const panels = newPanels(t);
  panels.open();
  const panel = panels.shown as unknown as FakePanel;
  assert.ok(vscode.serializers.has('gccs.test'));
  panels.dispose();
  assert.ok(panel.disposed);
  assert.deepEqual(panels.events, ['closed']);
  assert.ok(!vscode.serializers.has('gccs.test'));
});
