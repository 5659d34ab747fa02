/**
 * A robustness sweep as the extension host runs it: planned in its own process and run on the
 * engine's pool of workers (src/core/sweep/pool.ts), whose typed events it receives; the results
 * file and the report are written by the pool. A cancelled sweep is a JobCancelled (its finished
 * cells stay). No vscode import: tested directly.
 */
import { loadSweepConfig } from '../../core/sweep/config';
import { SweepCancelled, SweepOptions, SweepResult, runSweep } from '../../core/sweep/pool';
import { JobCancelled } from '../../core/workerClient';

export interface HostSweepOptions extends Omit<SweepOptions, 'label' | 'resultsFile'> {
  /** The sweep configuration (schema/sweep.schema.json); its relative paths are relative to its folder. */
  configFile: string;
  resultsFile: string;
}

export async function runHostSweep({ configFile, ...options }: HostSweepOptions): Promise<SweepResult> {
  try {
    return await runSweep(loadSweepConfig(configFile), { ...options, label: configFile });
  } catch (error) {
    throw error instanceof SweepCancelled ? new JobCancelled(`sweep (finished cells stay in ${options.resultsFile})`) : error;
  }
}
