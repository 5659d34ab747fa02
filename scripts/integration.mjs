// Integration tests inside a real VS Code: code-server (npm, cached outside the repo), headless
// Chromium through playwright-core (both through scripts/codeServer.mjs). Builds the extension and
// test/integration/suite.ts, starts code-server on a free loopback port, opens the workbench on a
// fresh workspace with the extension under development and the tests module (the `payload` URL
// parameter: code-server's CLI does not accept --extensionDevelopmentPath/--extensionTestsPath),
// and waits for the extension host to run the tests: they write .gccs-integration-result.json into
// the workspace, and the workbench calls window.codeAutomationExit(code) when the test run ends.
//
// Environment: GCCS_CODE_SERVER_CACHE (default ~/.cache/gccs-ci/code-server), CHROMIUM
// (default /usr/bin/chromium), GCCS_IT_TIMEOUT_S (default 240), GCCS_IT_KEEP=1 keeps the temp dir.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { launchBrowser, makeLog, prepareCodeServer, prepareWorkspace, repo, run, startCodeServer } from './codeServer.mjs';

const timeoutMs = 1000 * Number(process.env.GCCS_IT_TIMEOUT_S || 240);
const log = makeLog('integration');

let passed = 0;
let failed = 0;
let exitCode = 1;
const tmp = mkdtempSync(join(tmpdir(), 'gccs-it-'));
let codeServer;
let browser;
try {
  log('npm run build');
  run('npm', ['run', 'build'], repo);
  const suite = join(repo, 'test-artifacts', 'integration', 'suite.js');
  // inside the extension's folder, so the suite gets the extension's own `vscode` API object
  await build({ entryPoints: [join(repo, 'test', 'integration', 'suite.ts')], outfile: suite, bundle: true, platform: 'node', target: 'node20', format: 'cjs', external: ['vscode'], sourcemap: 'inline', logLevel: 'warning' });
  const cs = prepareCodeServer(log);

  const workspace = prepareWorkspace(tmp, { 'gccs.workers': 1, 'gccs.backend': 'cpu' });
  codeServer = await startCodeServer({ cs, tmp, log });
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
  page.on('pageerror', (error) => log(`page error: ${error.message}`));
  log('opening the workbench in headless Chromium');
  await page.goto(url);

  const resultFile = join(workspace, '.gccs-integration-result.json');
  const timedOut = new Promise((r) => setTimeout(() => r('timeout'), timeoutMs));
  const poll = (async () => {
    while (!existsSync(resultFile)) await new Promise((r) => setTimeout(r, 500));
    await new Promise((r) => setTimeout(r, 300));
    return 'result';
  })();
  const first = await Promise.race([exited.then((code) => `exit ${code}`), poll, timedOut]);
  log(`tests finished: ${first}`);
  if (existsSync(join(workspace, '.gccs-integration.log'))) process.stdout.write(readFileSync(join(workspace, '.gccs-integration.log'), 'utf8'));
  if (existsSync(resultFile)) {
    const result = JSON.parse(readFileSync(resultFile, 'utf8'));
    passed = result.passed;
    failed = result.failed;
    exitCode = failed === 0 && passed > 0 ? 0 : 1;
  } else {
    log(`no result file: ${first === 'timeout' ? `timed out after ${timeoutMs / 1000} s` : first}`);
    failed = Math.max(failed, 1);
    await page.screenshot({ path: join(tmp, 'timeout.png') }).catch(() => {});
    log(`code-server log: ${serverLog}`);
  }
} catch (error) {
  console.error(error);
  failed = Math.max(failed, 1);
} finally {
  await browser?.close().catch(() => {});
  codeServer?.stop();
  if (exitCode === 0 && !process.env.GCCS_IT_KEEP) rmSync(tmp, { recursive: true, force: true });
  else log(`kept ${tmp}`);
}
console.log(`${passed} passed, ${failed} failed`);
log(`done in ${log.elapsed().toFixed(1)} s`);
process.exit(exitCode);
