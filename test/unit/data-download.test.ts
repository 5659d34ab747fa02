import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { UserError } from '../../src/core/errors';
import { loadDataset } from '../../src/core/data';
import { cacheFolder, downloadDataset } from '../../src/core/data/download';
import { extractTarGz } from '../../src/core/data/tar';

function tempFolder(t: { after: (fn: () => void) => void }): string {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'gccs-download-'));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Serves `files` by name on 127.0.0.1, counting requests per name. */
async function serve(t: { after: (fn: () => Promise<void>) => void }, files: Record<string, Buffer>) {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent(req.url!.split('/').pop()!);
    requests.push(name);
    const body = files[name];
    if (!body) res.writeHead(404).end('not found');
    else res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/data`, requests };
}

function idx(dims: number[], data: number[]): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return gzipSync(Buffer.concat([header, Buffer.from(data)]));
}

/** Tiny MNIST-format files: 4 training and 2 test images of 2×2. */
const mnistFiles: Record<string, Buffer> = {
  'train-images-idx3-ubyte.gz': idx([4, 2, 2], Array.from({ length: 16 }, (_, i) => i * 10)),
  'train-labels-idx1-ubyte.gz': idx([4], [0, 1, 2, 3]),
  't10k-images-idx3-ubyte.gz': idx([2, 2, 2], new Array(8).fill(255)),
  't10k-labels-idx1-ubyte.gz': idx([2], [8, 9]),
};
const mnistChecksums = Object.fromEntries(Object.entries(mnistFiles).map(([name, data]) => [name, sha256(data)]));

/** A ustar archive of `entries` (a trailing "/" makes a folder), as GNU tar writes it. */
function tar(entries: [string, Buffer | null][]): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, data] of entries) {
    const header = Buffer.alloc(512);
    header.write(name, 0);
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(`${(data?.length ?? 0).toString(8).padStart(11, '0')}\0`, 124);
    header.write('00000000000\0', 136);
    header.write('        ', 148);
    header.write(data ? '0' : '5', 156);
    header.write('ustar  \0', 257);
    const sum = header.reduce((a, b) => a + b, 0);
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(header);
    if (data) blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** CIFAR-10 records: label byte + 3072 pixel bytes. */
const cifarRecords = (labels: number[]) => Buffer.concat(labels.map((label) => Buffer.concat([Buffer.from([label]), Buffer.alloc(3072, label * 20)])));

async function rejectsUser(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof UserError, `expected a UserError, got ${err}`);
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes('\n'));
    return true;
  });
}

test('cacheFolder defaults to ~/.cache/gccs-lab/<dataset>', () => {
  assert.equal(cacheFolder('mnist'), path.join(os.homedir(), '.cache', 'gccs-lab', 'mnist'));
  assert.equal(cacheFolder('cifar10', '/tmp/x'), path.join('/tmp/x', 'cifar10'));
});

test('downloads, verifies and then skips files already present with the right checksum', async (t) => {
  const folder = path.join(tempFolder(t), 'mnist');
  const server = await serve(t, mnistFiles);
  const lines: string[] = [];
  const options = { folder, baseUrl: server.baseUrl, checksums: mnistChecksums, log: (line: string) => lines.push(line) };
  assert.equal(await downloadDataset('mnist', options), folder);
  assert.equal(server.requests.length, 4);
  assert.deepEqual(readdirSync(folder).sort(), Object.keys(mnistFiles).sort());
  const dataset = await loadDataset({ kind: 'mnist', path: folder });
  assert.deepEqual(Array.from(dataset.train!.labels), [0, 1, 2, 3]);
  assert.deepEqual(Array.from(dataset.test!.labels), [8, 9]);

  lines.length = 0;
  await downloadDataset('mnist', options);
  assert.equal(server.requests.length, 4, 'nothing fetched the second time');
  assert.ok(lines.every((line) => line.includes('already in')), lines.join('\n'));

  // A damaged file is fetched again.
  writeFileSync(path.join(folder, 't10k-labels-idx1-ubyte.gz'), 'damaged');
  await downloadDataset('mnist', options);
  assert.deepEqual(server.requests.slice(4), ['t10k-labels-idx1-ubyte.gz']);
  assert.deepEqual(readFileSync(path.join(folder, 't10k-labels-idx1-ubyte.gz')), mnistFiles['t10k-labels-idx1-ubyte.gz']);
});

test('a checksum mismatch deletes the download and is a UserError', async (t) => {
  const folder = tempFolder(t);
  const server = await serve(t, mnistFiles);
  const checksums = { ...mnistChecksums, 'train-labels-idx1-ubyte.gz': '0'.repeat(64) };
  await rejectsUser(
    downloadDataset('fmnist', { folder, baseUrl: server.baseUrl, checksums }),
    /train-labels-idx1-ubyte\.gz: SHA-256 mismatch \(expected 0{64}, got [0-9a-f]{64}\); the download was deleted/,
  );
  assert.deepEqual(readdirSync(folder), ['train-images-idx3-ubyte.gz'], 'no partial or unverified file is left');
});

test('the official checksums apply when none are injected', async (t) => {
  const folder = tempFolder(t);
  const server = await serve(t, mnistFiles);
  await rejectsUser(downloadDataset('mnist', { folder, baseUrl: server.baseUrl }), /expected 440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609/);
  assert.deepEqual(readdirSync(folder), []);
});

test('an unreachable server or a missing file is a UserError saying where to put the files by hand', async (t) => {
  const folder = tempFolder(t);
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  await rejectsUser(
    downloadDataset('mnist', { folder, baseUrl: `http://127.0.0.1:${port}` }),
    new RegExp(
      `cannot download http://127\\.0\\.0\\.1:${port}/train-images-idx3-ubyte\\.gz \\(ECONNREFUSED\\); put train-images-idx3-ubyte\\.gz, ` +
        `train-labels-idx1-ubyte\\.gz, t10k-images-idx3-ubyte\\.gz, t10k-labels-idx1-ubyte\\.gz \\(from https://storage\\.googleapis\\.com/cvdf-datasets/mnist\\) into ${folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} by hand`,
    ),
  );
  const server = await serve(t, {});
  await rejectsUser(downloadDataset('cifar100', { folder, baseUrl: server.baseUrl }), /cifar-100-binary\.tar\.gz \(HTTP 404 Not Found\); put cifar-100-binary\.tar\.gz/);
  assert.deepEqual(readdirSync(folder), []);
});

