/**
 * Property-based fuzzing of the dataset parsers (IDX, CIFAR, SVHN .mat, PNG/JPEG folders, .tar.gz):
 * valid files are generated, then mutated (truncated, bytes flipped, header sizes changed to
 * zero, huge or random values, garbage appended, before and after compression). Every case must
 * either load a consistent dataset or fail with one UserError line naming the file or folder:
 * never another error, never a hang, never an allocation beyond the limits.
 *
 *   npm run fuzz:data                 10,000 cases per parser (seed 1)
 *   npm run fuzz:data -- --runs 500 --seed 7 --only idx,mat
 *
 * test/unit/fuzz-data.test.ts runs the same properties with a small count.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { crc32, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { UserError } from '../src/core/errors';
import { DATA_LIMITS } from '../src/core/limits';
import { loadCifarFolder } from '../src/core/data/cifar';
import { loadIdxFolder } from '../src/core/data/idx';
import { loadImageFolder } from '../src/core/data/imageFolder';
import { loadSvhnFolder } from '../src/core/data/svhn';
import { extractTarGz } from '../src/core/data/tar';
import type { SplitRanges } from '../src/core/data/split';
import type { LoadedDataset } from '../src/core/data/types';
import { matElement } from '../test/helpers/fileFormats';

/** A case that neither resolves nor rejects within this long has hung. */
const HANG_MS = 20_000;

// ---------------------------------------------------------------- mutations

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; mask: number; header: boolean }
  | { kind: 'uint32'; at: number; value: number; littleEndian: boolean; header: boolean }
  | { kind: 'append'; bytes: Uint8Array };

/** Sizes a hostile header would declare: zero, one, just past a limit, the largest values. */
const HOSTILE_SIZES = [0, 1, 2, 3, 255, 256, 2000, 12000, 65535, 65536, 0x7fffffff, 0x80000000, 0xffffffff];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    mask: fc.integer({ min: 1, max: 255 }),
    header: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('uint32' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    value: fc.oneof(fc.constantFrom(...HOSTILE_SIZES), fc.nat({ max: 0xffffffff })),
    littleEndian: fc.boolean(),
    header: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
);

/** Mutations focused `header: true` land in the first 160 bytes, where the sizes are. */
function applyMutation(input: Uint8Array, m: Mutation): Uint8Array {
  const bytes = Buffer.from(input);
  const position = (at: number, header: boolean, width: number) => {
    const span = Math.max(0, (header ? Math.min(bytes.length, 160) : bytes.length) - width);
    return Math.min(span, Math.floor(at * (span + 1)));
  };
  switch (m.kind) {
    case 'truncate':
      return bytes.subarray(0, Math.floor(m.at * bytes.length));
    case 'flip':
      if (bytes.length > 0) bytes[position(m.at, m.header, 1)] ^= m.mask;
      return bytes;
    case 'uint32': {
      if (bytes.length < 4) return bytes;
      const at = position(m.at, m.header, 4);
      if (m.littleEndian) bytes.writeUInt32LE(m.value, at);
      else bytes.writeUInt32BE(m.value, at);
      return bytes;
    }
    case 'append':
      return Buffer.concat([bytes, m.bytes]);
  }
}

/** Two in five files are left intact, so cases that load are common too. */
const mutations = fc.oneof({ weight: 2, arbitrary: fc.constant<Mutation[]>([]) }, { weight: 3, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) });
const mutate = (bytes: Uint8Array, list: Mutation[]) => list.reduce(applyMutation, bytes);

// ---------------------------------------------------------------- file generators

function idxBytes(dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, data]);
}


function matMatrix(name: string, classId: number, dims: number[], dataType: number, data: Buffer): Buffer {
  const flags = Buffer.alloc(8);
  flags.writeUInt32LE(classId, 0);
  const dimBytes = Buffer.alloc(4 * dims.length);
  dims.forEach((d, i) => dimBytes.writeInt32LE(d, 4 * i));
  return matElement(14, Buffer.concat([matElement(6, flags), matElement(5, dimBytes), matElement(1, Buffer.from(name, 'latin1')), matElement(dataType, data)]));
}

function matFile(elements: Buffer[]): Buffer {
  const header = Buffer.alloc(128, 0x20);
  header.write('MATLAB 5.0 MAT-file, Platform: fuzz', 0, 'latin1');
  header.fill(0, 116, 124);
  header.writeUInt16LE(0x0100, 124);
  header.write('IM', 126, 'latin1');
  return Buffer.concat([header, ...elements]);
}

