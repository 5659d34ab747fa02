// Integration tests inside a real VS Code: code-server (npm, cached outside the repo), headless
// Chromium through playwright-core (both through scripts/codeServer.mjs). Builds the extension and
// test/integration/suite.ts, starts code-server on a free loopback port, opens the workbench on a
// fresh workspace with the extension under development and the tests module (the `payload` URL
// parameter: code-server's CLI does not accept --extensionDevelopmentPath/--extensionTestsPath),
// and waits for the extension host to run the tests: they write .gccs-integration-result.json into
// the workspace, and the workbench calls window.codeAutomationExit(code) when the test run ends.
//
// Two runs, each with its own code-server and user data; the second runs even when the first fails:
// - trusted: workspace trust off, a fresh workspace; the suite trains, evaluates, opens the panels…
// - restricted: workspace trust on and nothing trusted, so the workspace opens in Restricted Mode;
//   it holds a model and results made beforehand with the CLI, and a workspace gccs.resultsFolder
//   setting that Restricted Mode must ignore. The suite checks what refuses and what still works.
//
// Environment: GCCS_CODE_SERVER_CACHE (default ~/.cache/gccs-ci/code-server), CHROMIUM
// (default /usr/bin/chromium), GCCS_IT_TIMEOUT_S (per run, default 300), GCCS_IT_KEEP=1 keeps the temp dir.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { RESTRICTED_MODE_SETTINGS, launchBrowser, makeLog, prepareCodeServer, prepareWorkspace, repo, run, startCodeServer } from './codeServer.mjs';

const timeoutMs = 1000 * Number(process.env.GCCS_IT_TIMEOUT_S || 300);
const log = makeLog('integration');
const quiet = { 'gccs.workers': 1, 'gccs.backend': 'cpu' };

/** A model and robustness results made with the CLI, for the Restricted Mode run to view. */
function prepareRestrictedWorkspace(workspace) {
  const cli = (...args) => run(process.execPath, [join(repo, 'dist', 'cli.js'), ...args], workspace);
  const model = join(workspace, 'models', 'tiny');
  const results = join(workspace, '.gccs', 'results');
  mkdirSync(results, { recursive: true });
  cli(
    ...['train', '--dataset', 'synthetic', '--synthetic-train', '300', '--synthetic-test', '100'],
    ...['--model', 'mlp', '--epochs', '1', '--batch-size', '50', '--backend', 'cpu', '--out', model],
  );
  writeFileSync(join(results, 'tiny.sweep.json'), JSON.stringify({ models: [model], attacks: [{ name: 'fgsm', eps: '0,0.1' }], count: 20 }, null, 2) + '\n');
  const [config, out, report] = ['tiny.sweep.json', 'tiny.jsonl', 'tiny.html'].map((name) => join(results, name));
  cli('sweep', '--config', config, '--out', out, '--report', report, '--workers', '1', '--backend', 'cpu');
  writeFileSync(
    join(workspace, 'tiny.gccs.json'),
    JSON.stringify({ dataset: { kind: 'synthetic', syntheticTrain: 300, syntheticTest: 100 }, model: 'mlp', loss: { kind: 'gccs' }, batchSize: 50, epochs: 1, outDir: 'models/tiny-again' }, null, 2) + '\n',
  );
}

