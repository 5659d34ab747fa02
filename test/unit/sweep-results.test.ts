import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../../src/core/errors';
import { appendResult, openResults, readResultsFile } from '../../src/core/sweep';
import { resultLine } from '../helpers/fileFormats';

const line = (id: string, configHash = 'aaaa') => resultLine(id, configHash);

const cells = new Set(['c1', 'c2', 'c3']);
const tempFile = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-sweep-results-')), 'results.jsonl');

/** `run` throws a one-line UserError matching `pattern`, and `file` keeps every byte. */
function refusedUntouched(file: string, run: () => unknown, pattern: RegExp, what = '') {
  const before = fs.readFileSync(file);
  assert.throws(run, (error: unknown) => error instanceof UserError && pattern.test(error.message) && !error.message.includes('\n'), what);
  assert.deepEqual(fs.readFileSync(file), before, `${what}: the file is byte-identical`);
}

test('JSON Lines: whole lines, configHash first; a partial last line of this sweep (a crash) is cut off when resuming', () => {
  const file = tempFile();
  assert.deepEqual(openResults(file, 'aaaa', false, cells), [], 'a missing file is an empty one');
  appendResult(file, { ...line('c1'), configHash: 'aaaa' });
  appendResult(file, line('c2'));
  const text = fs.readFileSync(file, 'utf8');
  assert.equal(text.split('\n').length, 3, 'two lines, each ending in \\n');
  assert.ok(
    text
      .split('\n')
      .slice(0, 2)
      .every((l) => l.startsWith('{"configHash":"aaaa",')),
  );
  for (const cut of [5, 25, 60]) {
    const torn = tempFile();
    fs.writeFileSync(torn, text + JSON.stringify(line('c3')).slice(0, cut));
    const read = readResultsFile(torn);
    assert.deepEqual(
      read.results.map((r) => r.cell.id),
      ['c1', 'c2'],
    );
    assert.equal(read.tail.length, cut);
    assert.deepEqual(
      openResults(torn, 'aaaa', true, cells).map((r) => r.cell.id),
      ['c1', 'c2'],
    );
    assert.equal(fs.readFileSync(torn, 'utf8'), text, 'the partial line is gone');
    appendResult(torn, line('c3'));
    assert.deepEqual(
      readResultsFile(torn).results.map((r) => r.cell.id),
      ['c1', 'c2', 'c3'],
    );
  }
});

test('--resume continues only a file whose every line is a result of this configuration; anything else is refused byte-identical', () => {
  const file = tempFile();
  appendResult(file, line('c1'));
  refusedUntouched(
    file,
    () => openResults(file, 'aaaa', false, cells),
    /results\.jsonl already holds results: pass --resume to continue that sweep, or write to another --out file$/,
  );
  refusedUntouched(
    file,
    () => openResults(file, 'bbbb', true, cells),
    /results\.jsonl holds results of another sweep configuration \(configHash aaaa, this one is bbbb\)/,
  );
  refusedUntouched(file, () => openResults(file, 'aaaa', true, new Set(['c9'])), /results\.jsonl:1: cell c1 is not a cell of this sweep configuration/);

  const cases: [string, string | Buffer, RegExp][] = [
    ['a text file without a newline', 'my notes, no newline at the end', /does not end in a result line of this sweep \(its last 31 bytes have no newline\)/],
    ['a result line of another sweep, cut short', JSON.stringify(line('c1', 'bbbb')).slice(0, 30), /does not end in a result line of this sweep/],
    ['our lines, then a foreign tail', `${JSON.stringify(line('c1'))}\n#end`, /does not end in a result line/],
    ['a line that is not JSON', `${JSON.stringify(line('c1'))}\nnot json\n`, /results\.jsonl:2: not a sweep result line \(not valid JSON/],
    ['an object missing fields', '{"configHash":"aaaa","cell":{"id":"c1"}}\n', /results\.jsonl:1: not a sweep result line \(missing "accuracy"\)/],
    ['an accuracy out of range', `${JSON.stringify({ ...line('c1'), accuracy: 7 })}\n`, /:1: not a sweep result line \(accuracy: must be ≤ 1 \(got 7\)\)/],
    [
      'a __proto__ key',
      `${JSON.stringify(line('c1')).replace('{"configHash"', '{"__proto__":{"x":1},"configHash"')}\n`,
      /:1: not a sweep result line \(__proto__: the key "__proto__" is not allowed\)/,
    ],
    ['a JSON list', '[1,2,3]\n', /:1: not a sweep result line \(must be an object \(got a list\)\)/],
    ['binary bytes', Buffer.from([0xff, 0xfe, 0x00, 0x0a, 0x01]), /:1: not a sweep result line/],
  ];
  for (const [what, content, pattern] of cases) {
    const other = tempFile();
    fs.writeFileSync(other, content);
    refusedUntouched(other, () => openResults(other, 'aaaa', true, cells), pattern, what);
  }
});

test('a results path that is a folder or not a regular file is one line, never a hang', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-sweep-results-'));
  assert.throws(
    () => openResults(dir, 'aaaa', true, cells),
    (error: unknown) => error instanceof UserError && error.message === `${dir}: is a folder, not a file`,
  );
  const fifo = path.join(dir, 'fifo.jsonl');
  execFileSync('mkfifo', [fifo]);
  assert.throws(
    () => readResultsFile(fifo),
    (error: unknown) => error instanceof UserError && error.message === `${fifo}: is not a regular file`,
  );
  assert.throws(
    () => appendResult('/dev/full', line('c1')),
    (error: unknown) => error instanceof UserError && error.message === '/dev/full: cannot append a result (ENOSPC)',
  );
});
