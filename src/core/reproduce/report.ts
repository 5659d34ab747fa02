/**
 * The report of a reproduction, laid out like the paper's tables: Table 3 (r_AB), 4 (accuracy),
 * 5 (F-score), 6 (DeepFool ρ), 7 (SPSA IT × BS), 8 (training time and overhead over cross-entropy),
 * Figure 3 as a latent scatter per attack and model, and Figures 4–5 as accuracy-vs-ε tables and
 * charts with the per-sample worst case of the strong evaluation beside the paper's attacks; every
 * setting, and every diagnostic that fired.
 * Written as JSON, Markdown and a self-contained HTML page (the sweep report's page).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic';
import type { ScatterChart, SummaryChart, SummarySection, SummaryTable } from '../sweep/summary';
import { renderPage } from '../sweep/report';
import { ENGINE_VERSION } from '../version';
import { ATTACK_DEFAULTS, PlannedModelSpec, ROBUSTNESS_PRESET, SCALES, SPSA_TABLE_MODELS } from './plan';
import type { LatentFigure } from './figure3';
import type { ReportFiles } from './types';

export type { ReportFiles } from './types';
import type { ReproductionPlan } from './plan';
import { ModelOutcome, ReproduceOptions, ReproductionOutcome, runReproduction } from './run';

/** This machine, for the report: CPU, cores, memory, platform, Node. */
export function machineDescription(): string {
  return `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.arch()}, Node ${process.version}`;
}

/** Where the report was made (for the reader: CPU, cores, backend, command). */
export interface ReportContext {
  backend: string;
  machine: string;
  command?: string;
}

const METHODS: PlannedModelSpec['method'][] = ['No defence', 'JR', 'IGR', 'CLR', 'GCCS'];
const pct = (value: number | null | undefined) => (value === null || value === undefined || Number.isNaN(value) ? '—' : `${(100 * value).toFixed(1)}%`);
const fixed = (value: number | null | undefined, digits: number) =>
  value === null || value === undefined || Number.isNaN(value) ? '—' : value.toFixed(digits);

/** The report's data: settings, per-model numbers, the tables. */
export function reportData(outcome: ReproductionOutcome, context: ReportContext) {
  const { plan } = outcome;
  const sweepResults = outcome.sweeps.flatMap((s) => s.results);
  const cellsOf = (m: ModelOutcome, attack: string) => sweepResults.filter((r) => r.cell.model === m.model.dir && r.cell.attack === attack);
  const models = outcome.models.map((m) => {
    const r = m.evaluation.robustness;
    const spsaPoint = plan.settings.spsa;
    const deepfool = cellsOf(m, 'deepfool')[0];
    const jsma = cellsOf(m, 'jsma')[0];
    return {
      id: m.model.id,
      method: m.model.method,
      training: m.model.training,
      from: m.model.from ?? null,
      dir: m.model.dir,
      trainConfig: m.model.config,
      trainingSeconds: m.meta.trainingSeconds,
      epochs: m.meta.epochs.length,
      backend: m.meta.backend,
      clean: {
        accuracy: m.evaluation.clean.accuracy,
        macroF1: m.evaluation.clean.macroF1,
        rAB: m.evaluation.clean.separation,
        meanDistanceRatio: m.evaluation.clean.meanDistanceRatio,
        count: m.evaluation.clean.count,
      },
      robustness: {
        count: r.count,
        cleanAccuracy: r.cleanAccuracy,
        eps: r.eps.map((e) => ({
          eps: e.eps,
          attacks: Object.fromEntries(e.runs.map((run) => [run.label, run.accuracy])),
          paper: e.paper,
          worstCase: e.worstAccuracy,
          spsa:
            cellsOf(m, 'spsa').find((c) => c.cell.eps === e.eps && c.cell.iterations === spsaPoint.iterations && c.cell.samples === spsaPoint.samples)
              ?.accuracy ?? null,
        })),
        deepfool: deepfool ? { accuracy: deepfool.accuracy, rho: deepfool.rho ?? null } : null,
        jsma: jsma ? { accuracy: jsma.accuracy, changedPixels: jsma.meanChangedPixels ?? null } : null,
        flagged: r.diagnostics.filter((d) => !d.ok).map((d) => d.message),
        verdict: r.verdict,
      },
      modelJson: m.evaluation.model,
    };
  });
  return {
    tool: 'gccs reproduce',
    engineVersion: ENGINE_VERSION,
    writtenAt: new Date().toISOString(),
    ...context,
    scale: { name: plan.scaleName, description: SCALES[plan.scaleName].description },
    settings: {
      ...plan.settings,
      robustnessPreset: ROBUSTNESS_PRESET,
      attack: ATTACK_DEFAULTS,
      dataset: plan.dataset,
      attackParameters: attackParameters(outcome),
    },
    models,
    figure3: outcome.figures.map(({ id, figure }) => ({ id, method: outcome.models.find((m) => m.model.id === id)?.model.method ?? id, ...figure })),
    sweeps: outcome.sweeps.map((s) => ({ name: s.name, file: s.file, cells: s.results.length })),
    tables: paperTables(outcome),
  };
}

