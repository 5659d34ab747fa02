/**
 * Asks which data a model without a gccs.json (an .onnx file, a LayersModel trained elsewhere) is
 * run on, with the New experiment wizard's dataset question; the answer is remembered for the
 * workspace (workspace/modelData.ts) and offered first the next time.
 */
import * as vscode from 'vscode';
import type { SweepDataConfig } from '../../core/sweep/types';
import { modelName } from '../panels/robustness/compareData';
import { ModelDataMemory, dataLabel, needsData } from '../workspace/modelData';
import { askDataset } from './newExperiment';

/**
 * The data to run `model` on: null when its gccs.json names them (nothing is asked), undefined
 * when the question was cancelled. `remembered` uses the last answer without asking, when there is one.
 */
export async function modelData(
  memory: ModelDataMemory,
  model: string,
  options: { remembered?: 'ask' | 'use' } = {},
): Promise<SweepDataConfig | null | undefined> {
  if (!needsData(model)) return null;
  const name = modelName(model);
  const last = memory.get(model);
  if (last && options.remembered === 'use') return last;
  if (last) {
    const again = await vscode.window.showQuickPick(
      [
        { label: dataLabel(last), description: 'as last time', data: last },
        { label: 'Other data…', description: 'dataset and data folder', data: undefined },
      ],
      { title: `GCCS: data to run ${name} on`, placeHolder: `${name} names no dataset (it has no gccs.json)`, ignoreFocusOut: true },
    );
    if (!again) return undefined;
    if (again.data) return again.data;
  }
  const answer = await askDataset((what) => `GCCS: data to run ${name} on: ${what}`);
  if (!answer) return undefined;
  const data: SweepDataConfig = { kind: answer.dataset.choice.kind, ...(answer.dataPath !== undefined && { path: answer.dataPath }) };
  await memory.remember(model, data);
  return data;
}
