/**
 * The one home of every cap on what a file, a flag or a configuration may ask for. Files users
 * open may be hostile: these are checked before anything is allocated, and each refusal names
 * the cap so README › Limits can explain it. No TensorFlow.js here (the host imports it).
 */

const MiB = 1024 * 1024;

/** Model folders: model.json, weight shards, gccs.json. */
export const MODEL_LIMITS = {
  /** model.json (topology + manifest); real ones are a few hundred kB. */
  modelJsonBytes: 16 * MiB,
  /** All weight shards together (ResNet-18 on CIFAR is 45 MB). */
  weightBytes: 512 * MiB,
  /** gccs.json (per-epoch records included). */
  metaBytes: 4 * MiB,
  /**
   * Values (numbers, strings, lists, objects) in model.json or gccs.json, counted before parsing:
   * parsing holds about 300 bytes per value. ResNet-18's model.json has 2,556.
   */
  jsonValues: 200_000,
} as const;

/** Datasets: IDX, CIFAR, SVHN .mat and image folders (README › Limits). */
export const DATA_LIMITS = {
  /** Height and width of a dataset's images, i.e. of the model's input (ImageNet crops are 224). */
  imageSide: 1024,
  /**
   * Pixels of one PNG/JPEG of an image folder before resizing (4.2 MP); decoding holds 4 bytes per
   * pixel and jpeg-js several times that, whatever the file's size, so the header is checked first.
   */
  sourceImagePixels: 2048 * 2048,
  /** One PNG/JPEG file of an image folder. */
  sourceImageBytes: 64 * MiB,
  /**
   * Estimated memory of a loaded dataset: its images as bytes and labels as int32, held twice
   * (the loaded files and the train/validation/test splits copied from them).
   */
  datasetBytes: 1024 * MiB,
  /** One data file read into memory whole (a CIFAR batch, a .mat file, an extracted archive entry). */
  fileBytes: 1024 * MiB,
  /**
   * What one compressed stream may declare it inflates to (a gzipped IDX file, a compressed .mat
   * variable; SVHN's train X is 225 MB): a bomb stays within this, whatever its header claims.
   */
  inflatedBytes: 256 * MiB,
} as const;

/**
 * Experiment files, sweep files, results files and the flags that stand for them (README › Limits).
 * The schemas (schema/*.json) carry the same figures as maximum/maxItems; a test keeps them equal.
 */
export const CONFIG_LIMITS = {
  /** An experiment or sweep file (real ones are under 10 kB). */
  configFileBytes: 1 * MiB,
  /** Nesting of any JSON a user gives (ours nest 5 deep). */
  jsonDepth: 32,
  /** A path in a configuration (Linux's PATH_MAX), so no error message quotes a megabyte. */
  pathChars: 4096,
  /** Values of one grid (ε, IT, BS), whether start:stop:step, a comma list or a JSON list. */
  gridValues: 1000,
  /** Cells of one sweep (models × attacks × grid points), checked before they are built. */
  sweepCells: 100_000,
  /** Models, and attack entries, of one sweep. */
  sweepModels: 1000,
  sweepAttacks: 1000,
  /** PGD/TGSM gradient steps K, and JSMA/DeepFool maxIterations. */
  steps: 10_000,
  /** SPSA iterations IT. */
  iterations: 10_000,
  /** SPSA ±δ pairs per gradient estimate BS. */
  samples: 4096,
  /** Test samples attacked per cell, and latent vectors written by `gccs latent`. */
  count: 1_000_000,
  /** Training epochs. */
  epochs: 10_000,
  /** Training and attack batch size. */
  batchSize: 4096,
  /** Worker processes of a sweep or of data-parallel training. */
  workers: 64,
  /** Examples of the synthetic dataset's training or test part. */
  syntheticExamples: 100_000,
  /** A results file read to resume or compare (one line is about 1 kB). */
  resultsFileBytes: 256 * MiB,
} as const;

/** Messages from the extension's webviews (checked by each panel's messages.ts before the host uses them). */
export const WEBVIEW_LIMITS = {
  /** Samples the latent panel may ask `gccs latent` for (its input offers 10…10,000). */
  latentSamples: 10_000,
  /** A PNG data URL or CSV text a panel asks to save (a 4K chart is a few MB). */
  exportChars: 64 * MiB,
  /** An export's suggested file name, without extension. */
  exportNameChars: 120,
  /** A file path in a message or a panel's saved state. */
  pathChars: 4096,
  /** Results files one robustness panel shows. */
  panelSources: 1000,
} as const;

