/**
 * GCCS: Reproduce the Paper: asks the scale, the dataset and (when it is not the synthetic set) its
 * folder, then runs `gccs reproduce` as a job in a worker process (host/jobs/reproduceJob.ts): the
 * progress bar and the status item say which piece of the run it is on, Cancel Job stops it, and
 * running the command again with the same answers continues the run from its folder (finished
 * models, evaluations and attack cells are reused). When it ends, the report opens in a panel.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DatasetSpec } from '../../core/data';
import { DEFAULT_SCALE, SCALES, SCALE_NAMES, ScaleName } from '../../core/reproduce/scales';
import { reproduceEventLine, reproduceTracker } from '../../core/reproduce/progress';
import { JobCancelled } from '../../core/workerClient';
import { runReproduceWorker } from '../jobs/reproduceJob';
import { reportPageHtml } from '../panels/reportPage';
import { readSettings } from '../workspace/settings';
import { nativeEnv } from './nativeBackend';
import { CommandDeps, resultsFolderWritable } from './deps';

/** The report's panel type (not restored after a reload: Reproduce the Paper again reopens it at once, everything reused). */
export const REPRODUCE_REPORT_TYPE = 'gccs.reproduceReport';
/** The datasets the paper compares on, the MNIST sample first; the synthetic set needs no folder. */
const DATASETS: DatasetSpec['kind'][] = ['mnist', 'fmnist', 'svhn', 'cifar10', 'cifar100', 'synthetic'];

async function pickScale(): Promise<ScaleName | undefined> {
  const items = SCALE_NAMES.map((name) => ({
    label: name,
    description: name === DEFAULT_SCALE ? 'default' : undefined,
    detail: SCALES[name].description,
    name,
  }));
  items.sort((a, b) => Number(b.name === DEFAULT_SCALE) - Number(a.name === DEFAULT_SCALE));
  return (await vscode.window.showQuickPick(items, { title: 'GCCS: Reproduce the Paper (1/3): scale', matchOnDetail: true }))?.name;
}

/** The dataset and its folder: undefined when the user cancelled; no path: the download cache. */
async function pickDataset(): Promise<DatasetSpec | undefined> {
  const kind = (await vscode.window.showQuickPick(DATASETS, { title: 'GCCS: Reproduce the Paper (2/3): dataset' })) as DatasetSpec['kind'] | undefined;
  if (!kind) return undefined;
  if (kind === 'synthetic') return { kind };
  const where = await vscode.window.showQuickPick(
    [
      { label: 'Choose the folder…', description: `the ${kind} files (e.g. the MNIST IDX folder)`, choose: true },
      { label: 'Download cache', description: 'downloaded once, then reused', choose: false },
    ],
    { title: `GCCS: Reproduce the Paper (3/3): ${kind} data` },
  );
  if (!where) return undefined;
  if (!where.choose) return { kind };
  const folder = await vscode.window.showOpenDialog({
    title: `GCCS: the ${kind} dataset's folder`,
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  return folder?.[0] ? { kind, path: folder[0].fsPath } : undefined;
}

export async function reproduceCommand(deps: CommandDeps): Promise<void> {
  const scale = await pickScale();
  if (!scale) return;
  const dataset = await pickDataset();
  if (!dataset) return;
  const settings = readSettings();
  if (
    !(await deps.consent.allow(
      settings.resultsFolder,
      'GCCS: Reproduce the Paper would write its models, evaluations and report there (the gccs.resultsFolder setting).',
    ))
  )
    return;
  if (!resultsFolderWritable(deps, settings.resultsFolder)) return;
  const outDir = path.join(settings.resultsFolder, `reproduce-${dataset.kind}-${scale}`);
  const where = vscode.workspace.asRelativePath(outDir);
  // A folder of an earlier run with the same answers is continued: its finished pieces are reused (the log says which).
  deps.log.info(`Reproduce the Paper: scale ${scale}, ${dataset.kind}${dataset.path ? ` (${dataset.path})` : ''}, in ${where}`);
  await deps.runner.enqueue({
    title: `Reproducing the paper (${scale}, ${dataset.kind})`,
    run: async ({ signal, report, log }) => {
      const track = reproduceTracker();
      try {
        const done = await runReproduceWorker(
          { dataset, scale, outDir },
          {
            backend: settings.backend,
            env: nativeEnv(deps.nativeDir, log),
            workers: settings.workers ?? os.availableParallelism(),
            signal,
            onLog: (line) => log.info(line),
            onEvent: (event) => {
              const line = reproduceEventLine(event);
              if (line !== undefined) log.info(line);
              const step = track(event);
              if (step) report(step.message, step.fraction);
            },
          },
        );
        showReport(done.html, `Paper reproduction (${scale}, ${dataset.kind})`);
        return `reproduced the paper (${scale}, ${dataset.kind}): report ${vscode.workspace.asRelativePath(done.files.html)}`;
      } catch (error) {
        if (error instanceof JobCancelled)
          throw new JobCancelled(`reproducing the paper (what finished stays in ${where}; Reproduce the Paper again continues it) was`);
        throw error;
      }
    },
  });
}

/** The report in a panel beside the editor: the page the worker wrote, under a strict CSP (reportPage.ts). */
export function showReport(html: string, title: string): vscode.WebviewPanel {
  const panel = vscode.window.createWebviewPanel(
    REPRODUCE_REPORT_TYPE,
    title,
    { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
    { enableScripts: true, localResourceRoots: [] },
  );
  panel.webview.html = reportPageHtml(html);
  return panel;
}
