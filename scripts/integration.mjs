// Integration tests inside a real VS Code: code-server (npm, cached outside the repo), headless
// Chromium through playwright-core. Builds the extension and test/integration/suite.ts, starts
// code-server on a free loopback port, opens the workbench on a fresh workspace with the
// extension under development and the tests module (the `payload` URL parameter: code-server's
// CLI does not accept --extensionDevelopmentPath/--extensionTestsPath), and waits for the
// extension host to run the tests: they write .gccs-integration-result.json into the workspace,
// and the workbench calls window.codeAutomationExit(code) when the test run ends.
//
// Environment: GCCS_CODE_SERVER_CACHE (default ~/.cache/gccs-ci/code-server), CHROMIUM
// (default /usr/bin/chromium), GCCS_IT_TIMEOUT_S (default 240), GCCS_IT_KEEP=1 keeps the temp dir.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const CODE_SERVER_VERSION = '4.100.3';
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = process.env.GCCS_CODE_SERVER_CACHE || join(homedir(), '.cache', 'gccs-ci', 'code-server');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const timeoutMs = 1000 * Number(process.env.GCCS_IT_TIMEOUT_S || 240);
const t0 = Date.now();
const log = (line) => console.log(`[integration ${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);

function run(cmd, args, cwd, env = {}) {
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
}

/** code-server without its postinstall (which downloads): npm install, native modules, ripgrep. Idempotent. */
function prepareCodeServer() {
  const cs = join(cacheDir, 'node_modules', 'code-server');
  const vscodeDir = join(cs, 'lib', 'vscode');
  const stamp = join(cacheDir, `.prepared-${CODE_SERVER_VERSION}`);
  if (existsSync(stamp)) return cs;
  log(`preparing code-server ${CODE_SERVER_VERSION} in ${cacheDir}`);
  mkdirSync(cacheDir, { recursive: true });
  if (!existsSync(join(cacheDir, 'package.json'))) writeFileSync(join(cacheDir, 'package.json'), '{ "name": "gccs-code-server-cache", "private": true }\n');
  const npmFlags = ['--no-audit', '--no-fund', '--ignore-scripts'];
  run('npm', ['install', '--no-save', ...npmFlags, `code-server@${CODE_SERVER_VERSION}`], cacheDir);
  // argon2 (code-server's password hashing, loaded even with --auth none): build, no download
  run('npm', ['rebuild', 'argon2'], cacheDir, { npm_config_build_from_source: 'true' });
  run('npm', ['install', '--omit=dev', ...npmFlags], vscodeDir);
  // VS Code's native modules (kerberos needs libkrb5-dev); not @vscode/ripgrep, whose script downloads
  run('npm', ['rebuild', 'kerberos', '@vscode/spdlog', 'native-watchdog', '@vscode/deviceid'], vscodeDir);
  try {
    execFileSync('npm', ['rebuild', 'node-pty'], { cwd: vscodeDir, stdio: 'pipe' });
  } catch (error) {
    // node-pty's post-install step (compile_commands.json through npx node-gyp) fails offline after its build
    if (!existsSync(join(vscodeDir, 'node_modules', 'node-pty', 'build', 'Release', 'pty.node'))) throw error;
  }
  const rg = join(vscodeDir, 'node_modules', '@vscode', 'ripgrep', 'bin', 'rg');
  mkdirSync(dirname(rg), { recursive: true });
  copyFileSync('/usr/bin/rg', rg);
  const asar = join(vscodeDir, 'node_modules.asar');
  if (!existsSync(asar)) {
    try { lstatSync(asar); rmSync(asar); } catch { /* absent */ }
    symlinkSync('node_modules', asar);
  }
  writeFileSync(stamp, new Date().toISOString() + '\n');
  return cs;
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

async function waitHttp(url, ms, child, logFile) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}: ${readFileSync(logFile, 'utf8')}`);
    try {
      const response = await fetch(url);
      if (response.status < 500) return;
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`code-server did not answer ${url} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

let passed = 0;
let failed = 0;
let exitCode = 1;
const tmp = mkdtempSync(join(tmpdir(), 'gccs-it-'));
let server;
let browser;
try {
  log('npm run build');
  run('npm', ['run', 'build'], repo);
  const suite = join(repo, 'test-artifacts', 'integration', 'suite.js');
  // inside the extension's folder, so the suite gets the extension's own `vscode` API object
  await build({ entryPoints: [join(repo, 'test', 'integration', 'suite.ts')], outfile: suite, bundle: true, platform: 'node', target: 'node20', format: 'cjs', external: ['vscode'], sourcemap: 'inline', logLevel: 'warning' });
  const cs = prepareCodeServer();

  const workspace = join(tmp, 'workspace');
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'gccs.workers': 1, 'gccs.backend': 'cpu' }, null, 2) + '\n');
  // user settings: no update checks, recommendations or telemetry from the workbench
  mkdirSync(join(tmp, 'user-data', 'User'), { recursive: true });
  writeFileSync(join(tmp, 'user-data', 'User', 'settings.json'), JSON.stringify({ 'extensions.autoCheckUpdates': false, 'extensions.autoUpdate': false, 'extensions.ignoreRecommendations': true, 'telemetry.telemetryLevel': 'off', 'update.mode': 'none', 'workbench.startupEditor': 'none' }, null, 2) + '\n');
  const port = await freePort();
  const serverLog = join(tmp, 'code-server.log');
  const args = [
    join(cs, 'out', 'node', 'entry.js'),
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--config', join(tmp, 'config.yaml'),
    '--user-data-dir', join(tmp, 'user-data'),
    '--extensions-dir', join(tmp, 'extensions'),
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
  ];
  log(`starting code-server on 127.0.0.1:${port}`);
  const out = openSync(serverLog, 'a');
  server = spawn(process.execPath, args, { cwd: tmp, detached: true, stdio: ['ignore', out, out], env: {
      ...process.env,
      XDG_CONFIG_HOME: join(tmp, 'xdg-config'),
      XDG_DATA_HOME: join(tmp, 'xdg-data'),
      // no marketplace (open-vsx.org) look-ups: a gallery on a closed loopback port
      EXTENSIONS_GALLERY: JSON.stringify({ serviceUrl: 'http://127.0.0.1:9/gallery', itemUrl: 'http://127.0.0.1:9/item', resourceUrlTemplate: 'http://127.0.0.1:9/{publisher}/{name}/{version}/{path}' }),
    },
  });
  const base = `http://127.0.0.1:${port}`;
  await waitHttp(`${base}/healthz`, 30_000, server, serverLog);

  const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
  const payload = JSON.stringify([
    ['extensionDevelopmentPath', remote(repo)],
    ['extensionTestsPath', remote(suite)],
    ['skipWelcome', 'true'],
  ]);
  const url = `${base}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(payload)}`;

  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
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
  if (server && server.exitCode === null) {
    try { process.kill(-server.pid, 'SIGTERM'); } catch { server.kill('SIGTERM'); }
  }
  if (exitCode === 0 && !process.env.GCCS_IT_KEEP) rmSync(tmp, { recursive: true, force: true });
  else log(`kept ${tmp}`);
}
console.log(`${passed} passed, ${failed} failed`);
log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exit(exitCode);
