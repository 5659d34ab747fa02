// Shared by scripts/integration.mjs and scripts/e2e.mjs: prepares code-server (npm, cached outside
// the repo), starts it on a free loopback port with a throw-away user-data/extensions dir, and
// launches headless Debian Chromium through playwright-core.
//
// Environment: GCCS_CODE_SERVER_CACHE (default ~/.cache/gccs-ci/code-server), CHROMIUM
// (default /usr/bin/chromium).
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const CODE_SERVER_VERSION = '4.100.3';
export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = process.env.GCCS_CODE_SERVER_CACHE || join(homedir(), '.cache', 'gccs-ci', 'code-server');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

/** A logger prefixed with the script's name and the seconds since it started. */
export function makeLog(name) {
  const t0 = Date.now();
  const log = (line) => console.log(`[${name} ${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);
  log.elapsed = () => (Date.now() - t0) / 1000;
  return log;
}

export function run(cmd, args, cwd, env = {}) {
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
}

/** code-server without its postinstall (which downloads): npm install, native modules, ripgrep. Idempotent. */
export function prepareCodeServer(log) {
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

export function freePort() {
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

/** User settings for a workbench that opens folders in Restricted Mode without asking (startCodeServer's workspaceTrust). */
export const RESTRICTED_MODE_SETTINGS = {
  'security.workspace.trust.enabled': true,
  'security.workspace.trust.startupPrompt': 'never',
  'security.workspace.trust.emptyWindow': false,
  'security.workspace.trust.untrustedFiles': 'open',
};

/** A fresh workspace folder (with these workspace settings) and quiet user settings under tmp. */
export function prepareWorkspace(tmp, workspaceSettings, userSettings = {}) {
  const workspace = join(tmp, 'workspace');
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify(workspaceSettings, null, 2) + '\n');
  // user settings: no update checks, recommendations or telemetry from the workbench
  mkdirSync(join(tmp, 'user-data', 'User'), { recursive: true });
  writeFileSync(
    join(tmp, 'user-data', 'User', 'settings.json'),
    JSON.stringify(
      {
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'extensions.ignoreRecommendations': true,
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'workbench.startupEditor': 'none',
        ...userSettings,
      },
      null,
      2,
    ) + '\n',
  );
  return workspace;
}

/**
 * Starts code-server (prepared by prepareCodeServer) on a free loopback port; user data under
 * tmp, extensions in extensionsDir (default tmp/extensions). Workspace trust is off (every folder
 * trusted) unless `workspaceTrust`: then a folder opens in Restricted Mode, as nothing in the fresh
 * user data is trusted (with the user settings of RESTRICTED_MODE_SETTINGS).
 * Returns { server, base, port, serverLog, stop }.
 */
export async function startCodeServer({ cs, tmp, extensionsDir = join(tmp, 'extensions'), log, workspaceTrust = false }) {
  const port = await freePort();
  const serverLog = join(tmp, 'code-server.log');
  const args = [
    join(cs, 'out', 'node', 'entry.js'),
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--config', join(tmp, 'config.yaml'),
    '--user-data-dir', join(tmp, 'user-data'),
    '--extensions-dir', extensionsDir,
    '--disable-telemetry', '--disable-update-check', '--disable-getting-started-override',
    ...(workspaceTrust ? [] : ['--disable-workspace-trust']),
  ];
  log(`starting code-server on 127.0.0.1:${port}`);
  const out = openSync(serverLog, 'a');
  const server = spawn(process.execPath, args, {
    cwd: tmp,
    detached: true,
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      XDG_CONFIG_HOME: join(tmp, 'xdg-config'),
      XDG_DATA_HOME: join(tmp, 'xdg-data'),
      // no marketplace (open-vsx.org) look-ups: a gallery on a closed loopback port
      EXTENSIONS_GALLERY: JSON.stringify({ serviceUrl: 'http://127.0.0.1:9/gallery', itemUrl: 'http://127.0.0.1:9/item', resourceUrlTemplate: 'http://127.0.0.1:9/{publisher}/{name}/{version}/{path}' }),
    },
  });
  const base = `http://127.0.0.1:${port}`;
  const stop = () => {
    if (server.exitCode === null) {
      try { process.kill(-server.pid, 'SIGTERM'); } catch { server.kill('SIGTERM'); }
    }
  };
  try {
    await waitHttp(`${base}/healthz`, 30_000, server, serverLog);
  } catch (error) {
    stop();
    throw error;
  }
  return { server, base, port, serverLog, stop };
}

/** Headless Chromium and one 1280×800 page. */
export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      ...['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'],
      ...['--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  return { browser, page };
}
