/**
 * A reference CNN trained here on real MNIST, for tests that need a trained model (models/ is not
 * in git, so a fresh clone has none): `gccs train` (the built CLI, as users run it), 1 epoch on
 * images 0–1999, seed 0, on the wasm backend, into a temporary folder. Trained once per loss and
 * test process.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const MNIST = path.resolve(__dirname, '../../../shared/data/mnist-t10k');
/** For `{ skip }`: why tests on real MNIST cannot run here, or false. */
export const noMnist = fs.existsSync(MNIST) ? false : `no MNIST test set at ${MNIST}`;

const CLI = path.resolve(__dirname, '../../dist/cli.js');
const trained = new Map<string, string>();

/** The folder of a CNN trained with `loss` (crossentropy or gccs) on MNIST images 0–1999. */
export function trainedMnistCnn(loss: 'crossentropy' | 'gccs' = 'crossentropy'): string {
  const known = trained.get(loss);
  if (known) return known;
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-trained-mnist-')), `mnist-${loss}`);
  const args = ['train', '--dataset', 'mnist', '--data', MNIST, '--train-range', '0:2000', '--test-range', '8000:10000'];
  args.push('--model', 'cnn', '--loss', loss, '--epochs', '1', '--seed', '0', '--backend', 'wasm', '--out', out);
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 600_000 });
  if (run.status !== 0) throw new Error(`gccs train failed (${run.status ?? run.signal}): ${run.stderr}`);
  trained.set(loss, out);
  return out;
}