function matCompressed(inner: Buffer): Buffer {
  const body = deflateSync(inner);
  const tag = Buffer.alloc(8);
  tag.writeUInt32LE(15, 0);
  tag.writeUInt32LE(body.length, 4);
  return Buffer.concat([tag, body]);
}

/** PNG with its IHDR width, height and interlace method replaced and the chunk's CRC recomputed (so only the header lies). */
function pngWithSize(png: Buffer, width: number, height: number, interlaced: boolean): Buffer {
  const out = Buffer.from(png);
  out.writeUInt32BE(width, 16);
  out.writeUInt32BE(height, 20);
  out[28] = interlaced ? 1 : 0;
  out.writeUInt32BE(crc32(out.subarray(12, 29)), 29);
  return out;
}

/** JPEG with its frame header's (SOF0, as jpeg-js writes) height and width replaced. */
function jpegWithSize(jpg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpg);
  const sof = out.indexOf(Buffer.from([0xff, 0xc0]));
  if (sof >= 0 && sof + 9 <= out.length) {
    out.writeUInt16BE(height & 0xffff, sof + 5);
    out.writeUInt16BE(width & 0xffff, sof + 7);
  }
  return out;
}

function tarHeader(name: string, size: number, type: string): Buffer {
  const block = Buffer.alloc(512);
  block.write(name, 0, 100, 'utf8');
  block.write('0000644\0', 100, 'latin1');
  block.write(size.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
  block.write(type, 156, 'latin1');
  block.write('ustar\0', 257, 'latin1');
  block.write('00', 263, 'latin1');
  block.fill(0x20, 148, 156);
  const sum = block.reduce((a, b) => a + b, 0);
  block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return block;
}

function tarBytes(entries: { name: string; data: Uint8Array }[]): Buffer {
  const parts: Buffer[] = [];
  for (const { name, data } of entries) {
    parts.push(tarHeader(name, data.length, '0'), Buffer.from(data), Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  return Buffer.concat([...parts, Buffer.alloc(1024)]);
}

// ---------------------------------------------------------------- targets

/** The files of one case (path inside the case folder → bytes) and how to load them. */
export interface FuzzTarget {
  name: string;
  files: fc.Arbitrary<Record<string, Uint8Array>>;
  /** Loads the case folder (with split ranges, which decide what is loaded); the result is checked by `checkDataset` unless `check` is given. */
  load(folder: string, ranges: SplitRanges): Promise<unknown>;
  check?(folder: string, result: unknown): void;
}

/** Split ranges as users write them, in bounds or not, usually absent. */
const rangeText = fc.tuple(fc.nat(12), fc.nat(12)).map(([a, b]) => `${Math.min(a, b)}:${Math.max(a, b) + 1}`);
const splitRanges: fc.Arbitrary<SplitRanges> = fc.record(
  { trainRange: fc.option(rangeText, { nil: undefined, freq: 2 }), testRange: fc.option(rangeText, { nil: undefined, freq: 2 }) },
  { requiredKeys: [] },
);

const small = (max: number) => fc.integer({ min: 1, max });

const idxTarget: FuzzTarget = {
  name: 'idx',
  files: fc
    .record({
      count: fc.integer({ min: 0, max: 5 }),
      h: small(6),
      w: small(6),
      seed: fc.uint8Array({ minLength: 216, maxLength: 216 }),
      which: fc.constantFrom('train', 't10k'),
      gzip: fc.boolean(),
      imageMutations: mutations,
      labelMutations: mutations,
      afterGzip: mutations,
    })
    .map(({ count, h, w, seed, which, gzip, imageMutations, labelMutations, afterGzip }) => {
      const pixels = seed.subarray(0, count * h * w);
      const labels = seed.subarray(200, 200 + count).map((v) => v % 10);
      const pack = (bytes: Uint8Array) => (gzip ? mutate(gzipSync(bytes), afterGzip) : bytes);
      const ext = gzip ? '.gz' : '';
      return {
        [`${which}-images-idx3-ubyte${ext}`]: pack(mutate(idxBytes([count, h, w], pixels), imageMutations)),
        [`${which}-labels-idx1-ubyte${ext}`]: pack(mutate(idxBytes([count], labels), labelMutations)),
      };
    }),
  load: (folder, ranges) => loadIdxFolder(folder, 'mnist', ranges),
};

const cifarTarget: FuzzTarget = {
  name: 'cifar',
  files: fc
    .record({
      train: fc.integer({ min: 0, max: 3 }),
      test: fc.integer({ min: 0, max: 2 }),
      labels: fc.uint8Array({ minLength: 5, maxLength: 5 }),
      fill: fc.integer({ min: 0, max: 255 }),
      trainMutations: mutations,
      testMutations: mutations,
      names: fc.option(fc.array(fc.constantFrom('cat', 'dog', '', ' ', 'x\r'), { minLength: 9, maxLength: 12 }), { nil: undefined, freq: 2 }),
    })
    .map(({ train, test, labels, fill, trainMutations, testMutations, names }) => {
      const records = (n: number, offset: number) =>
        Buffer.concat(Array.from({ length: n }, (_, i) => Buffer.concat([Buffer.from([labels[offset + i] % 12]), Buffer.alloc(3072, fill + i)])));
      const files: Record<string, Uint8Array> = {};
      if (train > 0) files['data_batch_1.bin'] = mutate(records(train, 0), trainMutations);
      if (test > 0) files['test_batch.bin'] = mutate(records(test, 3), testMutations);
      if (names) files['batches.meta.txt'] = Buffer.from(names.join('\n'));
      return files;
    }),
  load: (folder, ranges) => loadCifarFolder(folder, 'cifar10', ranges),
};

const matTarget: FuzzTarget = {
  name: 'mat',
  files: fc
    .record({
      n: small(4),
      h: small(5),
      w: small(5),
      seed: fc.uint8Array({ minLength: 300, maxLength: 300 }),
      labels: fc.array(
        fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 10 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 11, 2.5, -1, NaN) }),
        { minLength: 4, maxLength: 4 },
      ),
      compressX: fc.boolean(),
      compressY: fc.boolean(),
      xMutations: mutations,
      yMutations: mutations,
      fileMutations: mutations,
    })
    .map(({ n, h, w, seed, labels, compressX, compressY, xMutations, yMutations, fileMutations }) => {
      const xData = Buffer.from(seed.subarray(0, h * w * 3 * n));
      const yData = Buffer.alloc(8 * n);
      for (let i = 0; i < n; i++) yData.writeDoubleLE(labels[i], 8 * i);
      const x = mutate(matMatrix('X', 9, [h, w, 3, n], 2, xData), xMutations) as Buffer;
      const y = mutate(matMatrix('y', 6, [n, 1], 9, yData), yMutations) as Buffer;
      const file = matFile([compressX ? matCompressed(x) : x, compressY ? matCompressed(y) : y]);
      return { 'train_32x32.mat': mutate(file, fileMutations) };
    }),
  load: (folder, ranges) => loadSvhnFolder(folder, ranges),
};

