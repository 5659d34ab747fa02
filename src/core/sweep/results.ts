/**
 * The results file: JSON Lines, one line per finished cell. Each line is written whole by a single
 * append, undone if the append fails, so only a crash in the middle of it can leave a partial last
 * line; that line starts as every line of its sweep does, which tells it from a foreign file's.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import { CONFIG_LIMITS } from '../limits';
import { JsonSchema, formatPath, parseJson, readBoundedFile, validateJson } from './jsonSchema';
import type { CellResult } from './types';

const number = { type: 'number' };
const fraction = { type: 'number', minimum: 0, maximum: 1 };

/** What makes a line a result line: the fields readers use (others may follow). */
const RESULT_LINE: JsonSchema = {
  type: 'object',
  required: ['configHash', 'cell', 'accuracy', 'cleanAccuracy', 'count', 'seconds', 'backend', 'finishedAt'],
  properties: {
    configHash: { type: 'string', minLength: 1 },
    cell: {
      type: 'object',
      required: ['id', 'entry', 'model', 'attack', 'params', 'eps', 'iterations', 'samples', 'data', 'count', 'batchSize', 'seed'],
      properties: {
        id: { type: 'string', minLength: 1 },
        entry: { type: 'integer', minimum: 0 },
        model: { type: 'string' },
        attack: { type: 'string' },
        params: { type: 'object' },
        eps: { type: ['number', 'null'] },
        iterations: { type: ['integer', 'null'] },
        samples: { type: ['integer', 'null'] },
        data: { type: 'object' },
        count: { type: 'integer', minimum: 1 },
        batchSize: { type: 'integer', minimum: 1 },
        seed: { type: 'integer' },
      },
    },
    accuracy: fraction,
    cleanAccuracy: fraction,
    count: { type: 'integer', minimum: 0 },
    rho: { type: ['number', 'null'] },
    meanChangedPixels: { type: ['number', 'null'] },
    // Which samples survived (src/core/robustness/bits.ts); its length is checked against count where it is read.
    robust: { type: 'string', pattern: '^[A-Za-z0-9+/]*={0,2}$' },
    seconds: { ...number, minimum: 0 },
    backend: { type: 'string' },
    finishedAt: { type: 'string' },
  },
};

/** How every line of a sweep's results begins (appendResult writes configHash first). */
const lineStart = (configHash: string) => Buffer.from(`{"configHash":${JSON.stringify(configHash)},`);

/** Appends one line; if the write fails part way, the file is cut back to what it was. */
export function appendResult(file: string, result: CellResult): void {
  const { configHash, ...rest } = result;
  const line = Buffer.from(JSON.stringify({ configHash, ...rest }) + '\n');
  let fd: number | undefined;
  let size = 0;
  try {
    fd = fs.openSync(file, 'a');
    size = fs.fstatSync(fd).size;
    for (let written = 0; written < line.length; ) written += fs.writeSync(fd, line, written);
  } catch (error) {
    try {
      if (fd !== undefined) fs.ftruncateSync(fd, size);
    } catch {
      // Not a regular file (e.g. /dev/full): nothing to cut back; the append's error is the one to report.
    }
    throw new UserError(`${file}: cannot append a result (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export interface ResultsFile {
  results: CellResult[];
  /** Bytes up to the end of the last complete line. */
  completeBytes: number;
  bytes: number;
  /** The bytes after the last complete line (a line cut short by a crash, or a file that is not ours). */
  tail: Buffer;
}

/**
 * The complete lines of a results file (none if it does not exist); each must be a result line
 * (RESULT_LINE), else a UserError names the file and the line. A trailing partial line is returned
 * as `tail`, not parsed.
 */
export function readResultsFile(file: string): ResultsFile {
  if (!fs.existsSync(file)) return { results: [], completeBytes: 0, bytes: 0, tail: Buffer.alloc(0) };
  const read = readBoundedFile(file, CONFIG_LIMITS.resultsFileBytes);
  if ('problem' in read) throw new UserError(`${file}: ${read.problem}`);
  const text = read.bytes;
  const completeBytes = text.lastIndexOf('\n') + 1;
  const lines = text.subarray(0, completeBytes).toString('utf8').split('\n').slice(0, -1);
  const results = lines.map((line, i) => {
    const parsed = parseJson(line);
    const problem = 'problem' in parsed ? parsed.problem : validateJson(parsed.value, RESULT_LINE);
    if (problem) throw new UserError(`${file}:${i + 1}: not a sweep result line (${problem.path.length ? `${formatPath(problem.path)}: ` : ''}${problem.message})`);
    return (parsed as { value: CellResult }).value;
  });
  return { results, completeBytes, bytes: text.length, tail: text.subarray(completeBytes) };
}

/**
 * `file` as a resumed run of the sweep whose configHash is `configHash` and whose cells are
 * `cellIds` finds it, read only: every complete line must be a result of this sweep, and a partial
 * last line must begin as this sweep's lines do (a line cut short by a crash); anything else is a
 * UserError. What the time estimate of a resumed sweep counts from, and what openResults keeps.
 */
export function resumableResults(file: string, configHash: string, cellIds: ReadonlySet<string>): ResultsFile {
  const existing = readResultsFile(file);
  existing.results.forEach((result, i) => {
    if (result.configHash !== configHash) {
      throw new UserError(`${file} holds results of another sweep configuration (configHash ${result.configHash}, this one is ${configHash}): write to another --out file`);
    }
    if (!cellIds.has(result.cell.id)) throw new UserError(`${file}:${i + 1}: cell ${result.cell.id} is not a cell of this sweep configuration: write to another --out file`);
  });
  const start = lineStart(configHash);
  const { tail } = existing;
  if (tail.length && !(tail.length < start.length ? start.subarray(0, tail.length).equals(tail) : tail.subarray(0, start.length).equals(start))) {
    throw new UserError(`${file} does not end in a result line of this sweep (its last ${tail.length} bytes have no newline): write to another --out file`);
  }
  return existing;
}

/**
 * The results already in `file` for the sweep whose configHash is `configHash` and whose cells are
 * `cellIds`. A non-empty file is an error unless resuming (results are never overwritten). When
 * resuming, the file must be one resumableResults accepts, else it is refused with the file left
 * as it was; a partial last line is cut off so that the next append starts a line of its own.
 */
export function openResults(file: string, configHash: string, resume: boolean, cellIds: ReadonlySet<string>): CellResult[] {
  const existing = resume ? resumableResults(file, configHash, cellIds) : readResultsFile(file);
  if (existing.bytes === 0) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    return [];
  }
  if (!resume) throw new UserError(`${file} already holds results: pass --resume to continue that sweep, or write to another --out file`);
  if (existing.tail.length) fs.truncateSync(file, existing.completeBytes);
  return existing.results;
}
