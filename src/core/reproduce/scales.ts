/**
 * The scales of `gccs reproduce` (how much of the paper a run does). Plain data, no TensorFlow.js:
 * the extension host offers them in GCCS: Reproduce the Paper.
 */
/** The scale of a run: what the paper did, or less of it. Flags override any field. */
export interface ReproduceScale {
  description: string;
  /** Architecture of the models trained from scratch. */
  model: string;
  epochs: number;
  /** GCCS fine-tuning of the cross-entropy model (the paper: 100). */
  fineTuneEpochs: number;
  /** Adversarial fine-tuning of each regular model (the paper: 100). */
  adversarialEpochs: number;
  batchSize: number;
  /** Split ranges into the dataset's pool (null: the dataset's own parts); not used for the synthetic set. */
  trainRange: string | null;
  testRange: string | null;
  /** Test samples attacked per model (clean accuracy, F-score and r_AB use the whole test split). */
  count: number;
  /** ε values: this many, evenly spaced up to the dataset's largest ε in the paper. */
  epsPoints: number;
  /** JSMA's iterations (the paper: 200). */
  jsmaIterations: number;
  /** SPSA's working point (the paper: IT 50, BS 1024) for Figure 5, and the IT × BS grid of Table 7. */
  spsa: { iterations: number; samples: number; tableIterations: number[]; tableSamples: number[] };
}

export const SCALES = {
  paper: {
    description:
      "the paper's settings: ResNet-18, 1800 epochs, 100 of GCCS fine-tuning and 100 of adversarial fine-tuning, batch 200, the dataset's own train/test parts, 1000 test samples attacked at 5 ε, JSMA-200, SPSA at IT 50 × BS 1024 and Table 7's grid IT 10/50/100 × BS 256/1024/2048 (weeks on a CPU)",
    model: 'resnet18',
    epochs: 1800,
    fineTuneEpochs: 100,
    adversarialEpochs: 100,
    batchSize: 200,
    trainRange: null,
    testRange: null,
    count: 1000,
    epsPoints: 5,
    jsmaIterations: 200,
    spsa: { iterations: 50, samples: 1024, tableIterations: [10, 50, 100], tableSamples: [256, 1024, 2048] },
  },
  sample: {
    description:
      'the default: the MNIST sample of README › Results with the reference CNN and a few epochs per model: 3 epochs, 2 of fine-tuning and 2 of adversarial fine-tuning, batch 100, images 0–7999 to train and 8000–9999 to test, 100 attacked at 4 ε (0.025 to 0.1), JSMA-100, SPSA at IT 10 × BS 16 and a 2 × 2 grid (about 35 minutes on 2 quiet cores, CLR half of it)',
    model: 'cnn',
    epochs: 3,
    fineTuneEpochs: 2,
    adversarialEpochs: 2,
    batchSize: 100,
    trainRange: '0:8000',
    testRange: '8000:10000',
    count: 100,
    epsPoints: 4,
    jsmaIterations: 100,
    spsa: { iterations: 10, samples: 16, tableIterations: [5, 10], tableSamples: [16, 32] },
  },
  quick: {
    description:
      'a first look: reference CNN, 1 epoch each, batch 50, images 0–499 to train and 9000–9199 to test, 50 attacked at 2 ε, JSMA-20, SPSA at IT 10 × BS 16 and a 2 × 2 grid (README › Reproducing the paper: its time on 2 cores)',
    model: 'cnn',
    epochs: 1,
    fineTuneEpochs: 1,
    adversarialEpochs: 1,
    // 50: CLR with adversarial training at 100 (200 images a step) needs over 2 GiB of wasm memory.
    batchSize: 50,
    trainRange: '0:500',
    testRange: '9000:9200',
    count: 50,
    epsPoints: 2,
    jsmaIterations: 20,
    spsa: { iterations: 10, samples: 16, tableIterations: [5, 10], tableSamples: [8, 16] },
  },
} satisfies Record<string, ReproduceScale>;

export type ScaleName = keyof typeof SCALES;
export const SCALE_NAMES = Object.keys(SCALES) as ScaleName[];
export const DEFAULT_SCALE: ScaleName = 'sample';