/** Every attack's resolved parameters (ε aside), by the label the tables use. */
function attackParameters(outcome: ReproductionOutcome): Record<string, unknown> {
  const strip = (params: object) => Object.fromEntries(Object.entries(params).filter(([key]) => key !== 'eps'));
  const first = outcome.models[0]?.evaluation.robustness;
  const fromEvaluation = (first?.eps[0]?.runs ?? []).map((run) => [run.label, strip(run.params)]);
  const fromSweeps = outcome.sweeps.flatMap((sweep) =>
    sweep.results.map((r) => [
      `${r.cell.attack}${r.cell.iterations === null ? '' : ` IT ${r.cell.iterations}`}${r.cell.samples === null ? '' : ` BS ${r.cell.samples}`}`,
      strip(r.cell.params),
    ]),
  );
  return Object.fromEntries([...fromEvaluation, ...fromSweeps]);
}

function paperTables(outcome: ReproductionOutcome): { tables: SummaryTable[]; robustness: SummarySection[] } {
  const { plan } = outcome;
  const find = (method: string, training: string) => outcome.models.find((m) => m.model.method === method && m.model.training === training);
  const sweepResults = outcome.sweeps.flatMap((s) => s.results);
  const byMethod = (title: string, columns: [string, string][], cell: (m: ModelOutcome) => string): SummaryTable => ({
    title,
    columns: ['method', ...columns.map(([, label]) => label)],
    rows: METHODS.map((method) => [
      method,
      ...columns.map(([training]) => {
        const m = find(method, training);
        return m ? cell(m) : '—';
      }),
    ]),
  });
  const regularFineTuning: [string, string][] = [
    ['regular', 'regular training'],
    ['fine-tuning', 'fine-tuning'],
  ];
  const withAdversarial: [string, string][] = [...regularFineTuning, ['adversarial', 'adversarial training']];
  const regularAdversarial: [string, string][] = [
    ['regular', 'regular training'],
    ['adversarial', 'adversarial training'],
  ];
  const rab = (m: ModelOutcome) => {
    const s = m.evaluation.clean.separation;
    return s.pairs ? `${s.mean.toFixed(2)} (${s.ci95[0].toFixed(2)}–${s.ci95[1].toFixed(2)})` : '—';
  };
  const deepfool = (m: ModelOutcome) => fixed(sweepResults.find((r) => r.cell.model === m.model.dir && r.cell.attack === 'deepfool')?.rho, 4);
  // Per epoch: a fine-tuning of 2 epochs is compared with cross-entropy's 3 regular ones.
  const perEpoch = (m: ModelOutcome) => m.meta.trainingSeconds / Math.max(1, m.meta.epochs.length);
  const seconds = (m: ModelOutcome, reference: ModelOutcome | undefined) => {
    const own = `${m.meta.trainingSeconds.toFixed(1)} s, ${perEpoch(m).toFixed(1)} s/epoch`;
    if (!reference || reference === m) return own;
    const overhead = (100 * (perEpoch(m) - perEpoch(reference))) / perEpoch(reference);
    return `${own} (${overhead >= 0 ? '+' : ''}${overhead.toFixed(0)}%)`;
  };
  const tables: SummaryTable[] = [
    byMethod('Table 3 — r_AB (equations 4–6), mean over ordered class pairs (95% CI), whole test split', regularFineTuning, rab),
    byMethod('Table 4 — test accuracy, whole test split, no attack', withAdversarial, (m) => pct(m.evaluation.clean.accuracy)),
    byMethod('Table 5 — macro F-score, whole test split, no attack', withAdversarial, (m) => fixed(m.evaluation.clean.macroF1, 4)),
    byMethod(
      `Table 6 — DeepFool ρ (mean ‖r‖₂/‖x‖₂ of the samples classified correctly), first ${plan.settings.count} test samples`,
      regularAdversarial,
      deepfool,
    ),
    byMethod(
      'Table 8 — training time of this run (fine-tuning and adversarial training: the fine-tuning alone), with the overhead per epoch over cross-entropy trained the same way (fine-tuning: over its regular epochs)',
      withAdversarial,
      (m) => seconds(m, find('No defence', m.model.training === 'fine-tuning' ? 'regular' : m.model.training)),
    ),
  ];
  // Table 7: SPSA's IT × BS grid at one ε, rows IT, columns BS.
  const { spsa, spsaTableEps } = plan.settings;
  for (const id of SPSA_TABLE_MODELS) {
    const m = outcome.models.find((o) => o.model.id === id);
    if (!m) continue;
    const cells = sweepResults.filter((r) => r.cell.model === m.model.dir && r.cell.attack === 'spsa' && r.cell.eps === spsaTableEps);
    tables.splice(tables.length - 1, 0, {
      title: `Table 7 — SPSA accuracy, ${m.model.method} (${m.model.id}), ε = ${spsaTableEps}: rows IT, columns BS`,
      columns: ['IT \\ BS', ...spsa.tableSamples.map(String)],
      rows: spsa.tableIterations.map((it) => [
        String(it),
        ...spsa.tableSamples.map((bs) => pct(cells.find((c) => c.cell.iterations === it && c.cell.samples === bs)?.accuracy)),
      ]),
    });
  }
  return { tables, robustness: [...robustnessSections(outcome), ...figure3Sections(outcome)] };
}