/** `gccs evaluate` and evaluateRobustness (src/core/robustness). */
export const ROBUSTNESS_LIMITS = {
  /** ε values of one evaluation (each runs every attack of the preset). */
  epsValues: 32,
  /** Presets of one sweep file (schema/sweep.schema.json `presets.maxItems`). */
  sweepPresets: 10,
} as const;

/** Worker processes of sweeps (src/core/sweep/pool.ts, src/worker/index.ts; README › Limits). */
export const WORKER_LIMITS = {
  /** A worker sends a heartbeat this often while its event loop runs. */
  heartbeatIntervalMs: 1000,
  /**
   * A worker silent this long, and not computing meanwhile (src/core/workerClient.ts), is hung: it is
   * killed and its cell reported as failed.
   */
  heartbeatTimeoutMs: 120_000,
} as const;

/** Attack parameters beyond the sweep grids (schema/sweep.schema.json repeats them). */
export const ATTACK_LIMITS = {
  /** Random restarts of PGD, TGSM and APGD. */
  restarts: 1000,
  /** Square attack's query budget per sample. */
  queries: 1_000_000,
} as const;

/** How attacks pack work into one pass (src/core/attacks/packed.ts); not user parameters. */
export const ATTACK_PACKING = {
  /**
   * Most input values (rows × H·W·C) in one packed forward or forward-and-backward pass: DeepFool's
   * and JSMA's class-tiled gradients, SPSA's ± pairs. 2^19 is 668 MNIST or 170 CIFAR images, whose
   * forward and backward activations in the reference CNN take a few hundred MB.
   */
  inputValuesPerPass: 2 ** 19,
} as const;

/** Defences and adversarial training (`gccs train --defence`, `--adversarial`). */
export const DEFENCE_LIMITS = {
  /** JR's random projections per sample (each is one more backward pass; D of them is exact). */
  projections: 64,
  /** Attack steps of PGD adversarial training per batch. */
  adversarialSteps: 100,
} as const;

/** ONNX models (`.onnx`, README › Evaluating ONNX models). */
export const ONNX_LIMITS = {
  /** The .onnx file itself, checked before it is decoded. */
  fileBytes: 512 * MiB,
  /** All initializer data, inline and external together (as MODEL_LIMITS.weightBytes). */
  tensorBytes: 512 * MiB,
  /** Nodes of the graph (ResNet-50 exported by PyTorch has about 180). */
  nodes: 20_000,
  /** Dimensions of any tensor of the file (initializers, inputs). */
  rank: 8,
  /** The preprocessing sidecar model.onnx.gccs.json. */
  sidecarBytes: 64 * 1024,
} as const;

/**
 * TensorFlow.js graph models (model.json with "format": "graph-model", README › GraphModels); their
 * model.json and weights take MODEL_LIMITS' caps, their preprocessing sidecar ONNX_LIMITS.sidecarBytes.
 */
export const GRAPH_MODEL_LIMITS = {
  /** Nodes of the graph (a Keras ResNet-50 converted by tensorflowjs_converter has about 300). */
  nodes: 20_000,
  /**
   * Values of one tensor the graph makes for one image, from the shapes inferred before anything
   * runs (ResNet-50's largest, at 224×224, has 802,816): a few nodes of a small model.json
   * (concatenations of a tensor with itself, broadcasts, paddings) could otherwise ask for terabytes.
   */
  tensorValues: 2 ** 26,
  /** Values of all the tensors the graph makes for one image together (gradients keep them all). */
  graphValues: 2 ** 28,
} as const;

/** The GCCS view of the activity bar (src/host/sidebar). */
export const SIDEBAR_LIMITS = {
  /** Rows listed per group (Experiments, Models, Results); the newest results first. */
  rowsPerGroup: 200,
} as const;

/** `gccs reproduce` (src/core/reproduce). */
export const REPRODUCE_LIMITS = {
  /** One model's evaluation file (gccs eval's numbers, gccs evaluate's JSON with per-sample bitsets), read when a run reuses it. */
  evaluationFileBytes: 16 * MiB,
} as const;

/** The robustness panel's adversarial-example gallery (src/core/inspect/examples.ts, a worker's `examples` request). */
export const GALLERY_LIMITS = {
  /** Samples one gallery shows (its picker offers 6…48). */
  samples: 48,
  /** Pixel values one answer carries (clean and adversarial, all samples): 48 CIFAR images take 0.3 M. */
  values: 4_000_000,
  /** A sweep cell's id in a webview message (a hex hash). */
  cellIdChars: 128,
} as const;

/** The wasm backend (src/core/backend/threaded.ts). */
export const WASM_LIMITS = {
  /** XNNPACK threads in one process (--threads, GCCS_WASM_THREADS): tfjs-backend-wasm's own cap. */
  maxThreads: 8,
} as const;