test('a server that stops sending mid-file is given up after the stall timeout, leaving no partial file', async (t) => {
  const folder = tempFolder(t);
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-length': 1000 });
    res.write(Buffer.alloc(10)); // then nothing more
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const started = Date.now();
  await rejectsUser(downloadDataset('mnist', { folder, baseUrl, stallTimeoutMs: 300 }), /train-images-idx3-ubyte\.gz \(no data for 0\.3 s\); put /);
  assert.ok(Date.now() - started < 5000);
  assert.deepEqual(readdirSync(folder), []);
});

test('CIFAR-10: the archive is verified, extracted, and then found by loadDataset in the cache', async (t) => {
  const root = tempFolder(t);
  const archive = gzipSync(
    tar([
      ['cifar-10-batches-bin/', null],
      ['cifar-10-batches-bin/data_batch_1.bin', cifarRecords([1, 2, 3])],
      ['cifar-10-batches-bin/test_batch.bin', cifarRecords([4])],
      ['cifar-10-batches-bin/batches.meta.txt', Buffer.from('a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n')],
    ]),
  );
  const server = await serve(t, { 'cifar-10-binary.tar.gz': archive });
  const options = { folder: cacheFolder('cifar10', root), baseUrl: server.baseUrl, checksums: { 'cifar-10-binary.tar.gz': sha256(archive) } };
  await downloadDataset('cifar10', options);
  const dataset = await loadDataset({ kind: 'cifar10', cacheRoot: root });
  assert.deepEqual(Array.from(dataset.train!.labels), [1, 2, 3]);
  assert.equal(dataset.train!.pixels[3072], 40);
  assert.equal(dataset.classNames[9], 'j');
  assert.deepEqual(readdirSync(options.folder).sort(), ['cifar-10-batches-bin', 'cifar-10-binary.tar.gz']);

  await downloadDataset('cifar10', options);
  assert.equal(server.requests.length, 1, 'archive not fetched again');
});

test('extractTarGz reads archives made by the system tar', { skip: !hasTar() && 'no tar command' }, async (t) => {
  const folder = tempFolder(t);
  // A path over 100 characters makes GNU tar write a long-name record.
  const deep = path.join('src', 'a-rather-long-folder-name-'.repeat(3), 'another-long-folder-name-'.repeat(2));
  mkdirSync(path.join(folder, deep), { recursive: true });
  const big = Buffer.alloc(300_000).map((_, i) => (i * 7) % 251);
  writeFileSync(path.join(folder, deep, 'big.bin'), big);
  writeFileSync(path.join(folder, 'src', 'small.txt'), 'hello');
  const archive = path.join(folder, 'a.tar.gz');
  execFileSync('tar', ['czf', archive, '-C', folder, 'src']);
  const out = path.join(folder, 'out');
  await extractTarGz(archive, out);
  assert.ok(path.join(deep, 'big.bin').length > 100);
  assert.deepEqual(readFileSync(path.join(out, deep, 'big.bin')), big);
  assert.equal(readFileSync(path.join(out, 'src', 'small.txt'), 'utf8'), 'hello');
});

test('corrupt, truncated and path-escaping archives are UserErrors naming the archive', async (t) => {
  const folder = tempFolder(t);
  const archive = path.join(folder, 'x.tar.gz');
  const out = path.join(folder, 'out');
  writeFileSync(archive, gzipSync(Buffer.alloc(1024, 7)));
  await rejectsUser(extractTarGz(archive, out), /x\.tar\.gz: corrupt tar header/);
  writeFileSync(archive, Buffer.from('not gzip at all'));
  await rejectsUser(extractTarGz(archive, out), /x\.tar\.gz: cannot extract/);
  writeFileSync(archive, gzipSync(tar([['f.bin', Buffer.alloc(2000, 1)]]).subarray(0, 1500)));
  await rejectsUser(extractTarGz(archive, out), /x\.tar\.gz: truncated tar archive/);
  writeFileSync(archive, gzipSync(tar([['../escape.txt', Buffer.from('x')]])));
  await rejectsUser(extractTarGz(archive, out), /refusing to extract unsafe path "\.\.\/escape\.txt"/);
  assert.equal(existsSync(path.join(folder, 'escape.txt')), false);
});

function hasTar(): boolean {
  try {
    execFileSync('tar', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
