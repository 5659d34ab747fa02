/**
 * Crash-consistent writes. One file: a temporary file, fsynced, then renamed over the target.
 * Several files that must change together (a model's model.json + weights + gccs.json, a
 * checkpoint's model + optimizer + state): commitFiles, a small redo journal (see there).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';

/** Temporary files are `<target>.tmp-<pid>-<random>`: the pid tells whether their writer is gone. */
const TEMP_PATTERN = /\.tmp-(\d+)-[0-9a-z]+$/;

/** The commit journal of a multi-file save: present while the save replaces its files, or after a crash in between. */
export const COMMIT_JOURNAL = '.gccs-commit.json';

/**
 * Test hook: GCCS_TEST_CRASH_AT_RENAME=N kills this process (SIGKILL, as a crash) just before its
 * N-th rename of a write, so tests can stop a save at every step (test/unit/crash-consistency.test.ts).
 */
const crashAtRename = Number(process.env.GCCS_TEST_CRASH_AT_RENAME) || 0;
let renames = 0;

/** Writes a file so that readers see either the old or the new content, never a partial one, even after a crash or power loss. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  commitTemp(file, data, (temp) => fs.renameSync(temp, file));
}

/**
 * Writes a new file whole (as writeFileAtomic) and never replaces one: the temporary file is hard-linked
 * to the name, which fails when the name exists, even if it was created a moment before.
 * Throws a UserError naming the file when it exists.
 */
export function createFileAtomic(file: string, data: string | Uint8Array): void {
  commitTemp(file, data, (temp) => {
    try {
      fs.linkSync(temp, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new UserError(`${file} already exists: write to another file (this never overwrites one)`);
      throw error;
    }
    fs.rmSync(temp);
  });
}

/** Writes `data` to a fsynced temporary file beside `file` and hands it to `commit` (rename or link); the folder is synced after. */
function commitTemp(file: string, data: string | Uint8Array, commit: (temp: string) => void): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  removeStaleTemps(dir, path.basename(file));
  const temp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    const fd = fs.openSync(temp, 'w');
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (++renames === crashAtRename) process.kill(process.pid, 'SIGKILL');
    commit(temp);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
  syncDir(dir);
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, jsonText(value));
}

/** The text writeJsonAtomic writes. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/** A save of several files of one folder that readers must see all old or all new. */
export interface CommitPlan {
  /** Files whose names the committed state does not use yet (named by their content hash): written first. */
  fresh: Record<string, Uint8Array>;
  /** Files replaced in place (model.json, gccs.json, state.json): their new text goes into the journal. */
  replace: Record<string, string>;
  /** Files of earlier saves to delete once the new state is committed, unless `fresh` names them. */
  obsolete: RegExp;
}

interface Journal {
  replace: Record<string, string>;
  remove: string[];
}

/**
 * Saves `plan` into `dir` crash-consistently, with a redo journal:
 * 1. the fresh files are written (atomically, fsynced) under names no reader follows yet;
 * 2. the journal (new text of every replaced file + files to remove) is written by one atomic
 *    rename: this is the commit point;
 * 3. the journal is applied (each file replaced atomically, obsolete files removed) and deleted.
 * A crash before 2 leaves the old state (its orphan fresh files are removed by the next save); a
 * crash after 2 leaves a journal that the next save into `dir` (or settleFolder) applies again, and
 * that readers read through meanwhile (pendingText), so that every reader sees the old or the new state.
 */
export function commitFiles(dir: string, plan: CommitPlan): void {
  settleFolder(dir);
  for (const [name, data] of Object.entries(plan.fresh)) writeFileAtomic(path.join(dir, name), data);
  const remove = fs.readdirSync(dir).filter((name) => plan.obsolete.test(name) && !(name in plan.fresh));
  const journal: Journal = { replace: plan.replace, remove };
  writeFileAtomic(path.join(dir, COMMIT_JOURNAL), JSON.stringify(journal));
  applyJournal(dir, journal);
}

/**
 * Finishes a save into `dir` that a crash interrupted after its commit point, and removes the
 * temporary files of writers that are gone. Run by every save, and before resuming from `dir`.
 */
