/** `gccs attack` and `gccs sweep`: robustness sweeps on a pool of worker processes. */
import * as path from 'node:path';
import { ATTACK_NAMES, AttackName, AttackParams, CATALOG, Catalog, DATASET_KINDS, PARAMS, sweepSchema } from '../core/catalog';
import type { BackendName } from '../core/backend';
import { UserError } from '../core/errors';
import { JobCancelled } from '../core/workerClient';
import { SWEEP_DEFAULTS, SWEEP_SCHEMA, SweepConfigError, describeCell, loadSweepConfig } from '../core/sweep/config';
import type { JsonSchema } from '../core/sweep/jsonSchema';
import { runSweep, sweepEventLine } from '../core/sweep/pool';
import { formatEstimate } from '../core/robustness/estimate';
import { estimateCells } from '../core/sweep/estimate';
import { formatSummary } from '../core/sweep/summary';
import type { SweepAttackConfig, SweepConfig } from '../core/sweep/types';
import type { FlagSpec, FlagSpecs, ParsedFlags } from './args';
import type { CommandContext } from './commands';
import { OutputPath, checkOutputs } from './outputPaths';
import { ProgressBar } from './progress';

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

const RUN_FLAGS: FlagSpecs = {
  out: { type: 'string', description: 'append each finished cell to this JSON Lines file' },
  resume: { type: 'boolean', description: 'continue the sweep whose results are in --out, skipping its finished cells' },
  workers: { type: 'integer', description: 'worker processes', default: 'the number of cores' },
  report: { type: 'string', description: 'write the HTML report here', default: '<out>.html, when there is an --out' },
};

/** The attack parameters of the sweep schema (the catalog's), as flags: stepSize → --step-size. */
function paramFlags(schemas: Record<string, JsonSchema>): FlagSpecs {
  return Object.fromEntries(
    Object.entries(schemas).map(([key, schema]): [string, FlagSpec] => {
      const type = schema.type === 'integer' || schema.type === 'number' || schema.type === 'boolean' ? schema.type : 'string';
      const shown = { description: schema.description ?? key, ...(schema.default !== undefined && { default: String(schema.default) }) };
      return [kebab(key), { type, ...shown, ...(schema.enum && { choices: schema.enum as string[] }) }];
    }),
  );
}

const PARAM_SCHEMAS = SWEEP_SCHEMA.$defs!.attack.properties!.params.properties!;

const ATTACK_RUN_FLAGS: FlagSpecs = {
  count: { type: 'integer', description: 'attack the first N test samples', default: String(SWEEP_DEFAULTS.count) },
  'batch-size': { type: 'integer', description: 'attack batch size', default: String(SWEEP_DEFAULTS.batchSize) },
  seed: { type: 'integer', description: 'attack seed (batch i uses seed + i)', default: String(SWEEP_DEFAULTS.seed) },
  dataset: { type: 'string', choices: DATASET_KINDS, description: "attack on this dataset instead of the model's own test split" },
  data: { type: 'string', description: 'folder of --dataset' },
  'test-range': { type: 'string', description: 'test examples of --dataset as start:end indices into its pool' },
  ...RUN_FLAGS,
};

/** The flags of `gccs attack`, made from the catalog (a test gives one with more attacks). */
export function attackFlags(catalog: Catalog = CATALOG): FlagSpecs {
  const attack = sweepSchema(SWEEP_SCHEMA, catalog).$defs!.attack.properties!;
  const grid = (key: 'eps' | 'iterations' | 'samples') => `${attack[key].description}: start:stop:step (stop included) or a comma list`;
  return {
    model: { type: 'string', description: 'model folder, model.json or gccs.json (required)' },
    attack: { type: 'string', choices: attack.name.enum as string[], description: 'attack (required)' },
    eps: { type: 'string', description: `${grid('eps')}, e.g. 0:0.1:0.01`, default: String(PARAMS.eps.default) },
    iterations: { type: 'string', description: grid('iterations'), default: String(PARAMS.iterations.default) },
    samples: { type: 'string', description: grid('samples'), default: String(PARAMS.samples.default) },
    ...paramFlags(attack.params.properties!),
    ...ATTACK_RUN_FLAGS,
  };
}

export const ATTACK_FLAGS = attackFlags();

export const SWEEP_FLAGS: FlagSpecs = {
  config: { type: 'string', description: 'sweep configuration (JSON, see schema/sweep.schema.json; required)' },
  ...RUN_FLAGS,
  out: { ...RUN_FLAGS.out, default: '<config>.results.jsonl' },
  report: { ...RUN_FLAGS.report, default: '<out>.html' },
};

const str = (flags: ParsedFlags, name: string) => flags[name] as string | undefined;
const defined = <T extends object>(value: T) => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

/** The flag a configuration path comes from, so `gccs attack` errors name flags. */
function flagOf(at: (string | number)[]): string | undefined {
  const key = at.filter((part): part is string => typeof part === 'string').pop() ?? '';
  const flag = ({ models: 'model', name: 'attack', kind: 'dataset', path: 'data' } as Record<string, string>)[key] ?? kebab(key);
  return flag in ATTACK_FLAGS ? flag : undefined;
}