function rgba(w: number, h: number, gray: boolean, seed: ArrayLike<number>): Buffer {
  const data = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    const v = (seed[0] + i * (seed[1] ?? 7)) & 255;
    data.set(gray ? [v, v, v, 255] : [v, (seed[2] ?? 3) ^ v, seed[3] ?? 99, 255], 4 * i);
  }
  return data;
}

const encodePng = (w: number, h: number, gray: boolean, seed: ArrayLike<number>) =>
  PNG.sync.write(Object.assign(new PNG({ width: w, height: h }), { data: rgba(w, h, gray, seed) }));

/** jpeg-js takes about 90 ms to encode even a tiny image, so JPEGs are at most 4×4 and encodings are reused (32 of them). */
const jpegCache = new Map<string, Buffer>();
function encodeJpeg(width: number, height: number, gray: boolean, variant: number): Buffer {
  const [w, h] = [1 + ((width - 1) % 4), 1 + ((height - 1) % 4)];
  const key = `${w}×${h}:${gray}:${variant}`;
  if (!jpegCache.has(key)) jpegCache.set(key, Buffer.from(jpeg.encode({ data: rgba(w, h, gray, [variant * 60]), width: w, height: h }, 80).data));
  return jpegCache.get(key)!;
}

const imageFolderTarget: FuzzTarget = {
  name: 'image-folder',
  files: fc
    .record({
      images: fc.array(
        fc.record({ w: small(9), h: small(9), jpeg: fc.boolean(), gray: fc.boolean(), seed: fc.uint8Array({ minLength: 4, maxLength: 4 }) }),
        { minLength: 2, maxLength: 4 },
      ),
      victim: fc.nat(),
      // Mostly none; a header claiming a size near the limits is decoded, which takes a second, so it is rare.
      declared: fc.oneof(
        { weight: 16, arbitrary: fc.constant(undefined) },
        {
          weight: 4,
          arbitrary: fc.record({
            w: fc.constantFrom(0, 1, 2, 9, 12000, 65535, 0x7fffffff),
            h: fc.constantFrom(0, 1, 3, 9, 12000, 65535),
            interlaced: fc.boolean(),
          }),
        },
        { weight: 1, arbitrary: fc.record({ w: fc.constantFrom(2048, 2049, 1024, 1025), h: fc.constantFrom(2048, 1024), interlaced: fc.boolean() }) },
      ),
      byteMutations: mutations,
    })
    .map(({ images, victim, declared, byteMutations }) => {
      const encoded = images.map(({ w, h, jpeg: isJpeg, gray, seed }) => (isJpeg ? encodeJpeg(w, h, gray, seed[0] & 1) : encodePng(w, h, gray, seed)));
      const v = victim % encoded.length;
      if (declared) {
        const isPng = encoded[v][0] === 0x89;
        encoded[v] = isPng ? pngWithSize(encoded[v], declared.w, declared.h, declared.interlaced) : jpegWithSize(encoded[v], declared.w, declared.h);
      }
      encoded[v] = mutate(encoded[v], byteMutations) as Buffer;
      const files: Record<string, Uint8Array> = {};
      encoded.forEach((bytes, i) => (files[`${i % 2 === 0 ? 'a' : 'b'}/${i}.${images[i].jpeg ? 'jpg' : 'png'}`] = bytes));
      return files;
    }),
  load: (folder, ranges) => loadImageFolder(folder, {}, ranges),
};

