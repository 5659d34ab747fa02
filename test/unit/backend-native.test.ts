import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  NATIVE_RECORD_FILE,
  NATIVE_VERSION,
  NativeInstallError,
  diagnoseNpmOutput,
  installNative,
  nativeModulesSearchPath,
  npmInstallNative,
  readNativeRecord,
  verifyNativeInChild,
} from '../../src/core/backend/nativeInstall';
import { UserError } from '../../src/core/errors';
import { fakeNativeModules } from '../helpers/fakeNativeModules';
import { offlineReason } from '../helpers/network';

// @tensorflow/tfjs-node cannot be installed here: its install script downloads libtensorflow from
// storage.googleapis.com, which is unreachable. So the failure paths run for real (npm, the real
// registry and the real package), and the success path runs with a fake npm that "installs" a fake
// tfjs-node registering a 'tensorflow' backend (test/helpers/fakeNativeModules.ts).

const CLI = path.resolve(__dirname, '../../dist/cli.js');
const created: string[] = [];
const tmp = (name: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gccs-${name}-`));
  created.push(dir);
  return dir;
};
after(() => created.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function gccs(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, ...env } });
  const errors = result.stderr.split('\n').filter((line) => line.startsWith('gccs: error:'));
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, errors };
}

/** An executable standing in for npm: copies a prepared node_modules into its --prefix. */
function fakeNpm(loadError?: string): string {
  const staging = tmp('staging');
  const modules = fakeNativeModules(staging, loadError);
  const script = path.join(staging, 'fake-npm.js');
  fs.writeFileSync(
    script,
    [
      '#!/usr/bin/env node',
      "const fs = require('node:fs'); const path = require('node:path');",
      "const args = process.argv.slice(2); const prefix = args[args.indexOf('--prefix') + 1];",
      `fs.cpSync(${JSON.stringify(modules)}, path.join(prefix, 'node_modules'), { recursive: true });`,
      "console.log('added 1 package: ' + args.join(' '));",
    ].join('\n'),
  );
  fs.chmodSync(script, 0o755);
  return script;
}

test("the pinned tfjs-node version is our tfjs-core's", () => {
  const core = JSON.parse(fs.readFileSync(require.resolve('@tensorflow/tfjs-core/package.json'), 'utf8')) as { version: string };
  assert.equal(NATIVE_VERSION, core.version);
});

test('npm output is diagnosed: the libtensorflow download, the registry, permissions', () => {
  assert.match(diagnoseNpmOutput('* Downloading libtensorflow\nError: getaddrinfo ENOTFOUND storage.googleapis.com'), /could not download the libtensorflow library/);
  assert.match(diagnoseNpmOutput('npm error request to http://127.0.0.1:9/@tensorflow%2ftfjs-node failed, reason: connect ECONNREFUSED'), /registry could not be reached/);
  assert.match(diagnoseNpmOutput("npm error Error: EACCES: permission denied, mkdir '/x'"), /permission denied/);
  assert.match(diagnoseNpmOutput('something else'), /npm's output/);
});

test('an unreachable registry fails fast with a clear error and the npm output, and records nothing', async () => {
  const dir = tmp('native-offline');
  const lines: string[] = [];
  const t0 = Date.now();
  try {
    await assert.rejects(
      npmInstallNative({ dir, gpu: false, npmArgs: ['--registry', 'http://127.0.0.1:9/', '--fetch-retries', '0'], onLine: (line) => lines.push(line) }),
      (error: unknown) => {
        assert.ok(error instanceof NativeInstallError);
        assert.match(error.message, /^npm install @tensorflow\/tfjs-node@4\.22\.0 failed \(exit code \d+\): the npm registry could not be reached$/);
        assert.match(error.output, /ECONNREFUSED/);
        return true;
      },
    );
    assert.ok(lines.length > 0, 'npm output reached onLine');
    assert.equal(readNativeRecord(dir), undefined);
    assert.ok(Date.now() - t0 < 60_000, `failed in ${Date.now() - t0} ms`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing npm is a clear error', async () => {
  await assert.rejects(npmInstallNative({ dir: tmp('native-nonpm'), gpu: true, npm: '/nonexistent/npm' }), /npm could not be started .*put npm on the PATH/);
});

test('success path (fake npm, fake tfjs-node): installed, checked in a child process, recorded, then preferred by auto', async () => {
  const home = tmp('home');
  const dir = path.join(home, '.cache', 'gccs-lab', 'native');
  try {
    const record = await installNative({ dir, gpu: false, npm: fakeNpm(), cliFile: CLI });
    assert.equal(record.package, '@tensorflow/tfjs-node');
    assert.equal(record.modules, path.join(dir, 'node_modules'));
    assert.match(record.detail, /native TensorFlow via @tensorflow\/tfjs-node 0\.0\.0-fake/);
    assert.deepEqual(readNativeRecord(dir), record);
    assert.equal(nativeModulesSearchPath({ GCCS_NATIVE_MODULES: '/x/node_modules' }), '/x/node_modules', 'the environment variable comes first');
    // a new process with this HOME: the record of the CLI's default folder is the selection's search path
    const status = gccs(['backend', 'status', '--json'], { HOME: home, GCCS_NATIVE_MODULES: '' });
    assert.equal(status.code, 0, status.stderr);
    const parsed = JSON.parse(status.stdout) as { auto: { name: string; detail: string }; installed: { package: string } | null };
    assert.equal(parsed.auto.name, 'tensorflow', '--backend auto prefers the recorded install');
    assert.equal(parsed.installed?.package, '@tensorflow/tfjs-node');
    const smallTraining = [
      ...['--dataset', 'synthetic', '--synthetic-train', '60', '--synthetic-test', '20'],
      ...['--model', 'mlp', '--epochs', '1', '--batch-size', '20'],
    ];
    const train = gccs(['train', ...smallTraining, '--out', path.join(home, 'm')], { HOME: home, GCCS_NATIVE_MODULES: '' });
    assert.equal(train.code, 0, train.stderr);
    assert.match(train.stderr, /^backend: tensorflow$/m, 'a plain gccs train uses it');
    const verbose = gccs(['train', '--verbose', ...smallTraining, '--out', path.join(home, 'm2')], { HOME: home, GCCS_NATIVE_MODULES: '' });
    assert.match(verbose.stderr, /backend: tensorflow \(native TensorFlow via @tensorflow\/tfjs-node 0\.0\.0-fake\)/, '--verbose says what it is');
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('a package that installs but cannot load: clear error, nothing recorded, auto stays on wasm', async () => {
  const dir = tmp('native-broken');
  try {
    await assert.rejects(installNative({ dir, gpu: false, npm: fakeNpm('libtensorflow.so.2: cannot open shared object file: No such file or directory'), cliFile: CLI }), (error: unknown) => {
      assert.ok(error instanceof NativeInstallError);
      assert.match(error.message, /the installed native TensorFlow could not be loaded \(.*libtensorflow\.so\.2: cannot open shared object file/);
      return true;
    });
    assert.ok(!fs.existsSync(path.join(dir, NATIVE_RECORD_FILE)));
    const status = gccs(['backend', 'status', '--prefix', dir, '--json']);
    assert.equal(status.code, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as { auto: { name: string } }).auto.name, 'wasm');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('verifying a folder without tfjs-node names the package and the install command', async () => {
  await assert.rejects(verifyNativeInChild({ dir: tmp('native-empty'), cliFile: CLI }), /could not be loaded \(@tensorflow\/tfjs-node is not installed; install it with `gccs backend install`/);
});

test('a damaged record is an error naming the file; selection falls back to wasm instead of failing', () => {
  const home = tmp('home-damaged');
  const dir = path.join(home, '.cache', 'gccs-lab', 'native');
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, NATIVE_RECORD_FILE), '{ not json');
    assert.throws(() => readNativeRecord(dir), (error: unknown) => error instanceof UserError && error.message.startsWith(`${path.join(dir, NATIVE_RECORD_FILE)}: not a native backend record`));
    const smallTraining = ['--synthetic-train', '40', '--synthetic-test', '20', '--model', 'mlp', '--epochs', '1', '--batch-size', '20'];
    const train = gccs(['train', ...smallTraining, '--out', path.join(home, 'm')], { HOME: home, GCCS_NATIVE_MODULES: '' });
    assert.equal(train.code, 0, train.stderr);
    assert.match(train.stderr, /^backend: wasm\nwarning: native TensorFlow not used: .*gccs-native\.json: not a native backend record/m, 'a damaged install is reported without --verbose');
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('(network: npm registry) gccs backend install for real: tfjs-node from the npm registry fails at the libtensorflow download; wasm stays', async (t) => {
  const offline = await offlineReason('registry.npmjs.org');
  if (offline) return t.skip(offline);
  const dir = tmp('native-real');
  try {
    const run = gccs(['backend', 'install', '--prefix', dir]);
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.errors.length, 1, run.stderr);
    assert.match(run.errors[0], /npm install @tensorflow\/tfjs-node@4\.22\.0 failed \(exit code \d+\): (its install script could not download the libtensorflow library|the npm registry could not be reached).*; the WebAssembly backend stays in use$/);
    assert.match(run.stderr, /last lines of the output:\n[^]*npm error/, 'npm output tail is shown');
    assert.ok(!fs.existsSync(path.join(dir, NATIVE_RECORD_FILE)));
    const status = gccs(['backend', 'status', '--prefix', dir, '--json']);
    const parsed = JSON.parse(status.stdout) as { auto: { name: string }; installed: unknown };
    assert.equal(parsed.auto.name, 'wasm');
    assert.equal(parsed.installed, null);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
