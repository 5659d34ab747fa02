import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/core/backend';
import { UserError } from '../../src/core/errors';
import { fakeNativeModules } from '../helpers/fakeNativeModules';

// tfjs-node is not installed in this environment, so 'auto' settles on wasm.

test("initBackend('wasm') activates the WebAssembly backend", async () => {
  const info = await initBackend('wasm');
  assert.equal(info.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(info.detail, /WebAssembly/);
});

test("initBackend('cpu') activates the plain JavaScript backend", async () => {
  const info = await initBackend('cpu');
  assert.equal(info.name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
});

test("initBackend('auto') falls back to wasm when tfjs-node is absent", async () => {
  const info = await initBackend('auto');
  assert.equal(info.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(info.detail, /tfjs-node/);
});

test("initBackend('tensorflow') without tfjs-node is a UserError naming the package and the alternative", async () => {
  await assert.rejects(initBackend('tensorflow'), (err: unknown) => {
    assert.ok(err instanceof UserError);
    assert.match(err.message, /@tensorflow\/tfjs-node is not installed/);
    assert.match(err.message, /--backend wasm/);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
  assert.equal(tf.getBackend(), 'wasm', 'a failed request leaves the active backend alone');
});

test('calling initBackend twice with the same backend is a no-op', async () => {
  const first = await initBackend('wasm');
  const x = tf.tensor1d([1, 2, 3]);
  const second = await initBackend('wasm');
  assert.deepEqual(second, first);
  assert.deepEqual(Array.from(await tf.square(x).data()), [1, 4, 9], 'existing tensors stay usable');
  x.dispose();
});

test('switching back and forth keeps results consistent', async () => {
  const product = async () => {
    const p = tf.tidy(() => tf.matMul(tf.ones([3, 4]), tf.ones([4, 2])));
    const values = Array.from(await p.data());
    p.dispose();
    return values;
  };
  await initBackend('cpu');
  const a = await product();
  await initBackend('wasm');
  assert.deepEqual(await product(), a);
});

test('GCCS_NATIVE_MODULES: tfjs-node found there is used, and registers into our tfjs-core', async () => {
  const modules = fakeNativeModules(fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-native-')));
  process.env.GCCS_NATIVE_MODULES = modules;
  try {
    const info = await initBackend('tensorflow');
    assert.equal(info.name, 'tensorflow');
    assert.equal(tf.getBackend(), 'tensorflow');
    assert.match(info.detail, /@tensorflow\/tfjs-node 0\.0\.0-fake/);
    const y = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])));
    assert.deepEqual(Array.from(await y.data()), [4, 6]);
    y.dispose();
    assert.equal((await initBackend('auto')).name, 'tensorflow', "'auto' prefers native TensorFlow");
  } finally {
    delete process.env.GCCS_NATIVE_MODULES;
    fs.rmSync(path.dirname(modules), { recursive: true, force: true });
  }
});
