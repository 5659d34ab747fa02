/**
 * A stand-in for the `vscode` module, with just what the panel base class (src/host/panels/panel.ts)
 * and its helpers (shell.ts, exportFile.ts) use, so that the unit tests can run them without VS Code
 * (the integration suite runs them in VS Code). installFakeVscode makes `require('vscode')` return it.
 */
import Module from 'node:module';
import * as path from 'node:path';

type Listener<T> = (value: T) => unknown;

class Emitter<T> {
  private readonly listeners = new Set<Listener<T>>();
  readonly event = (listener: Listener<T>) => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };
  fire(value: T): void {
    [...this.listeners].forEach((listener) => listener(value));
  }
}

export class FakeUri {
  constructor(readonly fsPath: string) {}
  toString(): string {
    return `file://${this.fsPath}`;
  }
}

/** A webview panel: what the host posts is kept; `send` plays a message from its page. */
export class FakePanel {
  readonly posted: unknown[] = [];
  /** Every page set on it (the HTML), in order. */
  readonly pages: string[] = [];
  revealed = 0;
  disposed = false;
  private readonly received = new Emitter<unknown>();
  private readonly disposal = new Emitter<void>();
  private readonly viewState = new Emitter<void>();
  readonly onDidDispose = this.disposal.event;
  readonly onDidChangeViewState = this.viewState.event;
  visible = true;
  readonly webview = {
    options: {},
    cspSource: 'https://webview.test',
    asWebviewUri: (uri: FakeUri) => `https://webview.test${uri.fsPath}`,
    postMessage: async (message: unknown) => this.posted.push(message) > 0,
    onDidReceiveMessage: this.received.event,
  };

  constructor(
    readonly viewType: string,
    readonly title: string,
    public viewColumn: number,
    readonly preserveFocus: boolean,
  ) {
    // The host sets the page through the html property.
    Object.defineProperty(this.webview, 'html', { set: (html: string) => this.pages.push(html), get: () => this.pages.at(-1) ?? '' });
  }

  send(message: unknown): void {
    this.received.fire(message);
  }

  /** The user hides it (another tab in front), shows it again or moves it to another editor group. */
  changeView(visible: boolean, viewColumn = this.viewColumn): void {
    this.visible = visible;
    this.viewColumn = viewColumn;
    this.viewState.fire();
  }

  reveal(): void {
    this.revealed++;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposal.fire();
  }
}

export interface Serializer {
  deserializeWebviewPanel(panel: FakePanel, state: unknown): Promise<void>;
}

/** A fresh fake: what the code under test did is in its fields. */
export function fakeVscode() {
  const fake = {
    serializers: new Map<string, Serializer>(),
    created: [] as FakePanel[],
    saveDialogs: 0,
    Uri: { joinPath: (base: FakeUri, ...parts: string[]) => new FakeUri(path.posix.join(base.fsPath, ...parts)), file: (file: string) => new FakeUri(file) },
    ViewColumn: { Beside: -2 },
    workspace: { workspaceFolders: undefined },
    window: {
      registerWebviewPanelSerializer(type: string, serializer: Serializer) {
        fake.serializers.set(type, serializer);
        return { dispose: () => fake.serializers.delete(type) };
      },
      createWebviewPanel(type: string, title: string, show: { viewColumn: number; preserveFocus: boolean }) {
        const panel = new FakePanel(type, title, show.viewColumn, show.preserveFocus);
        fake.created.push(panel);
        return panel;
      },
      /** The user cancels every save dialog. */
      showSaveDialog: async () => {
        fake.saveDialogs++;
        return undefined;
      },
      showErrorMessage: async () => undefined,
    },
  };
  return fake;
}
export type FakeVscode = ReturnType<typeof fakeVscode>;

/** From now on in this process, `require('vscode')` returns `fake`. */
export function installFakeVscode(fake: FakeVscode): void {
  const loader = Module as unknown as { _resolveFilename(request: string, ...rest: unknown[]): string; _cache: Record<string, unknown> };
  const resolve = loader._resolveFilename;
  loader._resolveFilename = function (request, ...rest) {
    return request === 'vscode' ? 'vscode' : resolve.call(this, request, ...rest);
  };
  loader._cache.vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: fake };
}
