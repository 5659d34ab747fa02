import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CellResult } from '../../src/core/sweep/types';
import { summarizeSweep } from '../../src/core/sweep/summary';
import { robustnessData, resultsFiles } from '../../src/host/panels/robustness/data';
import { contentSecurityPolicy, newNonce, webviewHtml } from '../../src/host/panels/html';
import { epochRange, integerTickLabel, logTickLabel } from '../../webview/axes';
import { latentCsv, robustnessChartCsv, slug, toCsv, trainingCsv } from '../../webview/export';

const page = { title: 'GCCS <Robustness>', cspSource: 'https://file+.vscode-resource.vscode-cdn.net', scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/robustness.js', styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/panel.css' };

test('the webview HTML puts the nonce on every script and a CSP without remote sources', () => {
  const nonce = newNonce();
  assert.match(nonce, /^[A-Za-z0-9]{16,}$/);
  assert.notEqual(newNonce(), nonce);
  const html = webviewHtml({ ...page, nonce });
  const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  assert.ok(scripts.length >= 1);
  for (const script of scripts) assert.ok(script.includes(`nonce="${nonce}"`), script);
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
  assert.ok(csp, 'a CSP meta tag');
  assert.equal(csp.replace(/&#39;/g, "'"), contentSecurityPolicy(page.cspSource, nonce));
  const directives = Object.fromEntries(csp.replace(/&#39;/g, "'").split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...sources]) => [name, sources]));
  assert.deepEqual(directives['default-src'], ["'none'"]);
  assert.deepEqual(directives['script-src'], [`'nonce-${nonce}'`]);
  for (const sources of Object.values(directives) as string[][]) {
    for (const source of sources) assert.ok(source === page.cspSource || /^'|^data:$/.test(source), `no remote source: ${source}`);
    assert.ok(!sources.includes("'unsafe-inline'") && !sources.includes("'unsafe-eval'") && !sources.includes('*'));
  }
  // Every resource comes through asWebviewUri (the cspSource origin); no inline handlers, escaped title.
  for (const [, url] of html.matchAll(/(?:src|href)="([^"]+)"/g)) assert.ok(url.startsWith(page.cspSource), url);
  assert.ok(!/\son[a-z]+=/.test(html));
  assert.ok(html.includes('GCCS &lt;Robustness&gt;'));
});

test('panel data merges results files: one chart per attack with the models overlaid', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-panel-'));
  const result = (model: string, attack: 'fgsm' | 'deepfool', entry: number, eps: number | null, accuracy: number): CellResult => ({
    configHash: `hash-${model}`,
    cell: { id: `${model}-${attack}-${eps}`, entry, model: `/m/${model}`, attack, params: {} as CellResult['cell']['params'], eps, iterations: null, samples: null, data: { spec: { kind: 'synthetic' }, trainRange: null, testRange: null, validationFraction: 0, splitSeed: 0 }, count: 100, seed: 0, batchSize: 100 } as unknown as CellResult['cell'],
    accuracy, cleanAccuracy: 0.99, count: 100, seconds: 1, backend: 'wasm', finishedAt: '2026-01-01T00:00:00Z', ...(attack === 'deepfool' ? { rho: 0.2 } : {}),
  } as unknown as CellResult);
  const a = path.join(dir, 'ce.jsonl');
  const b = path.join(dir, 'gccs.jsonl');
  fs.writeFileSync(a, [result('ce', 'fgsm', 0, 0, 0.99), result('ce', 'fgsm', 0, 0.1, 0.5)].map((r) => JSON.stringify(r) + '\n').join(''));
  fs.writeFileSync(b, [result('gccs', 'deepfool', 0, null, 0.01), result('gccs', 'fgsm', 1, 0, 0.99), result('gccs', 'fgsm', 1, 0.1, 0.8)].map((r) => JSON.stringify(r) + '\n').join(''));
  fs.utimesSync(a, new Date(1000), new Date(1000));
  assert.deepEqual(resultsFiles(dir), [b, a]);
  const data = robustnessData(resultsFiles(dir));
  assert.deepEqual(data.sources, [b, a]);
  const fgsm = data.summary.sections.find((s) => s.title === 'FGSM');
  assert.ok(fgsm?.chart);
  assert.deepEqual(fgsm.chart.series.map((s) => s.label).sort(), ['ce', 'gccs']);
  const deepfool = data.summary.sections.find((s) => s.title === 'DeepFool');
  assert.ok(deepfool?.tables[0].columns.includes('ρ'));

  // The sweep just run comes as the host received it, not read back from its file: here its file
  // holds other numbers, and only the received ones show.
  const received = [result('gccs', 'fgsm', 0, 0, 0.97), result('gccs', 'fgsm', 0, 0.1, 0.3)];
  const summary = summarizeSweep(received.map((r) => r.cell), received);
  const merged = robustnessData([b, a], { file: b, results: received, summary });
  const points = merged.summary.sections.find((s) => s.title === 'FGSM')?.chart?.series.find((s) => s.label === 'gccs')?.points;
  // Each point names its cell: the panel's examples of a clicked point are that cell's.
  assert.deepEqual(points, [{ eps: 0, accuracy: 0.97, cell: 'gccs-fgsm-0' }, { eps: 0.1, accuracy: 0.3, cell: 'gccs-fgsm-0.1' }]);
  // Alone, it is shown with the summary the sweep made, unchanged.
  const alone = robustnessData([b], { file: b, results: received, summary });
  assert.deepEqual(alone.summary, summary);
  assert.equal(alone.title, 'Robustness: gccs');
});

test('the latent and training panel bundles: chart.js and the projection math, nothing of Node or TensorFlow.js', () => {
  for (const [name, marker] of [['latent', 'vertex plane needs 2 or 3 classes'], ['training', 'logarithmic']]) {
    const file = path.resolve(__dirname, '../../dist/webview', `${name}.js`);
    assert.ok(fs.existsSync(file), `${file}: run npm run build first`);
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(text.includes(marker), `${name}.js bundles ${marker}`);
    assert.ok(!/require\("(node:)?(fs|path|child_process|os)"\)/.test(text), `${name}.js has no Node imports`);
    assert.ok(!/tfjs/i.test(text), `${name}.js has no TensorFlow.js`);
  }
});

test('export file names and CSV quoting', () => {
  assert.equal(slug('FGSM, ε = 0.1'), 'fgsm-e-0.1');
  assert.equal(slug('Training: tiny Accuracy'), 'training-tiny-accuracy');
  assert.equal(slug('—'), 'gccs');
  assert.equal(toCsv([['a', 'b,c'], ['say "hi"', 'two\nlines']]), 'a,"b,c"\n"say ""hi""","two\nlines"\n');
  const chart = { title: 'FGSM', series: [{ label: 'ce', points: [{ eps: 0.1, accuracy: 0.5 }, { eps: 0, accuracy: 0.99 }] }, { label: 'gccs', points: [{ eps: 0, accuracy: 0.98 }] }] };
  assert.equal(robustnessChartCsv(chart), 'eps,ce,gccs\n0,0.99,0.98\n0.1,0.5,\n');
});

test('the latent export: one row per drawn sample with its class and coordinates, attacked coordinates with an attack', () => {
  const axes: [string, string] = ['along z1 − z0', 'towards z9'];
  const clean = [
    { label: 0, className: '0', point: { x: -1.5, y: 0.25 } },
    { label: 9, className: 'nine, ten', point: { x: 2, y: -3 } },
  ];
  assert.equal(latentCsv(axes, clean), 'class,class name,x: along z1 − z0,y: towards z9\n0,0,-1.5,0.25\n9,"nine, ten",2,-3\n');
  const attacked = clean.map((s, i) => ({ ...s, attacked: { x: s.point.x + 1, y: i } }));
  const lines = latentCsv(axes, attacked).trimEnd().split('\n');
  assert.equal(lines[0], 'class,class name,x: along z1 − z0,y: towards z9,attacked x,attacked y');
  assert.deepEqual(lines.slice(1), ['0,0,-1.5,0.25,-0.5,0', '9,"nine, ten",2,-3,3,1']);
});

test('the training export: one row per epoch, accuracies as fractions, no validation left empty', () => {
  const record = (epoch: number, validationAccuracy: number | null) => ({
    epoch,
    loss: 10 / epoch,
    trainAccuracy: 0.5 + epoch / 10,
    validationAccuracy,
    learningRate: 0.01,
    seconds: 1,
  });
  assert.equal(trainingCsv([record(1, 0.55), record(2, 0.7)]), 'epoch,loss,train accuracy,validation accuracy\n1,10,0.6,0.55\n2,5,0.7,0.7\n');
  assert.equal(trainingCsv([record(1, null)]), 'epoch,loss,train accuracy,validation accuracy\n1,10,0.6,\n');
  assert.equal(trainingCsv([]), 'epoch,loss,train accuracy,validation accuracy\n');
});

test('chart axes: a log axis labels its powers of ten (1-2-5 within a decade), epochs are whole, one epoch is centred', () => {
  // The ticks Chart.js makes for a GCCS loss falling from 37,000 to 3,800: 1–9 × 10^k.
  const ticks = [3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 20000, 30000, 40000];
  assert.deepEqual(ticks.map((v) => logTickLabel(v, ticks)), ['', '', '5K', '', '', '', '', '10K', '20K', '', '']);
  const wide = [100, 200, 500, 1000, 80000, 100000, 1e6];
  assert.deepEqual(wide.map((v) => logTickLabel(v, wide)), ['100', '', '', '1K', '', '100K', '1M']);
  // Less than a decade: 1-2-3-5 values when 1-2-5 give one label, every tick when 1-2-3-5 give one too.
  const narrow = [3000, 4000, 5000, 6000, 7000, 8000, 9000];
  assert.deepEqual(narrow.map((v) => logTickLabel(v, narrow)), ['3K', '', '5K', '', '', '', '']);
  const loss = [25000, 30000, 35000, 40000, 50000];
  assert.deepEqual(loss.map((v) => logTickLabel(v, loss)), ['', '30K', '', '', '50K']);
  const narrower = [6000, 7000, 8000, 9000];
  assert.deepEqual(narrower.map((v) => logTickLabel(v, narrower)), ['6K', '7K', '8K', '9K']);
  assert.equal(logTickLabel(0.01, [0.01, 0.1, 1]), '0.01');
  assert.deepEqual([0.5, 1, 1.5, 2].map(integerTickLabel), ['', '1', '', '2']);
  assert.deepEqual(epochRange(1), { min: 0.5, max: 1.5 });
  assert.deepEqual(epochRange(20), { min: 1, max: 20 });
});
