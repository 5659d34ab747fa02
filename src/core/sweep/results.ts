/**
 * The results file: JSON Lines, one line per finished cell. Each line is written whole by a single
 * append, so a crash can leave at most a partial last line, which readers ignore.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import type { CellResult } from './types';

export function appendResult(file: string, result: CellResult): void {
  fs.appendFileSync(file, JSON.stringify(result) + '\n');
}

export interface ResultsFile {
  results: CellResult[];
  /** Bytes up to the end of the last complete line. */
  completeBytes: number;
  bytes: number;
}

/** The complete lines of a results file (none if it does not exist); a trailing partial line is ignored. */
export function readResultsFile(file: string): ResultsFile {
  if (!fs.existsSync(file)) return { results: [], completeBytes: 0, bytes: 0 };
  const text = fs.readFileSync(file);
  const completeBytes = text.lastIndexOf('\n') + 1;
  const lines = text.subarray(0, completeBytes).toString('utf8').split('\n').slice(0, -1);
  const results = lines.map((line, i) => {
    try {
      const result = JSON.parse(line) as CellResult;
      if (typeof result.configHash === 'string' && typeof result.cell?.id === 'string') return result;
    } catch {
      // Reported below.
    }
    throw new UserError(`${file}:${i + 1}: not a sweep result line`);
  });
  return { results, completeBytes, bytes: text.length };
}

/**
 * The results already in `file` for a sweep whose configHash is `configHash`. A non-empty file is an
 * error unless resuming (results are never overwritten), and so is a file from another
 * configuration (left untouched). When resuming, a partial last line is cut off so that the next
 * append starts a line of its own.
 */
export function openResults(file: string, configHash: string, resume: boolean): CellResult[] {
  const existing = readResultsFile(file);
  if (existing.bytes === 0) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    return [];
  }
  if (!resume) throw new UserError(`${file} already holds results: pass --resume to continue that sweep, or write to another --out file`);
  const foreign = existing.results.find((result) => result.configHash !== configHash);
  if (foreign) {
    throw new UserError(`${file} holds results of another sweep configuration (configHash ${foreign.configHash}, this one is ${configHash}): write to another --out file`);
  }
  if (existing.completeBytes < existing.bytes) fs.truncateSync(file, existing.completeBytes);
  return existing.results;
}