/** The paper's colours for classes 0, 1 and 9 (red, green, blue). */
const CLASS_COLOURS = ['#d62728', '#2ca02c', '#1f77b4'];

/** Figure 3: per model, a scatter per panel (no attack, FGSM, PGD, TGSM, JSMA) and a table of what each attack did to the shown samples. */
function figure3Sections(outcome: ReproductionOutcome): SummarySection[] {
  const scatter = (figure: LatentFigure, panel: LatentFigure['panels'][number]): ScatterChart => ({
    title: `${panel.label}${panel.eps === null ? '' : ` ε ${panel.eps}`}: ${pct(panel.accuracy)}`,
    axes: figure.axes,
    series: [
      ...figure.classes.map((k, c) => ({
        label: `class ${k}`,
        colour: CLASS_COLOURS[c],
        marker: 'circle' as const,
        points: panel.points.filter((_, n) => figure.labels[n] === k),
      })),
      { label: 'vertices', colour: '#888', marker: 'triangle' as const, points: figure.vertices },
    ],
  });
  return outcome.figures.map(({ id, figure }) => {
    const model = outcome.models.find((m) => m.model.id === id);
    const name = model ? modelName(model) : id;
    const counts = figure.classes.map((k) => `${figure.labels.filter((label) => label === k).length} of class ${k}`).join(', ');
    return {
      title: `Figure 3 — latent space of classes ${figure.classes.join(', ')}: ${name}`,
      parameters: [
        `the first test samples of each class (${counts}); z projected onto the plane of the classes' vertices ${figure.scale}·e_k (the latent panel's vertex view)`,
        'accuracy: of the shown samples after the attack; shift: mean ‖z_attacked − z‖₂',
      ],
      scatters: figure.panels.map((panel) => scatter(figure, panel)),
      tables: [
        {
          title: `Figure 3 — ${name}: what each attack did to the shown samples`,
          columns: ['attack', 'ε', 'accuracy', 'shift'],
          rows: figure.panels.map((p) => [p.label, p.eps === null ? '—' : String(p.eps), pct(p.accuracy), fixed(p.meanShift, 2)]),
        },
      ],
    };
  });
}

