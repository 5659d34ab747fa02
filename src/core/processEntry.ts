import * as path from 'node:path';

/**
 * How to fork the engine's worker process (src/worker/index.ts): bundled, dist/worker.js sits
 * beside this code; from source (under tsx) the worker's source runs through tsx.
 *
 * `--single-threaded-gc`: workers run side by side, one per core, and V8's parallel GC helper
 * threads would take 15–20% of a core from the sibling process (two training processes on 2
 * cores: 1.57× one process's throughput with them, 1.66–1.75× without; see README, Performance).
 */
export function processEntry(): { file: string; execArgv: string[] } {
  const gc = ['--single-threaded-gc'];
  if (path.extname(__filename) === '.ts') return { file: path.resolve(__dirname, '../worker/index.ts'), execArgv: ['--import', 'tsx', ...gc] };
  return { file: path.join(__dirname, 'worker.js'), execArgv: gc };
}
