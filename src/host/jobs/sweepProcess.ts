/**
 * Runs a robustness sweep by forking the CLI (dist/cli.js sweep): the engine's runSweep cannot be
 * imported into the extension host, because planning a sweep loads the attacks and so TensorFlow.js.
 * The CLI forks its own pool of workers, appends each finished cell to the results file, writes the
 * HTML report, and says "[k/N] …" on stderr for each cell. SIGTERM cancels it (finished cells stay).
 * No vscode import: tested directly.
 */
import type { BackendName } from '../../core/backend';
import { CliProcessOptions, forkCli } from './cliProcess';
import { JobCancelled, JobUserError } from './errors';

export interface CliSweepOptions extends Omit<CliProcessOptions, 'stdout'> {
  cliFile: string;
  configFile: string;
  resultsFile: string;
  reportFile: string;
  resume: boolean;
  /** 0 or undefined: the CLI's default (one per core). */
  workers?: number;
  backend: BackendName;
  onLine?: (line: string) => void;
  onProgress?: (finished: number, total: number, line: string) => void;
}

/** "[3/12] model fgsm ε=0.1: accuracy 80.00% (1.2 s)" → 3, 12. */
export function parseCellLine(line: string): { finished: number; total: number } | undefined {
  const match = /^\[(\d+)\/(\d+)\] /.exec(line);
  return match ? { finished: Number(match[1]), total: Number(match[2]) } : undefined;
}

export function cliSweepArgs(options: CliSweepOptions): string[] {
  return [
    'sweep',
    '--config', options.configFile,
    '--out', options.resultsFile,
    '--report', options.reportFile,
    '--backend', options.backend,
    ...(options.workers ? ['--workers', String(options.workers)] : []),
    ...(options.resume ? ['--resume'] : []),
  ];
}

export function runCliSweep(options: CliSweepOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const { child, cancelled } = forkCli(options.cliFile, cliSweepArgs(options), options);
    let partial = '';
    let error: string | undefined;
    const onLine = (line: string) => {
      if (line.startsWith('gccs: error: ')) error = line.slice('gccs: error: '.length);
      options.onLine?.(line);
      const cell = parseCellLine(line);
      if (cell) options.onProgress?.(cell.finished, cell.total, line);
    };
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      lines.forEach(onLine);
    });
    child.on('error', (e) => {
      error ??= `the GCCS CLI could not run (${options.cliFile}): ${e.message}`;
    });
    child.on('exit', (code, signalName) => {
      if (partial) onLine(partial);
      if (code === 0) return resolve();
      if (cancelled()) return reject(new JobCancelled(`sweep (finished cells stay in ${options.resultsFile})`));
      if (code === 2 && error) return reject(new JobUserError(error));
      const how = code !== null ? `exit code ${code}` : `signal ${signalName}`;
      reject(new Error(`the GCCS sweep process crashed (${how})${error ? `: ${error}` : ''}`));
    });
  });
}