/** Figures 4–5 as tables per ε and charts per attack: the paper's attacks, SPSA, and the quick preset's per-sample worst case beside them. */
function robustnessSections(outcome: ReproductionOutcome): SummarySection[] {
  const { plan } = outcome;
  const sweepResults = outcome.sweeps.flatMap((s) => s.results);
  const spsaAt = (m: ModelOutcome, eps: number) =>
    sweepResults.find(
      (r) =>
        r.cell.model === m.model.dir &&
        r.cell.attack === 'spsa' &&
        r.cell.eps === eps &&
        r.cell.iterations === plan.settings.spsa.iterations &&
        r.cell.samples === plan.settings.spsa.samples,
    )?.accuracy;
  const runAt = (m: ModelOutcome, eps: number, label: string) =>
    m.evaluation.robustness.eps.find((e) => e.eps === eps)?.runs.find((r) => r.label === label)?.accuracy;
  const worstAt = (m: ModelOutcome, eps: number) => m.evaluation.robustness.eps.find((e) => e.eps === eps)?.worstAccuracy;
  const paperLabels = [
    ...new Set(outcome.models.flatMap((m) => m.evaluation.robustness.eps.flatMap((e) => e.runs.filter((r) => r.protocol === 'paper').map((r) => r.label)))),
  ];
  const presetLabels = [
    ...new Set(outcome.models.flatMap((m) => m.evaluation.robustness.eps.flatMap((e) => e.runs.filter((r) => r.protocol === 'preset').map((r) => r.label)))),
  ];
  const spsaLabel = `SPSA (IT ${plan.settings.spsa.iterations}, BS ${plan.settings.spsa.samples})`;
  const name = modelName;
  const series: [string, (m: ModelOutcome, eps: number) => number | undefined][] = [
    ...paperLabels.map((label): [string, (m: ModelOutcome, eps: number) => number | undefined] => [label, (m, eps) => runAt(m, eps, label)]),
    [spsaLabel, spsaAt],
    [`worst case (${ROBUSTNESS_PRESET} preset + the paper's gradient attacks)`, worstAt],
  ];
  const perEps: SummaryTable[] = plan.settings.eps.map((eps) => ({
    title: `ε = ${eps}: accuracy under attack, first ${plan.settings.count} test samples (clean mistakes count as failures)`,
    columns: ['model', 'clean', ...paperLabels, spsaLabel, "paper's lowest", ...presetLabels, 'worst case'],
    rows: outcome.models.map((m) => {
      const e = m.evaluation.robustness.eps.find((x) => x.eps === eps);
      return [
        name(m),
        pct(m.evaluation.robustness.cleanAccuracy),
        ...paperLabels.map((label) => pct(runAt(m, eps, label))),
        pct(spsaAt(m, eps)),
        pct(e?.paper?.accuracy),
        ...presetLabels.map((label) => pct(runAt(m, eps, label))),
        pct(e?.worstAccuracy),
      ];
    }),
  }));
  return [
    {
      title: 'Figures 4–5 — accuracy vs ε',
      parameters: [
        `the paper's FGSM, PGD-5 and TGSM-5 (gccs evaluate's reference runs, every sample), SPSA at its working point (a sweep), and the ${ROBUSTNESS_PRESET} preset's attacks as a cascade`,
        "worst case: per sample, robust only if no attack at that ε broke it (the paper's gradient attacks and the preset's)",
        `attack batch ${ATTACK_DEFAULTS.batchSize}, seed ${ATTACK_DEFAULTS.seed}; ε relative to each image (‖n‖∞ ≤ ε·‖x‖∞)`,
      ],
      tables: [...perEps, jsmaTable(outcome)],
    },
    ...series.map(([label, value]) => ({ title: `Accuracy vs ε: ${label}`, parameters: [], chart: chart(outcome, label, value), tables: [] })),
    {
      title: 'Diagnostics',
      parameters: ['from gccs evaluate: model probes and checks on the results, per model'],
      tables: [diagnosticsTable(outcome)],
    },
  ];
}

/** One line per model over the plan's ε. */
function chart(outcome: ReproductionOutcome, label: string, value: (m: ModelOutcome, eps: number) => number | undefined): SummaryChart {
  const points = (m: ModelOutcome) =>
    outcome.plan.settings.eps.flatMap((eps) => {
      const accuracy = value(m, eps);
      return accuracy === undefined ? [] : [{ eps, accuracy }];
    });
  return { title: label, series: outcome.models.map((m) => ({ label: modelName(m), points: points(m) })) };
}

function jsmaTable(outcome: ReproductionOutcome): SummaryTable {
  const results = outcome.sweeps.flatMap((s) => s.results);
  return {
    title: `JSMA-${outcome.plan.settings.jsmaIterations} (no ε budget): accuracy and mean fraction of values changed`,
    columns: ['model', 'accuracy', 'changed values'],
    rows: outcome.models.map((m) => {
      const r = results.find((c) => c.cell.model === m.model.dir && c.cell.attack === 'jsma');
      return [modelName(m), pct(r?.accuracy), pct(r?.meanChangedPixels)];
    }),
  };
}

function diagnosticsTable(outcome: ReproductionOutcome): SummaryTable {
  const rows = outcome.models.flatMap((m) => m.evaluation.robustness.diagnostics.filter((d) => !d.ok).map((d) => [modelName(m), d.message]));
  const title = rows.length
    ? "Diagnostics that fired (gradient masking, weak or unconverged attacks): read those models' numbers as upper bounds"
    : 'No diagnostic fired';
  return { title, columns: ['model', 'diagnostic'], rows };
}

