import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../../src/core/errors';
import * as data from '../../src/core/data';

const MNIST_T10K = path.resolve(__dirname, '../../../shared/data/mnist-t10k');

async function rejectsUser(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof UserError, `expected a UserError, got ${err}`);
    assert.match(err.message, pattern);
    return true;
  });
}

test('the public API is exported', () => {
  assert.deepEqual([...data.DATASET_KINDS], ['synthetic', 'mnist', 'fmnist', 'cifar10', 'cifar100', 'svhn', 'folder']);
  for (const name of ['loadDataset', 'makeSplits', 'parseRange', 'subset', 'makeBatch', 'batchOrders', 'downloadDataset', 'cacheFolder'] as const) {
    assert.equal(typeof data[name], 'function', name);
  }
  assert.deepEqual(data.DOWNLOADABLE_KINDS, ['mnist', 'fmnist', 'cifar10', 'cifar100']);
});

test('synthetic: counts and seed pass through', async () => {
  const dataset = await data.loadDataset({ kind: 'synthetic', syntheticTrain: 30, syntheticTest: 20, seed: 9 });
  assert.equal(dataset.train!.labels.length, 30);
  assert.equal(dataset.test!.labels.length, 20);
  const again = await data.loadDataset({ kind: 'synthetic', syntheticTrain: 30, syntheticTest: 20, seed: 9 });
  assert.deepEqual(again.train!.pixels, dataset.train!.pixels);
});

test('mnist from --data, then split by range into train/test', { skip: !existsSync(MNIST_T10K) && `MNIST not found at ${MNIST_T10K}` }, async () => {
  const dataset = await data.loadDataset({ kind: 'mnist', path: MNIST_T10K });
  const splits = data.makeSplits(dataset, { trainRange: '0:8000', testRange: '8000:10000', valFraction: 0.1, seed: 1 });
  assert.equal(splits.train.labels.length, 7200);
  assert.equal(splits.validation!.labels.length, 800);
  assert.equal(splits.test.labels.length, 2000);
  assert.deepEqual(splits.test.pixels, dataset.test!.pixels.subarray(8000 * 784));
});

test('downloadable kinds without a path look in the cache, and say how to fill it', async (t) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'gccs-index-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  await rejectsUser(
    data.loadDataset({ kind: 'mnist', cacheRoot: root }),
    new RegExp(`mnist is not in the download cache \\(${path.join(root, 'mnist').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\): download it first \\(gccs download --dataset mnist\\) or pass --data <folder>`),
  );
  mkdirSync(path.join(root, 'fmnist'));
  await rejectsUser(data.loadDataset({ kind: 'fmnist', cacheRoot: root }), /fmnist: no Fashion-MNIST files/);
  await rejectsUser(data.loadDataset({ kind: 'cifar100', cacheRoot: root }), /cifar100 is not in the download cache/);
});

test('svhn and folder need a path; unknown kinds are rejected', async () => {
  await rejectsUser(data.loadDataset({ kind: 'svhn' }), /dataset svhn needs a folder: pass --data <folder>/);
  await rejectsUser(data.loadDataset({ kind: 'folder' }), /dataset folder needs a folder/);
  await rejectsUser(data.loadDataset({ kind: 'imagenet' } as unknown as data.DatasetSpec), /unknown dataset kind "imagenet"/);
});