export function settleFolder(dir: string): void {
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) return;
  const journal = readJournal(dir);
  if (journal) applyJournal(dir, journal);
  removeStaleTemps(dir);
}

/**
 * The committed text of `file`: the new text from its folder's commit journal when a save was
 * committed but not yet applied (a crash in between, or a save going on), else null (read the file).
 */
export function pendingText(file: string): string | null {
  const journal = readJournal(path.dirname(file));
  const name = path.basename(file);
  return journal && Object.prototype.hasOwnProperty.call(journal.replace, name) ? journal.replace[name] : null;
}

/** The committed text of `file` (see pendingText), read within `maxBytes`; a UserError naming the file otherwise. */
export function readCommittedText(file: string, maxBytes: number): string {
  const pending = pendingText(file);
  if (pending !== null) return pending;
  let size: number;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw new UserError(`${file}: not a regular file`);
    size = stat.size;
  } catch (error) {
    if (error instanceof UserError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(`${file}: ${code === 'ENOENT' ? 'file not found' : `cannot be read (${code})`}`);
  }
  if (size > maxBytes) throw new UserError(`${file}: ${size} bytes, more than the ${maxBytes} allowed`);
  return fs.readFileSync(file, 'utf8');
}

function applyJournal(dir: string, journal: Journal): void {
  for (const [name, text] of Object.entries(journal.replace)) writeFileAtomic(path.join(dir, name), text);
  for (const name of journal.remove) fs.rmSync(path.join(dir, name), { force: true });
  fs.rmSync(path.join(dir, COMMIT_JOURNAL), { force: true });
  syncDir(dir);
}

/** The journal's own size bound: the texts it carries are model.json, gccs.json and state.json. */
const JOURNAL_MAX_BYTES = 64 * 1024 * 1024;

function readJournal(dir: string): Journal | null {
  const file = path.join(dir, COMMIT_JOURNAL);
  let text: string;
  try {
    // lstat: a journal is only ever written by a rename here, so a symlink (maybe to a file outside the folder) is foreign.
    const stat = fs.lstatSync(file);
    if (!stat.isFile() || stat.size > JOURNAL_MAX_BYTES) throw new UserError(`${file}: not a commit journal (not a regular file of at most ${JOURNAL_MAX_BYTES} bytes)`);
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    // No journal (or applied and deleted meanwhile by its writer), or no folder: nothing pending.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw error;
  }
  const journal = parseJournal(text);
  if (!journal) throw new UserError(`${file}: not a commit journal (it is written whole by one rename, so this file was changed by something else); delete it`);
  return journal;
}

function parseJournal(text: string): Journal | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const { replace, remove } = (value ?? {}) as Partial<Journal>;
  // Plain names of files in the folder itself: the journal may name nothing elsewhere.
  const plainName = (name: unknown) => typeof name === 'string' && /^[\w-][\w.-]*$/.test(name) && name !== COMMIT_JOURNAL;
  if (!replace || typeof replace !== 'object' || Array.isArray(replace)) return null;
  if (!Object.entries(replace).every(([name, content]) => plainName(name) && typeof content === 'string')) return null;
  if (!Array.isArray(remove) || !remove.every(plainName)) return null;
  return { replace, remove };
}

/** Removes the temporary files in `dir` (of `target` only, when given) whose writer is gone. */
function removeStaleTemps(dir: string, target?: string): void {
  for (const name of fs.readdirSync(dir)) {
    const match = TEMP_PATTERN.exec(name);
    if (!match || (target !== undefined && name.slice(0, match.index) !== target)) continue;
    // Writes are synchronous: a temporary file of this very process is not being written now.
    const pid = Number(match[1]);
    if (pid === process.pid || !processAlive(pid)) {
      try {
        fs.rmSync(path.join(dir, name), { force: true });
      } catch {
        // Not a file (nothing this engine wrote): left alone.
      }
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Makes renames in `dir` durable (power loss); not possible everywhere (Windows), where it is skipped. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Directory fsync is unsupported here.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