function modelName(m: ModelOutcome): string {
  const training = m.model.training === 'regular' ? '' : m.model.training === 'fine-tuning' ? ' (fine-tuned from cross-entropy)' : ' + AT';
  return `${m.model.method}${training}`;
}

function markdownTable({ title, columns, rows }: SummaryTable): string[] {
  if (!rows.length) return [`**${title}**`, ''];
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  return [
    `**${title}**`,
    '',
    `| ${columns.map(escape).join(' | ')} |`,
    `|${columns.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
    '',
  ];
}

/** Writes report.json, report.md and report.html into the run's folder, each atomically. */
export function writeReproductionReport(outcome: ReproductionOutcome, context: ReportContext): ReportFiles {
  const data = reportData(outcome, context);
  const { plan } = outcome;
  const files = { json: path.join(plan.outDir, 'report.json'), markdown: path.join(plan.outDir, 'report.md'), html: path.join(plan.outDir, 'report.html') };
  const facts = reportFacts(data);
  const clean: SummaryTable = {
    title: 'Models',
    columns: ['model', 'id', 'test accuracy', 'epochs', 'folder'],
    rows: outcome.models.map((m) => [modelName(m), m.model.id, pct(m.evaluation.clean.accuracy), String(m.meta.epochs.length), m.model.dir]),
  };
  const { tables, robustness } = data.tables;
  writeJsonAtomic(files.json, data);
  const markdown = [
    `# The paper's comparison (gccs reproduce, scale ${plan.scaleName})`,
    '',
    ...facts.map((fact) => `- ${fact}`),
    '',
    ...markdownTable(clean),
    ...tables.flatMap(markdownTable),
    ...robustness.flatMap((section) => section.tables.flatMap(markdownTable)),
  ];
  writeFileAtomic(files.markdown, markdown.join('\n'));
  const sections: SummarySection[] = [{ title: "The paper's tables", parameters: [], tables }, ...robustness];
  writeFileAtomic(
    files.html,
    renderPage({
      heading: "The paper's comparison",
      title: `gccs reproduce (${plan.scaleName})`,
      facts,
      summary: { warnings: data.models.flatMap((m) => m.robustness.flagged.map((message) => `${m.id}: ${message}`)), clean, sections },
    }),
  );
  return files;
}

function reportFacts(data: ReturnType<typeof reportData>): string[] {
  const s = data.settings;
  return [
    ...(data.command ? [`command: ${data.command}`] : []),
    `machine: ${data.machine}; backend ${data.backend}`,
    `scale ${data.scale.name} (flags may change it; the lines below are what ran): ${data.scale.description}`,
    `dataset ${s.dataset.kind}${s.dataset.path ? ` (${s.dataset.path})` : ''}, train range ${s.trainRange ?? "the dataset's"}, test range ${s.testRange ?? "the dataset's"}, seed ${s.seed}`,
    `${s.model}, batch ${s.batchSize}; epochs: ${s.epochs} regular, ${s.fineTuneEpochs} GCCS fine-tuning (lr 1e-3, no decay), ${s.adversarialEpochs} adversarial fine-tuning (FGSM ε 0.03, losses averaged); optimizer and the defences' λ: README › Training defaults and › Defences`,
    `attacks on the first ${s.count} test samples, ε ${s.eps.join(', ')}; JSMA-${s.jsmaIterations}; SPSA at IT ${s.spsa.iterations} × BS ${s.spsa.samples}, Table 7 at ε ${s.spsaTableEps} over IT ${s.spsa.tableIterations.join('/')} × BS ${s.spsa.tableSamples.join('/')}; strong evaluation: the ${s.robustnessPreset} preset (gccs evaluate)`,
    `engine ${data.engineVersion}, written ${data.writtenAt}`,
  ];
}

/** A run and its report (report.{json,md,html} in the run's folder): what `gccs reproduce` and GCCS: Reproduce the Paper do. */
export async function reproduce(
  plan: ReproductionPlan,
  options: ReproduceOptions,
  command?: string,
): Promise<{ outcome: ReproductionOutcome; files: ReportFiles }> {
  const outcome = await runReproduction(plan, options);
  return { outcome, files: writeReproductionReport(outcome, { backend: options.backend, machine: machineDescription(), ...(command && { command }) }) };
}
