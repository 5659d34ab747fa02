/**
 * Kill harness (README › Testing): SIGKILLs `gccs train` and `gccs sweep` at random moments, checks
 * after every kill that nothing on disk is torn (the model folder holds the old or the new model,
 * the checkpoint is whole, the results file holds only whole lines of this sweep, no worker is
 * left running), then resumes — possibly killed again — until the run completes, and compares the
 * outcome with an uninterrupted run: byte-equal weights and records, equal sets of result lines,
 * no temporary file left.
 *
 *   npm run test:kills -- [--kills 100] [--seed 1]     (about half trainings, half sweeps)
 *
 * test/unit/crash-consistency.test.ts runs a small version, and the kill at every rename.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { COMMIT_JOURNAL, pendingText } from '../src/core/io/atomic';
import { readLayersModelArtifacts } from '../src/core/io/layersModelFiles';
import { readModelMeta } from '../src/core/io/modelLocation';
import { readResultsFile } from '../src/core/sweep/results';
import type { CellResult } from '../src/core/sweep/types';
import { Random } from '../src/core/random';

const ROOT = path.resolve(__dirname, '..');
// The built CLI, as users run it (npm run test:kills builds it first; its start is also much quicker than tsx's).
const CLI = [path.join(ROOT, 'dist/cli.js')];
const sha = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** A file's committed text as a reader sees it (through a pending commit journal). */
export const committedText = (file: string) => pendingText(file) ?? fs.readFileSync(file, 'utf8');

/** A model folder as the engine's readers load it: its weights and gccs.json (without times); null when there is no model yet. */
export function modelState(dir: string): { weights: string; meta: string } | null {
  const modelJson = path.join(dir, 'model.json');
  if (pendingText(modelJson) === null && !fs.existsSync(modelJson)) return null;
  const weights = new Uint8Array(readLayersModelArtifacts(modelJson).weightData as ArrayBuffer);
  const meta = readModelMeta(modelJson)!;
  const timeless = { ...meta, createdAt: null, trainingSeconds: null, epochs: meta.epochs.map((e) => ({ ...e, seconds: null })) };
  return { weights: sha(weights), meta: JSON.stringify(timeless) };
}

/** The epoch a checkpoint holds, after checking it is whole (every file has the hash its state.json gives); null when there is none. */
export function checkpointEpoch(dir: string): number | null {
  const stateFile = path.join(dir, 'state.json');
  if (pendingText(stateFile) === null && !fs.existsSync(stateFile)) return null;
  const state = JSON.parse(committedText(stateFile));
  for (const [name, hash] of Object.entries(state.files as Record<string, string>)) {
    const file = path.join(dir, name);
    const bytes = name === 'model.json' ? committedText(file) : fs.readFileSync(file);
    if (sha(bytes) !== hash) throw new Error(`torn checkpoint: ${file} is not the one ${stateFile} describes`);
  }
  return state.epochsDone;
}

/** Temporary files, a pending journal or more than one weight shard / optimizer file left in a finished model folder. */
export function leftovers(dir: string): string[] {
  const found: string[] = [];
  for (const folder of [dir, path.join(dir, 'checkpoint')]) {
    const names = fs.readdirSync(folder);
    found.push(...names.filter((n) => n.includes('.tmp-') || n === COMMIT_JOURNAL).map((n) => path.join(folder, n)));
    for (const prefix of folder === dir ? ['weights.'] : ['weights.', 'optimizer.']) {
      const files = names.filter((n) => n.startsWith(prefix));
      if (files.length !== 1) found.push(`${folder}: ${files.length} ${prefix}* files`);
    }
  }
  return found;
}

/** A result line without what depends on timing. */
const timeless = ({ seconds: _s, finishedAt: _f, ...rest }: CellResult) => JSON.stringify(rest);

export interface HarnessOptions {
  kills: number;
  seed: number;
  log?: (line: string) => void;
}

export interface HarnessReport {
  trainingKills: number;
  sweepKills: number;
  /** Runs each killed one or more times, then resumed to the end. */
  trainingEpisodes: number;
  /** Training kills that landed within a save (a temporary file or a commit journal was left). */
  midSaveKills: number;
  sweepEpisodes: number;
  problems: string[];
}

