import * as path from 'node:path';

/**
 * How to fork one of the engine's own processes (`index` = sweep worker, `replica` = training
 * replica): bundled, dist/<name>.js sits beside this code; from source (under tsx) the process's
 * source in src/worker/ runs through tsx.
 *
 * `--single-threaded-gc`: these processes run side by side, one per core, and V8's parallel GC
 * helper threads would take 15–20% of a core from the sibling process (two training processes on
 * 2 cores: 1.57× one process's throughput with them, 1.66–1.75× without; see README, Performance).
 */
export function processEntry(name: 'index' | 'replica'): { file: string; execArgv: string[] } {
  const gc = ['--single-threaded-gc'];
  if (path.extname(__filename) === '.ts') return { file: path.resolve(__dirname, '../worker', `${name}.ts`), execArgv: ['--import', 'tsx', ...gc] };
  return { file: path.join(__dirname, name === 'index' ? 'worker.js' : 'replica.js'), execArgv: gc };
}
