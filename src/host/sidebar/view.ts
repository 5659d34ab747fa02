/**
 * The GCCS view of the activity bar: Experiments, Models and Results of the workspace with their
 * figures (sidebar/entries.ts), refreshed by file watchers and by the training job's progress.
 * Its elements are the files' own URIs, so the inline actions are the ordinary GCCS commands
 * (Train, Evaluate Robustness… gated by workspace trust as from the palette), given the row's file.
 * In Restricted Mode the view lists everything; the gated commands explain why they need trust.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { SIDEBAR_LIMITS } from '../../core/limits';
import { isExperimentFile, onnxSidecarOf } from '../../core/io/modelLocation';
import { readSettings } from '../workspace/settings';
import { EntryKind, SidebarEntry, checkpointFolder, experimentEntry, modelEntry, resultEntry, resultLocations } from './entries';

export const VIEW_ID = 'gccs.workspace';
const GROUP_SCHEME = 'gccs-group';
const GROUPS: { kind: EntryKind; label: string; icon: string }[] = [
  { kind: 'experiment', label: 'Experiments', icon: 'beaker' },
  { kind: 'model', label: 'Models', icon: 'package' },
  { kind: 'result', label: 'Results', icon: 'graph' },
];
const ENTRY_ICON: Record<EntryKind, string> = { experiment: 'beaker', model: 'package', result: 'graph-line' };
/** File events come in bursts (a save writes several files): one refresh per burst. */
const REFRESH_DELAY_MS = 300;
const EXCLUDE = '{**/node_modules/**,**/checkpoint/**,**/.git/**}';

/** What the view shows, for the integration tests: per group, each row's label and description. */
export type ViewSnapshot = Record<EntryKind, Pick<SidebarEntry, 'label' | 'description' | 'location' | 'contextValue'>[]>;

