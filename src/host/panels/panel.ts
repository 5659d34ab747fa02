/**
 * What the three GCCS panels (robustness/, latent/ and training/panel.ts) do the same way. Each
 * feature has one panel of its webview type, which this base class:
 * - restores after a window reload through its serializer, from the saved state the webview kept,
 *   checked and with its paths consented to (receive.ts restoredState);
 * - opens beside the editor, or reveals when it is open;
 * - attaches: loads the page (retried while it stays blank, shell.ts) and takes the webview's
 *   messages checked against the feature's declaration (receive.ts receiveFromWebview);
 * - hands `ready` (the page runs and wants its data; it comes again each time a hidden panel is
 *   shown, as hidden panels do not keep their page) and the feature's own messages to the feature,
 *   and saves the PNG/CSV exports itself (exportFile.ts);
 * - posts the feature's messages, and disposes the panel and its registrations.
 * A feature class extends it and keeps only what is its own.
 */
import * as vscode from 'vscode';
import type { Check } from './messageCheck';
import { SaveMessage, saveMessages } from './messages';
import { saveExport } from './exportFile';
import type { FolderConsent } from '../workspace/folderConsent';
import { loadPanelPage, panelOptions } from './shell';
import { receiveFromWebview, restoredState } from './receive';

/** A webview's `ready` message. */
export type ReadyMessage<ToHost> = Extract<ToHost, { type: 'ready' }>;
/** A webview's messages that are its feature's own: neither `ready` nor a save. */
export type FeatureMessage<ToHost> = Exclude<ToHost, { type: 'ready' } | SaveMessage>;

/** What sets one feature's panel apart. */
export interface PanelKind<ToHost, Restored> {
  /** The webview panel type, e.g. gccs.latent (package.json activates the extension on it). */
  type: string;
  /** The tab's title, which also names the panel in the log, e.g. "GCCS Latent Space". */
  title: string;
  /** The page's script: dist/webview/<script>.js. */
  script: string;
  /** The webview's messages (the feature's messages.ts). */
  checkToHost: Check<ToHost>;
  /** The paths the host would read because of a message. */
  messagePaths?: (message: ToHost) => (string | undefined)[];
  /** What the host reads of the saved state a restored panel comes back with. */
  checkRestored: Check<Restored>;
  restoredPaths: (state: Restored) => (string | undefined)[];
}

export abstract class Panels<HostToWebview, ToHost extends { type: string }, Restored> implements vscode.Disposable {
  /** The panel shown now, if any. */
  protected panel: vscode.WebviewPanel | undefined;
  /** Registrations disposed with the feature; a feature adds its own. */
  protected readonly disposables: vscode.Disposable[] = [];

  constructor(
    protected readonly extensionUri: vscode.Uri,
    protected readonly log: vscode.LogOutputChannel,
    protected readonly consent: FolderConsent,
    private readonly kind: PanelKind<ToHost, Restored>,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(kind.type, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          this.restore(await restoredState(state, kind.checkRestored, { panel: kind.title, paths: kind.restoredPaths, consent, log }));
          this.attach(panel);
        },
      }),
    );
  }

  /** A restored panel's saved state, before its page loads: undefined when it had none or it was refused (logged). */
  protected abstract restore(state: Restored | undefined): void;

  /** The page runs and wants its data. */
  protected abstract ready(message: ReadyMessage<ToHost>): unknown;

  /** The feature's other messages, for a feature whose webview sends more than `ready` and saves. */
  protected receive?(message: FeatureMessage<ToHost>): unknown;

  /** The panel shown was closed (by the user, by dispose, or replaced by a fresh one): stop what serves it. */
  protected closed?(): void;

  /**
   * Brings the panel to the front. True: it was open and keeps its page, so the caller posts what
   * changed. False: a new panel opened beside the editor; its page says `ready` when it runs.
   */
  protected reveal(): boolean {
    if (this.panel) {
      this.panel.reveal(undefined, true);
      return true;
    }
    const beside = { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true };
    this.attach(vscode.window.createWebviewPanel(this.kind.type, this.kind.title, beside, panelOptions(this.extensionUri)));
    return false;
  }

  protected post(message: HostToWebview): void {
    void this.panel?.webview.postMessage(message);
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel?.dispose();
    this.panel = panel;
    const { title, script, checkToHost, messagePaths } = this.kind;
    // A replacement for a page that stayed blank is attached the same way; the feature keeps what it shows.
    loadPanelPage(panel, this.extensionUri, title, script, (fresh) => this.attach(fresh));
    const accept = { panel: title, paths: messagePaths, consent: this.consent, log: this.log };
    const subscription = receiveFromWebview(panel.webview, checkToHost, accept, (message) => this.dispatch(message));
    panel.onDidDispose(() => {
      subscription.dispose();
      if (this.panel !== panel) return;
      this.panel = undefined;
      this.closed?.();
    });
  }

  private dispatch(message: ToHost): unknown {
    if (Object.hasOwn(saveMessages, message.type)) return saveExport(message as unknown as SaveMessage, this.log);
    if (message.type === 'ready') return this.ready(message as ReadyMessage<ToHost>);
    return this.receive?.(message as FeatureMessage<ToHost>);
  }

  dispose(): void {
    this.panel?.dispose();
    this.disposables.forEach((d) => d.dispose());
  }
}