/** One code-server + workbench run of the suite; resolves with its counts (never rejects). */
async function runSuite({ name, suite, mode, workspaceTrust, workspaceSettings, userSettings, prepare }) {
  const tmp = mkdtempSync(join(tmpdir(), `gccs-it-${name}-`));
  const counts = { passed: 0, failed: 0, skipped: 0 };
  let codeServer;
  let browser;
  try {
    const cs = prepareCodeServer(log);
    const workspace = prepareWorkspace(tmp, workspaceSettings, userSettings);
    if (prepare) {
      log(`${name}: preparing the workspace`);
      prepare(workspace);
    }
    codeServer = await startCodeServer({ cs, tmp, log, workspaceTrust });
    const { base, port, serverLog } = codeServer;
    const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', remote(repo)],
      ['extensionTestsPath', remote(suite)],
      ['skipWelcome', 'true'],
    ]);
    const url = `${base}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(payload)}`;
    const launched = await launchBrowser();
    browser = launched.browser;
    const { page } = launched;
    let resolveExit;
    const exited = new Promise((r) => (resolveExit = r));
    await page.exposeFunction('codeAutomationLog', (type, args) => console.log(`[workbench ${type}]`, ...(Array.isArray(args) ? args : [args])));
    await page.exposeFunction('codeAutomationExit', (code) => resolveExit(code));
    page.on('pageerror', (error) => log(`${name}: page error: ${error.message}`));
    log(`${name}: opening the workbench in headless Chromium`);
    await page.goto(url);

    const resultFile = join(workspace, '.gccs-integration-result.json');
    let timer;
    const timedOut = new Promise((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    const poll = (async () => {
      while (!existsSync(resultFile)) await new Promise((r) => setTimeout(r, 500));
      await new Promise((r) => setTimeout(r, 300));
      return 'result';
    })();
    const first = await Promise.race([exited.then((code) => `exit ${code}`), poll, timedOut]);
    clearTimeout(timer);
    log(`${name}: tests finished: ${first}`);
    if (existsSync(join(workspace, '.gccs-integration.log'))) process.stdout.write(readFileSync(join(workspace, '.gccs-integration.log'), 'utf8'));
    if (existsSync(resultFile)) {
      const result = JSON.parse(readFileSync(resultFile, 'utf8'));
      Object.assign(counts, { passed: result.passed, failed: result.failed, skipped: result.skipped ?? 0 });
      if (result.mode !== mode) {
        log(`${name}: the suite ran in ${result.mode} mode, not ${mode}`);
        counts.failed++;
      }
    } else {
      log(`${name}: no result file: ${first === 'timeout' ? `timed out after ${timeoutMs / 1000} s` : first}`);
      counts.failed++;
      await page.screenshot({ path: join(tmp, 'timeout.png') }).catch(() => {});
      log(`${name}: code-server log: ${serverLog}`);
    }
  } catch (error) {
    console.error(error);
    counts.failed++;
  } finally {
    await browser?.close().catch(() => {});
    codeServer?.stop();
    if (counts.failed === 0 && counts.passed > 0 && !process.env.GCCS_IT_KEEP) rmSync(tmp, { recursive: true, force: true });
    else log(`${name}: kept ${tmp}`);
  }
  log(`${name}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  return counts;
}

const total = { passed: 0, failed: 0, skipped: 0 };
try {
  log('npm run build');
  run('npm', ['run', 'build'], repo);
  const suite = join(repo, 'test-artifacts', 'integration', 'suite.js');
  // inside the extension's folder, so the suite gets the extension's own `vscode` API object
  await build({ entryPoints: [join(repo, 'test', 'integration', 'suite.ts')], outfile: suite, bundle: true, platform: 'node', target: 'node20', format: 'cjs', external: ['vscode'], sourcemap: 'inline', logLevel: 'warning' });
  const runs = [
    { name: 'trusted', suite, mode: 'trusted', workspaceTrust: false, workspaceSettings: quiet },
    {
      name: 'restricted',
      suite,
      mode: 'restricted',
      workspaceTrust: true,
      // Restricted Mode must ignore this (package.json restrictedConfigurations): Open Report still finds .gccs/results.
      workspaceSettings: { ...quiet, 'gccs.resultsFolder': '/tmp/gccs-restricted-mode-must-not-use-this' },
      userSettings: RESTRICTED_MODE_SETTINGS,
      prepare: prepareRestrictedWorkspace,
    },
  ];
  for (const spec of runs) {
    const counts = await runSuite(spec);
    for (const key of Object.keys(total)) total[key] += counts[key];
  }
} catch (error) {
  console.error(error);
  total.failed++;
}
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
log(`done in ${log.elapsed().toFixed(1)} s`);
process.exit(total.failed === 0 && total.passed > 0 ? 0 : 1);