export class GccsView implements vscode.TreeDataProvider<vscode.Uri>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private entries = new Map<string, SidebarEntry>();
  private groups: Record<EntryKind, vscode.Uri[]> = { experiment: [], model: [], result: [] };
  /** Training progress in [0, 1] of experiment files being trained. */
  private readonly progress = new Map<string, number>();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private timer: NodeJS.Timeout | undefined;
  /** A file changed since the last scan (progress alone redraws without rescanning). */
  private stale = true;

  constructor() {
    const refresh = () => this.refreshSoon();
    for (const pattern of ['**/*.gccs.json', '**/gccs.json', '**/checkpoint', '**/*.{jsonl,json}', '**/*.onnx']) {
      const watcher = vscode.workspace.createFileSystemWatcher(pattern);
      this.disposables.push(watcher, watcher.onDidCreate(refresh), watcher.onDidChange(refresh), watcher.onDidDelete(refresh));
    }
    this.disposables.push(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('gccs.resultsFolder') && refresh()));
  }

  /** Progress of a training (undefined: it ended). */
  setProgress(experimentFile: string, fraction: number | undefined): void {
    if (fraction === undefined) this.progress.delete(experimentFile);
    else this.progress.set(experimentFile, fraction);
    const key = vscode.Uri.file(experimentFile).toString();
    if (fraction === undefined || !this.entries.has(key)) return this.refreshSoon();
    this.entries.set(key, experimentEntry(experimentFile, fraction));
    this.redrawSoon();
  }

  refresh(): void {
    this.stale = true;
    this.redraw();
  }

  private redraw(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.changed.fire();
  }

  private refreshSoon(): void {
    this.stale = true;
    this.redrawSoon();
  }

  private redrawSoon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.redraw(), REFRESH_DELAY_MS);
  }

  private async scan(): Promise<void> {
    const max = SIDEBAR_LIMITS.rowsPerGroup;
    const { resultsFolder } = readSettings();
    const [found, metas, onnxFiles] = await Promise.all([
      vscode.workspace.findFiles('**/*.gccs.json', EXCLUDE, max),
      vscode.workspace.findFiles('**/gccs.json', EXCLUDE, max),
      vscode.workspace.findFiles('**/*.onnx', EXCLUDE, max),
    ]);
    const results = resultLocations(resultsFolder, max);
    // A model's sidecar (net.onnx.gccs.json, model.json.gccs.json) is not an experiment; the .onnx file is a model.
    const experiments = found.filter((uri) => isExperimentFile(uri.fsPath));
    const folders = metas.map((uri) => path.dirname(uri.fsPath)).filter((folder) => fs.existsSync(path.join(folder, 'model.json')));
    const models = [...folders, ...onnxFiles.map((uri) => uri.fsPath)].slice(0, max);
    const all: SidebarEntry[] = [
      ...experiments.map((uri) => experimentEntry(uri.fsPath, this.progress.get(uri.fsPath))),
      ...models.map((folder) => modelEntry(folder, results, resultsFolder)),
      ...results.map((file) => resultEntry(file)),
    ];
    const byLabel = (a: SidebarEntry, b: SidebarEntry) => a.label.localeCompare(b.label);
    this.entries = new Map(all.map((entry) => [vscode.Uri.file(entry.location).toString(), entry]));
    for (const { kind } of GROUPS)
      this.groups[kind] = all
        .filter((e) => e.kind === kind)
        .sort(kind === 'result' ? () => 0 : byLabel)
        .map((e) => vscode.Uri.file(e.location));
  }

  async getChildren(element?: vscode.Uri): Promise<vscode.Uri[]> {
    if (element) return element.scheme === GROUP_SCHEME ? this.groups[element.path as EntryKind] : [];
    if (this.stale) {
      this.stale = false;
      await this.scan();
    }
    // Nothing at all: the welcome view (package.json viewsWelcome) offers New experiment….
    if (GROUPS.every(({ kind }) => this.groups[kind].length === 0)) return [];
    return GROUPS.map(({ kind }) => vscode.Uri.from({ scheme: GROUP_SCHEME, path: kind }));
  }

  getTreeItem(element: vscode.Uri): vscode.TreeItem {
    if (element.scheme === GROUP_SCHEME) {
      const group = GROUPS.find((g) => g.kind === element.path)!;
      const item = new vscode.TreeItem(group.label, vscode.TreeItemCollapsibleState.Expanded);
      item.description = String(this.groups[group.kind].length);
      item.iconPath = new vscode.ThemeIcon(group.icon);
      item.contextValue = `group.${group.kind}`;
      return item;
    }
    const entry = this.entries.get(element.toString());
    const item = new vscode.TreeItem(entry?.label ?? path.basename(element.fsPath), vscode.TreeItemCollapsibleState.None);
    if (!entry) return item;
    item.id = `${entry.kind}:${entry.location}`;
    item.resourceUri = element;
    item.description = entry.description;
    item.tooltip = entry.tooltip;
    item.contextValue = entry.contextValue;
    item.iconPath = new vscode.ThemeIcon(entry.contextValue === 'experiment.training' ? 'sync~spin' : ENTRY_ICON[entry.kind]);
    item.command = clickCommand(entry, element);
    return item;
  }

  /** The rows as shown, after a fresh scan (the integration tests read it through the extension's exports). */
  async snapshot(): Promise<ViewSnapshot> {
    await this.scan();
    const rows = (kind: EntryKind) =>
      this.groups[kind]
        .map((uri) => this.entries.get(uri.toString())!)
        .map(({ label, description, location, contextValue }) => ({ label, description, location, contextValue }));
    return { experiment: rows('experiment'), model: rows('model'), result: rows('result') };
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

/**
 * A click shows the row's file: a model folder's training curves (which need no trust), an ONNX
 * model's sidecar (the file itself is binary; without a sidecar nothing opens), any other row its file.
 */
function clickCommand(entry: SidebarEntry, element: vscode.Uri): vscode.Command | undefined {
  if (entry.contextValue === 'model.onnx') {
    const sidecar = onnxSidecarOf(element.fsPath);
    return fs.existsSync(sidecar) ? { command: 'vscode.open', title: 'Open', arguments: [vscode.Uri.file(sidecar)] } : undefined;
  }
  if (entry.kind === 'model') return { command: 'gccs.showTraining', title: 'Show Training', arguments: [element] };
  return { command: 'vscode.open', title: 'Open', arguments: [element] };
}

/** GCCS: Delete Checkpoint (a model row of the view): removes checkpoint/ after a modal confirmation. */
export async function deleteCheckpointCommand(view: GccsView, uri?: vscode.Uri): Promise<boolean> {
  if (!(uri instanceof vscode.Uri)) {
    void vscode.window.showInformationMessage('GCCS: Delete Checkpoint works on a model of the GCCS view.');
    return false;
  }
  const folder = checkpointFolder(uri.fsPath);
  if (!fs.existsSync(folder)) {
    void vscode.window.showInformationMessage(`GCCS: ${vscode.workspace.asRelativePath(uri)} has no checkpoint.`);
    return false;
  }
  const choice = await vscode.window.showWarningMessage(
    `GCCS: delete the checkpoint of ${path.basename(uri.fsPath)}?`,
    {
      modal: true,
      detail: `${vscode.workspace.asRelativePath(folder)} lets a training of this model resume; the trained model (model.json, gccs.json) stays.`,
    },
    'Delete',
  );
  if (choice !== 'Delete') return false;
  fs.rmSync(folder, { recursive: true, force: true });
  view.refresh();
  return true;
}