function attackConfig(flags: ParsedFlags): SweepConfig {
  const model = str(flags, 'model');
  const name = str(flags, 'attack') as AttackName | undefined;
  if (!model) throw new UserError('flag --model is required (a model folder, model.json or gccs.json)');
  if (!name) throw new UserError(`flag --attack is required (${ATTACK_NAMES.join(', ')})`);
  const params = Object.fromEntries(
    Object.keys(PARAM_SCHEMAS).flatMap((key) => {
      const value = flags[kebab(key)];
      if (value === undefined) return [];
      // A class index is a number; next and least-likely are words.
      return [[key, key === 'target' && /^\d+$/.test(value as string) ? Number(value) : value]];
    }),
  ) as AttackParams;
  const attack: SweepAttackConfig = defined({ name, params, eps: str(flags, 'eps'), iterations: str(flags, 'iterations'), samples: str(flags, 'samples') });
  const dataset = str(flags, 'dataset');
  if (!dataset && (flags.data !== undefined || flags['test-range'] !== undefined)) {
    throw new UserError("flag --dataset is required with --data or --test-range (without all three, the model's own test split is used)");
  }
  return defined({
    models: [model],
    attacks: [attack],
    data: dataset ? (defined({ kind: dataset, path: str(flags, 'data'), testRange: str(flags, 'test-range') }) as SweepConfig['data']) : undefined,
    count: flags.count as number | undefined,
    batchSize: flags['batch-size'] as number | undefined,
    seed: flags.seed as number | undefined,
  });
}

/** Default report: the results file with .html for .jsonl. */
const reportBeside = (results: string) => results.replace(/\.jsonl$/, '') + '.html';

/** The results and report files, checked before anything is written (see checkOutputs). */
function outputs(out: string | undefined, report: string | undefined): OutputPath[] {
  return [
    ...(out ? [{ flag: 'out', path: out, kind: 'file' as const }] : []),
    ...(report ? [{ flag: 'report', path: report, kind: 'file' as const }] : []),
  ];
}

/**
 * Runs a sweep with Ctrl-C / SIGTERM cancelling it, shows progress, prints the tables and
 * warnings and writes the report.
 */
async function runAndReport(config: SweepConfig, label: string, out: string | undefined, reportFile: string | undefined, { flags, log }: CommandContext) {
  const controller = new AbortController();
  const cancel = () => controller.abort();
  process.once('SIGINT', cancel);
  process.once('SIGTERM', cancel);
  const bar = flags.json ? null : new ProgressBar();
  let backend: string | undefined;
  const workers = flags.workers as number | undefined;
  const backendName = (flags.backend as BackendName | undefined) ?? 'auto';
  try {
    const result = await runSweep(config, {
      workers,
      backend: backendName,
      // First, before the workers start: how long the cells still to run will take (each model timed in a worker).
      beforeStart: async (pending, size) =>
        log(`estimated time: ${formatEstimate(await estimateCells(pending, { workers: size, backend: backendName, signal: controller.signal }))}`),
      resultsFile: out,
      reportFile,
      resume: Boolean(flags.resume),
      signal: controller.signal,
      label,
      onEvent: (event) => {
        if (event.type === 'workerReady') {
          if (backend === undefined) log(`backend: ${event.backend}${flags.verbose ? ` (${event.detail})` : ''}`);
          backend = event.backend;
        } else if (event.type === 'progress') bar?.update(describeCell(event.cell), event.done, event.total);
        if (event.type === 'cellDone') bar?.clear();
        const line = sweepEventLine(event, out);
        if (line !== undefined) log(line);
      },
    });
    const { summary } = result;
    log('');
    formatSummary(summary).forEach((line) => log(line));
    if (reportFile) log(`report: ${reportFile}`);
    if (out) log(`results: ${out}`);
    return {
      backend: summary.backends[0],
      configHash: result.configHash,
      resultsFile: out ?? null,
      reportFile: reportFile ?? null,
      cells: result.cells.length,
      ran: result.ran,
      warnings: summary.warnings,
      results: result.results,
    };
  } catch (error) {
    if (error instanceof JobCancelled) throw new UserError('cancelled before the first cell');
    throw error;
  } finally {
    bar?.clear();
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
  }
}

export async function attackCommand(context: CommandContext) {
  const { flags } = context;
  const out = str(flags, 'out');
  if (flags.resume && !out) throw new UserError('flag --resume needs --out (the results file to continue)');
  const report = str(flags, 'report') ?? (out && reportBeside(out));
  checkOutputs(outputs(out, report));
  try {
    return await runAndReport(attackConfig(flags), 'gccs attack', out, report, context);
  } catch (error) {
    // Name the flag a configuration problem comes from.
    const flag = error instanceof SweepConfigError ? flagOf(error.path) : undefined;
    if (error instanceof SweepConfigError && flag) throw new UserError(`flag --${flag}: ${error.problem}`);
    throw error;
  }
}

export async function sweepCommand(context: CommandContext) {
  const file = str(context.flags, 'config');
  if (!file) throw new UserError('flag --config is required (a sweep configuration, see schema/sweep.schema.json)');
  const out = str(context.flags, 'out') ?? path.join(path.dirname(file), `${path.basename(file, '.json')}.results.jsonl`);
  const report = str(context.flags, 'report') ?? reportBeside(out);
  checkOutputs(outputs(out, report), [{ flag: 'config', path: file }]);
  return runAndReport(loadSweepConfig(file), file, out, report, context);
}