const tarTarget: FuzzTarget = {
  name: 'tar',
  files: fc
    .record({
      entries: fc.array(
        fc.record({
          name: fc.constantFrom('a.bin', 'dir/b.bin', '../escape.bin', '/abs.bin', 'x/../../up.bin', 'ok/c.txt'),
          data: fc.uint8Array({ maxLength: 700 }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      tarMutations: mutations,
      gzMutations: mutations,
    })
    .map(({ entries, tarMutations, gzMutations }) => ({ 'archive.tar.gz': mutate(gzipSync(mutate(tarBytes(entries), tarMutations)), gzMutations) })),
  load: async (folder) => {
    await extractTarGz(path.join(folder, 'archive.tar.gz'), path.join(folder, 'out'));
    return undefined;
  },
  check: () => undefined,
};

export const FUZZ_TARGETS: FuzzTarget[] = [idxTarget, cifarTarget, matTarget, imageFolderTarget, tarTarget];

// ---------------------------------------------------------------- properties

/** A loaded dataset must be consistent: sizes agree, labels in range, images within the limits. */
function checkDataset(folder: string, result: unknown): void {
  const dataset = result as LoadedDataset;
  for (const part of [dataset.train, dataset.test]) {
    if (!part) continue;
    const [h, w, c] = part.shape;
    if (!(h >= 1 && w >= 1 && h <= DATA_LIMITS.imageSide && w <= DATA_LIMITS.imageSide && (c === 1 || c === 3))) {
      throw new Error(`${folder}: loaded shape ${part.shape.join('×')}`);
    }
    if (part.pixels.length !== part.labels.length * h * w * c) throw new Error(`${folder}: ${part.pixels.length} pixel bytes for ${part.labels.length} images`);
    if (part.labels.some((label) => label < 0 || label >= dataset.classNames.length)) throw new Error(`${folder}: label outside the classes`);
  }
  for (const name of ['train', 'test'] as const) {
    const window = dataset.windows?.[name] as { start: number; end: number; total: number } | undefined;
    if (window && (window.end - window.start !== dataset[name]?.labels.length || window.start < 0 || window.end > window.total)) {
      throw new Error(`${folder}: ${name} window ${JSON.stringify(window)} does not match the ${dataset[name]?.labels.length} examples loaded`);
    }
  }
}

/** A dataset loaded for split ranges must hold exactly the examples of the whole dataset its windows say. */
async function checkSameAsWhole(target: FuzzTarget, folder: string, part: LoadedDataset): Promise<void> {
  const whole = (await target.load(folder, {}).catch(() => undefined)) as LoadedDataset | undefined;
  if (!whole) return; // a range may skip what makes the whole dataset invalid (a bad label, say)
  for (const name of ['train', 'test'] as const) {
    const loaded = part[name];
    const all = whole[name];
    const window = part.windows?.[name] as { start: number; end: number } | undefined;
    if (!loaded || !all || !window) continue;
    const size = loaded.shape[0] * loaded.shape[1] * loaded.shape[2];
    const same =
      loaded.shape.join() === all.shape.join() &&
      Buffer.from(loaded.pixels).equals(Buffer.from(all.pixels.subarray(window.start * size, window.end * size))) &&
      loaded.labels.every((label, i) => label === all.labels[window.start + i]);
    if (!same) throw new Error(`${folder}: the ${name} examples loaded for ${JSON.stringify(window)} differ from those of the whole dataset`);
  }
}

/** Every entry under `folder`, relative, so a test can see that nothing was written outside the extraction folder. */
function listTree(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' }).sort();
}

/** Loads a written case, and fails unless the outcome is a consistent dataset or a one-line UserError naming the case. */
async function loadCase(target: FuzzTarget, folder: string, ranges: SplitRanges): Promise<'loaded' | 'refused'> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`hung for ${HANG_MS} ms`)), HANG_MS)));
  try {
    const result = await Promise.race([target.load(folder, ranges), hang]);
    (target.check ?? checkDataset)(folder, result);
    if (!target.check && (ranges.trainRange || ranges.testRange)) await checkSameAsWhole(target, folder, result as LoadedDataset);
    return 'loaded';
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    if (err.message.includes('\n')) throw new Error(`a UserError of several lines: ${JSON.stringify(err.message)}`, { cause: err });
    if (!err.message.includes(folder)) throw new Error(`a UserError that does not name the file: ${err.message}`, { cause: err });
    return 'refused';
  } finally {
    clearTimeout(timer);
  }
}

