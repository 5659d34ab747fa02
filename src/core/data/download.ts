/**
 * Downloads MNIST, Fashion-MNIST, CIFAR-10 and CIFAR-100 from their official servers into a cache
 * folder, checking each file's SHA-256 (published in tensorflow/datasets' url_checksums).
 * A file is written under a temporary name, verified, then renamed, so a file with the final
 * name is always complete; a CIFAR archive is also extracted through a staging folder.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rename, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../errors';
import { isFile, isFolder } from './files';
import { extractTarGz } from './tar';

export type DownloadableKind = 'mnist' | 'fmnist' | 'cifar10' | 'cifar100';

interface RemoteFile {
  name: string;
  sha256: string;
  bytes: number;
}

interface RemoteDataset {
  baseUrl: string;
  files: RemoteFile[];
  /** For a dataset published as one archive (its only file): the folder the archive extracts to. */
  extractsTo?: string;
}

const REMOTE: Record<DownloadableKind, RemoteDataset> = {
  mnist: {
    baseUrl: 'https://storage.googleapis.com/cvdf-datasets/mnist',
    files: [
      { name: 'train-images-idx3-ubyte.gz', bytes: 9912422, sha256: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609' },
      { name: 'train-labels-idx1-ubyte.gz', bytes: 28881, sha256: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c' },
      { name: 't10k-images-idx3-ubyte.gz', bytes: 1648877, sha256: '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6' },
      { name: 't10k-labels-idx1-ubyte.gz', bytes: 4542, sha256: 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6' },
    ],
  },
  fmnist: {
    // The S3 website endpoint serves plain HTTP only; the checksums protect the content.
    baseUrl: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com',
    files: [
      { name: 'train-images-idx3-ubyte.gz', bytes: 26421880, sha256: '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84' },
      { name: 'train-labels-idx1-ubyte.gz', bytes: 29515, sha256: 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845' },
      { name: 't10k-images-idx3-ubyte.gz', bytes: 4422102, sha256: '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073' },
      { name: 't10k-labels-idx1-ubyte.gz', bytes: 5148, sha256: '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5' },
    ],
  },
  cifar10: {
    baseUrl: 'https://www.cs.toronto.edu/~kriz',
    files: [{ name: 'cifar-10-binary.tar.gz', bytes: 170052171, sha256: 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd' }],
    extractsTo: 'cifar-10-batches-bin',
  },
  cifar100: {
    baseUrl: 'https://www.cs.toronto.edu/~kriz',
    files: [{ name: 'cifar-100-binary.tar.gz', bytes: 168513733, sha256: '58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec' }],
    extractsTo: 'cifar-100-binary',
  },
};

export const DOWNLOADABLE_KINDS = Object.keys(REMOTE) as DownloadableKind[];

export interface DownloadOptions {
  /** Where to put the files; default `cacheFolder(kind)`. */
  folder?: string;
  /** Another server holding the same file names (a mirror, or a test server). */
  baseUrl?: string;
  /** Expected SHA-256 by file name, replacing the published ones (for a mirror or a test server). */
  checksums?: Record<string, string>;
  /** Progress lines. */
  log?: (message: string) => void;
  /** Give up when the server sends nothing for this long (default 30 s): a stalled connection otherwise hangs forever. */
  stallTimeoutMs?: number;
}

const DEFAULT_STALL_TIMEOUT_MS = 30_000;

/** `<root>/<kind>`, with root defaulting to ~/.cache/gccs-lab. */
export function cacheFolder(kind: DownloadableKind, root = path.join(os.homedir(), '.cache', 'gccs-lab')): string {
  return path.join(root, kind);
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function describeFailure(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

/** Fetches `url` into `target` via a temporary file that is renamed only once its SHA-256 matches. */
async function fetchVerified(url: string, target: string, sha256: string, byHand: string, stallTimeoutMs: number): Promise<void> {
  const temp = `${target}.${randomBytes(4).toString('hex')}.part`;
  const hash = createHash('sha256');
  const stall = new AbortController();
  let stallTimer: NodeJS.Timeout | undefined;
  const expectDataSoon = () => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => stall.abort(new Error(`no data for ${stallTimeoutMs / 1000} s`)), stallTimeoutMs);
  };
  try {
    expectDataSoon();
    const response = await fetch(url, { signal: stall.signal });
    if (!response.ok || !response.body) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    const reader = response.body.getReader();
    const file = await open(temp, 'w');
    try {
      for (let part = await reader.read(); !part.done; part = await reader.read()) {
        expectDataSoon();
        hash.update(part.value);
        await file.write(part.value);
      }
    } finally {
      await file.close();
    }
  } catch (err) {
    await rm(temp, { force: true });
    throw new UserError(`cannot download ${url} (${stall.signal.aborted ? (stall.signal.reason as Error).message : describeFailure(err)}); ${byHand}`);
  } finally {
    clearTimeout(stallTimer);
  }
  const actual = hash.digest('hex');
  if (actual !== sha256) {
    await rm(temp, { force: true });
    throw new UserError(`${url}: SHA-256 mismatch (expected ${sha256}, got ${actual}); the download was deleted`);
  }
  await rename(temp, target);
}

/** Extracts `archive` into a staging folder, then moves its top-level entries into `folder`. */
async function extractInto(archive: string, folder: string): Promise<void> {
  const staging = await mkdtemp(path.join(folder, '.extract-'));
  try {
    await extractTarGz(archive, staging);
    for (const entry of await readdir(staging)) {
      await rm(path.join(folder, entry), { recursive: true, force: true });
      await rename(path.join(staging, entry), path.join(folder, entry));
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Makes sure the dataset's files are in the cache folder (skipping those already there with the
 * right checksum) and returns that folder, ready for loadDataset({ kind, path }).
 */
export async function downloadDataset(kind: DownloadableKind, options: DownloadOptions = {}): Promise<string> {
  const remote = REMOTE[kind];
  const folder = options.folder ?? cacheFolder(kind);
  const baseUrl = (options.baseUrl ?? remote.baseUrl).replace(/\/+$/, '');
  const log = options.log ?? (() => undefined);
  const names = remote.files.map((file) => file.name).join(', ');
  const byHand = `put ${names} (from ${remote.baseUrl}) into ${folder} by hand, or pass --data <folder>`;
  await mkdir(folder, { recursive: true });
  for (const { name, bytes, sha256: published } of remote.files) {
    const target = path.join(folder, name);
    const sha256 = options.checksums?.[name] ?? published;
    if (await isFile(target)) {
      if ((await sha256OfFile(target)) === sha256) {
        log(`${name}: already in ${folder}`);
        continue;
      }
      log(`${name}: checksum differs, downloading it again`);
    }
    log(`${name}: downloading ${(bytes / 1e6).toFixed(1)} MB from ${baseUrl}`);
    await fetchVerified(`${baseUrl}/${name}`, target, sha256, byHand, options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS);
  }
  if (remote.extractsTo && !(await isFolder(path.join(folder, remote.extractsTo)))) {
    log(`${remote.files[0].name}: extracting into ${folder}`);
    await extractInto(path.join(folder, remote.files[0].name), folder);
  }
  return folder;
}
