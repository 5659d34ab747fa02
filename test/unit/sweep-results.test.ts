import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../../src/core/errors';
import { CellResult, appendResult, openResults, readResultsFile } from '../../src/core/sweep';

function line(id: string, configHash = 'aaaa'): CellResult {
  return {
    configHash,
    cell: { id, entry: 0, model: '/m', attack: 'fgsm', params: { eps: 0.1 }, eps: 0.1, iterations: null, samples: null, data: { spec: { kind: 'synthetic' }, trainRange: null, testRange: null, validationFraction: 0, splitSeed: 0 }, count: 10, batchSize: 100, seed: 0 },
    accuracy: 0.5,
    cleanAccuracy: 0.9,
    count: 10,
    seconds: 0.1,
    backend: 'cpu',
    finishedAt: '2025-01-01T00:00:00.000Z',
  };
}

const tempFile = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-sweep-results-')), 'results.jsonl');

test('JSON Lines: whole lines are appended; a trailing partial line is ignored, and cut off when resuming', () => {
  const file = tempFile();
  assert.deepEqual(openResults(file, 'aaaa', false), [], 'a missing file is an empty one');
  appendResult(file, line('c1'));
  appendResult(file, line('c2'));
  assert.equal(fs.readFileSync(file, 'utf8').split('\n').length, 3, 'two lines, each ending in \\n');
  fs.appendFileSync(file, '{"configHash":"aaaa","cell":{"id":"c3"');
  const read = readResultsFile(file);
  assert.deepEqual(read.results.map((r) => r.cell.id), ['c1', 'c2']);
  assert.ok(read.completeBytes < read.bytes);
  assert.deepEqual(openResults(file, 'aaaa', true).map((r) => r.cell.id), ['c1', 'c2']);
  assert.ok(fs.readFileSync(file, 'utf8').endsWith('}\n'), 'the partial line is gone');
  appendResult(file, line('c3'));
  assert.deepEqual(readResultsFile(file).results.map((r) => r.cell.id), ['c1', 'c2', 'c3']);
});

test('results are never overwritten, nor mixed with another configuration; a broken line is named', () => {
  const file = tempFile();
  appendResult(file, line('c1'));
  fs.appendFileSync(file, '{"partial');
  const before = fs.readFileSync(file);
  const refused = (run: () => unknown, pattern: RegExp) => {
    assert.throws(run, (error: unknown) => error instanceof UserError && pattern.test(error.message) && !error.message.includes('\n'));
    assert.deepEqual(fs.readFileSync(file), before, 'the file is untouched');
  };
  refused(() => openResults(file, 'aaaa', false), /results\.jsonl already holds results: pass --resume to continue that sweep, or write to another --out file$/);
  refused(() => openResults(file, 'bbbb', true), /results\.jsonl holds results of another sweep configuration \(configHash aaaa, this one is bbbb\)/);
  const broken = tempFile();
  fs.writeFileSync(broken, `${JSON.stringify(line('c1'))}\nnot json\n`);
  assert.throws(() => readResultsFile(broken), /results\.jsonl:2: not a sweep result line$/);
});