interface Ended {
  code: number | null;
  signal: string | null;
  stderr: string;
}

interface Run {
  child: ChildProcess;
  done: Promise<Ended>;
}

function start(args: string[]): Run {
  // Its own process group, so that a kill of the whole group (host and sweep workers) is possible too.
  const child = spawn(process.execPath, [...CLI, ...args], { cwd: ROOT, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const done = new Promise<Ended>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
  return { child, done };
}

function gccsSync(args: string[]): void {
  const run = spawnSync(process.execPath, [...CLI, ...args], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`gccs ${args.join(' ')} failed: ${run.stderr}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

interface KilledRun {
  killed: boolean;
  code: number | null;
  stderr: string;
  /** Processes of its group (sweep workers) still running 30 s after it ended. */
  orphans: boolean;
}

/** Runs `args`, SIGKILLs it (the host, or its whole process group) after `delayMs` unless it ended first. */
async function runKilled(args: string[], delayMs: number, wholeGroup: boolean): Promise<KilledRun> {
  const run = start(args);
  const timer = setTimeout(() => {
    try {
      process.kill(wholeGroup ? -run.child.pid! : run.child.pid!, 'SIGKILL');
    } catch {
      // Ended meanwhile.
    }
  }, delayMs);
  const { code, signal, stderr } = await run.done;
  clearTimeout(timer);
  // A sweep's workers end when their host's channel closes: none may outlive it for long.
  let waited = 0;
  while (groupAlive(run.child.pid!) && waited < 30_000) {
    await sleep(100);
    waited += 100;
  }
  const orphans = groupAlive(run.child.pid!);
  if (orphans) process.kill(-run.child.pid!, 'SIGKILL');
  return { killed: signal === 'SIGKILL', code, stderr, orphans };
}

type ModelState = ReturnType<typeof modelState>;

/** Training: 4 epochs of a small MLP (over an older model, another seed, half of the time). */
const trainArgs = (out: string, runSeed: number, epochs: number) => [
  ...['train', '--dataset', 'synthetic', '--synthetic-train', '400', '--synthetic-test', '100', '--model', 'mlp', '--batch-size', '50', '--backend', 'wasm'],
  ...['--seed', String(runSeed), '--epochs', String(epochs), '--out', out, '--keep-checkpoint'],
];

/** Sweeps: 9 cells of the reference model on 2 workers, with a report. */
const sweepArgs = (config: string, out: string, resume: boolean) => [
  ...['sweep', '--config', config, '--out', out, '--workers', '2', '--backend', 'wasm'],
  ...(resume ? ['--resume'] : []),
];

/** The uninterrupted runs every episode is compared with, and how long they took. */
interface References {
  old: string;
  oldModel: ModelState;
  newModel: NonNullable<ModelState>;
  trainMs: number;
  config: string;
  sweepMs: number;
  expectedLines: Set<string>;
  configHash: string;
}

/** What the episodes share: the generator of kill times, the report, and the references. */
interface Harness {
  work: string;
  random: Random;
  report: HarnessReport;
  problem: (text: string) => void;
  log: (line: string) => void;
  refs: References;
}

function referenceRuns(work: string, log: (line: string) => void): References {
  const old = path.join(work, 'old');
  gccsSync(trainArgs(old, 7, 1));
  const oldModel = modelState(old);
  const reference = path.join(work, 'reference');
  let started = performance.now();
  gccsSync(trainArgs(reference, 1, 4));
  const trainMs = performance.now() - started;
  const newModel = modelState(reference)!;

  const config = path.join(work, 'sweep.json');
  const attacks = [{ name: 'fgsm', eps: [0, 0.05, 0.1, 0.15, 0.2, 0.25] }, { name: 'pgd', eps: [0.05, 0.1], params: { steps: 5 } }, { name: 'deepfool', params: { maxIterations: 5 } }];
  fs.writeFileSync(config, JSON.stringify({ models: [reference], attacks, count: 50, batchSize: 50, seed: 3 }));
  const referenceResults = path.join(work, 'reference.jsonl');
  started = performance.now();
  gccsSync(sweepArgs(config, referenceResults, false));
  const sweepMs = performance.now() - started;
  const expectedLines = new Set(readResultsFile(referenceResults).results.map(timeless));
  const configHash = readResultsFile(referenceResults).results[0].configHash;
  log(`reference runs: training ${(trainMs / 1000).toFixed(1)} s, sweep ${(sweepMs / 1000).toFixed(1)} s (${expectedLines.size} cells)`);
  return { old, oldModel, newModel, trainMs, config, sweepMs, expectedLines, configHash };
}

/** After a kill: the model folder holds the old or the new model (never neither) and the checkpoint is whole. */
function checkKilledTraining({ problem, refs }: Harness, dir: string, overOld: boolean, label: string): void {
  try {
    const state = modelState(dir);
    const allowed = [refs.newModel, ...(overOld ? [refs.oldModel] : [])];
    if (state && !allowed.some((m) => m && m.weights === state.weights && m.meta === state.meta)) problem(`${label}: the model folder holds neither the old nor the new model`);
    if (!state && overOld) problem(`${label}: the older model was lost`);
    if (fs.existsSync(path.join(dir, 'checkpoint'))) checkpointEpoch(path.join(dir, 'checkpoint'));
  } catch (error) {
    problem(`${label}: ${(error as Error).message}`);
  }
}

/** One training, killed 1 to 3 times (while kills are wanted), then resumed to the end and compared with the reference. */
async function trainingEpisode(harness: Harness, episode: number, trainingTarget: number): Promise<void> {
  const { random, report, problem, refs } = harness;
  report.trainingEpisodes++;
  const dir = path.join(harness.work, `train-${episode}`);
  const overOld = random.next() < 0.5;
  if (overOld) fs.cpSync(refs.old, dir, { recursive: true });
  const episodeKills = 1 + Math.floor(random.next() * 3);
  let resume = false;
  for (let attempt = 0; ; attempt++) {
    const killing = report.trainingKills < trainingTarget && attempt < episodeKills;
    const delay = killing ? random.next() * refs.trainMs : 3_600_000;
    const outcome = await runKilled([...trainArgs(dir, 1, 4), ...(resume ? ['--resume'] : [])], delay, false);
    if (!outcome.killed && outcome.code !== 0) {
      if (resume && /no checkpoint to resume|different training configuration/.test(outcome.stderr)) {
        resume = false;
        continue;
      }
      problem(`training episode ${episode}: exit ${outcome.code}: ${outcome.stderr.trim().split('\n').pop()}`);
      return;
    }
    if (!outcome.killed) break;
    report.trainingKills++;
    const inSave = [dir, path.join(dir, 'checkpoint')].some((folder) => fs.existsSync(folder) && fs.readdirSync(folder).some((n) => n.includes('.tmp-') || n === COMMIT_JOURNAL));
    if (inSave) report.midSaveKills++;
    checkKilledTraining(harness, dir, overOld, `training episode ${episode}, kill ${attempt + 1}`);
    const where = `episode ${episode}${overOld ? ', over an older model' : ''}${inSave ? ', within a save' : ''}`;
    harness.log(`training kill ${report.trainingKills}/${trainingTarget} after ${(delay / 1000).toFixed(2)} s (${where})`);
    resume = true;
  }
  const final = modelState(dir);
  if (!final || final.weights !== refs.newModel.weights || final.meta !== refs.newModel.meta) problem(`training episode ${episode}: the resumed run differs from the uninterrupted one`);
  const left = leftovers(dir);
  if (left.length) problem(`training episode ${episode}: left behind ${left.join(', ')}`);
}

/** The results file after a run: only whole lines of this sweep, each cell once; when the run finished, every cell, a whole report and no temporary file. */
function checkSweepResults({ work, problem, refs }: Harness, out: string, finished: boolean, episode: number): void {
  try {
    const results = fs.existsSync(out) ? readResultsFile(out).results : [];
    const ids = results.map((r) => r.cell.id);
    if (new Set(ids).size !== ids.length) problem(`sweep episode ${episode}: a cell was written twice`);
    if (results.some((r) => r.configHash !== refs.configHash || !refs.expectedLines.has(timeless(r)))) problem(`sweep episode ${episode}: a line that the uninterrupted sweep does not have`);
    const reportFile = `${out}.html`;
    if (fs.existsSync(reportFile) && !fs.readFileSync(reportFile, 'utf8').trimEnd().endsWith('</html>')) problem(`sweep episode ${episode}: a partial report`);
    if (finished && results.length !== refs.expectedLines.size) problem(`sweep episode ${episode}: finished with ${results.length} of ${refs.expectedLines.size} cells`);
    const temps = fs.readdirSync(work).filter((n) => n.startsWith(path.basename(out)) && n.includes('.tmp-'));
    if (finished && temps.length) problem(`sweep episode ${episode}: left behind ${temps.join(', ')}`);
  } catch (error) {
    problem(`sweep episode ${episode}: ${(error as Error).message}`);
  }
}

/** One sweep, killed 1 to 3 times (the host alone or with its workers) while kills are wanted, resumed until it finishes. */
async function sweepEpisode(harness: Harness, episode: number, sweepTarget: number): Promise<void> {
  const { random, report, problem, refs } = harness;
  report.sweepEpisodes++;
  const out = path.join(harness.work, `sweep-${episode}.jsonl`);
  const episodeKills = 1 + Math.floor(random.next() * 3);
  for (let attempt = 0; ; attempt++) {
    const killing = report.sweepKills < sweepTarget && attempt < episodeKills;
    const delay = killing ? random.next() * refs.sweepMs : 3_600_000;
    const wholeGroup = random.next() < 0.5;
    const outcome = await runKilled(sweepArgs(refs.config, out, fs.existsSync(out) && fs.statSync(out).size > 0), delay, wholeGroup);
    if (outcome.orphans) problem(`sweep episode ${episode}: a worker outlived its killed host`);
    if (!outcome.killed && outcome.code !== 0) {
      problem(`sweep episode ${episode}: exit ${outcome.code}: ${outcome.stderr.trim().split('\n').pop()}`);
      return;
    }
    checkSweepResults(harness, out, !outcome.killed, episode);
    if (!outcome.killed) return;
    report.sweepKills++;
    harness.log(`sweep kill ${report.sweepKills}/${sweepTarget} after ${(delay / 1000).toFixed(2)} s (${wholeGroup ? 'host and workers' : 'host only'}, episode ${episode})`);
  }
}

export async function runKillHarness({ kills, seed, log = () => undefined }: HarnessOptions): Promise<HarnessReport> {
  if (!fs.existsSync(CLI[0])) throw new Error(`${CLI[0]} is missing: run npm run build first`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-kills-'));
  const report: HarnessReport = { trainingKills: 0, sweepKills: 0, trainingEpisodes: 0, sweepEpisodes: 0, midSaveKills: 0, problems: [] };
  const problem = (text: string) => {
    report.problems.push(text);
    log(`PROBLEM: ${text}`);
  };
  const harness: Harness = { work, random: new Random(seed), report, problem, log, refs: referenceRuns(work, log) };
  const trainingTarget = Math.ceil(kills / 2);
  for (let episode = 0; report.trainingKills < trainingTarget; episode++) await trainingEpisode(harness, episode, trainingTarget);
  const sweepTarget = kills - trainingTarget;
  for (let episode = 0; report.sweepKills < sweepTarget; episode++) await sweepEpisode(harness, episode, sweepTarget);
  fs.rmSync(work, { recursive: true, force: true });
  return report;
}

async function main(argv: string[]): Promise<number> {
  const flag = (name: string, fallback: number) => {
    const at = argv.indexOf(`--${name}`);
    return at >= 0 ? Number(argv[at + 1]) : fallback;
  };
  const started = performance.now();
  const report = await runKillHarness({ kills: flag('kills', 100), seed: flag('seed', 1), log: (line) => console.log(line) });
  console.log(
    `${report.trainingKills + report.sweepKills} kills (${report.trainingKills} of trainings in ${report.trainingEpisodes} runs resumed to the end, ${report.midSaveKills} of them within a save; ${report.sweepKills} of sweeps in ${report.sweepEpisodes}) in ${((performance.now() - started) / 60000).toFixed(1)} min: ${report.problems.length} problems`,
  );
  return report.problems.length ? 1 : 0;
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