/** Runs one case: writes its files, loads them (loadCase); a tar extraction that wrote outside its folder fails before any other failure. */
async function runCase(target: FuzzTarget, folder: string, files: Record<string, Uint8Array>, ranges: SplitRanges): Promise<'loaded' | 'refused'> {
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder);
  for (const [name, bytes] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(folder, name)), { recursive: true });
    writeFileSync(path.join(folder, name), bytes);
  }
  const before = listTree(folder);
  const outcome = await loadCase(target, folder, ranges).then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (target.name === 'tar') {
    const escaped = listTree(folder).filter((entry) => !before.includes(entry) && entry !== 'out' && !entry.startsWith(`out${path.sep}`));
    if (escaped.length > 0) throw new Error(`extraction wrote outside its folder: ${escaped.join(', ')}`);
  }
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}

export interface FuzzSummary {
  target: string;
  runs: number;
  loaded: number;
  refused: number;
  seconds: number;
  /** Peak resident set size of this process so far, MB. */
  maxRssMb: number;
}

/** Runs `runs` generated cases against one target; throws fast-check's report (seed, counterexample) on the first failure. */
export async function fuzzTarget(target: FuzzTarget, runs: number, seed: number): Promise<FuzzSummary> {
  const root = mkdtempSync(path.join(os.tmpdir(), `gccs-fuzz-${target.name}-`));
  const folder = path.join(root, 'case');
  const counts = { loaded: 0, refused: 0 };
  const start = process.hrtime.bigint();
  try {
    await fc.assert(
      fc.asyncProperty(target.files, splitRanges, async (files, ranges) => {
        counts[await runCase(target, folder, files, ranges)]++;
      }),
      { numRuns: runs, seed, endOnFailure: true },
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return {
    target: target.name,
    runs,
    ...counts,
    seconds: Number(process.hrtime.bigint() - start) / 1e9,
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

function flag(args: string[], name: string): string | undefined {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
}

async function main(args: string[]): Promise<number> {
  const runs = Number(flag(args, 'runs') ?? 10_000);
  const seed = Number(flag(args, 'seed') ?? 1);
  const only = flag(args, 'only')?.split(',');
  const targets = FUZZ_TARGETS.filter((target) => !only || only.includes(target.name));
  let failed = 0;
  for (const target of targets) {
    try {
      const s = await fuzzTarget(target, runs, seed);
      console.log(`${s.target}: ${s.runs} cases, ${s.loaded} loaded, ${s.refused} refused with one line, 0 failures (${s.seconds.toFixed(1)} s, peak RSS ${s.maxRssMb} MB)`);
    } catch (err) {
      failed++;
      console.log(`${target.name}: FAILED\n${(err as Error).message}`);
    }
  }
  return failed === 0 ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
