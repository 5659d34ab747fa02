/**
 * The weights a Keras / TensorFlow.js LayersModel topology implies, found without TensorFlow.js
 * (the extension host uses it) and without allocating them: shapes are propagated through the
 * layers so that, e.g., a Dense layer's kernel is [input width, units]. Building the model with
 * TensorFlow.js allocates exactly these weights, so checking them against the manifest and the
 * caps first keeps a hostile topology (a Dense layer of 400,000 units) from allocating anything.
 * Covers the layer classes of tfjs-layers that image classifiers use; any other class is refused.
 */
import { UserError } from '../errors';
import { quote } from './modelFolder';

/** A tensor shape with its batch dimension first; null where the model leaves a size open. */
type Shape = (number | null)[];
type Config = Record<string, unknown>;

export interface ImpliedWeight {
  /** `layer/weight`, as TensorFlow.js names it in the manifest. */
  key: string;
  shape: number[];
}

interface LayerOutcome {
  outputs: Shape[];
  weights: [string, number[]][];
}

/** Errors about one layer: `file: layer "name" (Class): problem`. */
class LayerContext {
  constructor(
    readonly file: string,
    readonly name: string,
    readonly className: string,
    readonly config: Config,
  ) {}

  fail(problem: string): never {
    throw new UserError(`${this.file}: layer ${quote(this.name)} (${this.className}): ${problem}`);
  }

  /** A positive whole number from the config (or the default when absent). */
  positive(key: string, fallback?: number): number {
    const value = this.config[key] ?? fallback;
    if (!Number.isSafeInteger(value) || (value as number) < 1) this.fail(`${key} must be a positive whole number (got ${quote(value)})`);
    return value as number;
  }

  /** An int or a list of `n` ints (kernel sizes, strides), each positive. */
  tuple(key: string, n: number, fallback?: number | number[]): number[] {
    const value = this.config[key] ?? fallback;
    const list = typeof value === 'number' ? Array<number>(n).fill(value) : value;
    if (!Array.isArray(list) || list.length !== n || !list.every((v) => Number.isSafeInteger(v) && v >= 1)) {
      this.fail(`${key} must be a positive whole number or a list of ${n} (got ${quote(value)})`);
    }
    return list as number[];
  }

  flag(key: string, fallback: boolean): boolean {
    const value = this.config[key] ?? fallback;
    if (typeof value !== 'boolean') this.fail(`${key} must be true or false (got ${quote(value)})`);
    return value;
  }

  choice<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const value = this.config[key] ?? fallback;
    if (!allowed.includes(value as T)) this.fail(`${key} must be one of ${allowed.join(', ')} (got ${quote(value)})`);
    return value as T;
  }

  /** The size of `shape` along `axis` (negative from the end), which must be known. */
  dim(shape: Shape, axis: number, what: string): number {
    const size = shape[axis < 0 ? shape.length + axis : axis];
    if (typeof size !== 'number') this.fail(`the ${what} of its input ${formatShape(shape)} is not known`);
    return size;
  }

  /** The one input of a single-input layer, of the given rank (batch included) when stated. */
  single(inputs: Shape[], rank?: number): Shape {
    if (inputs.length !== 1) this.fail(`takes one input, not ${inputs.length}`);
    if (rank !== undefined && inputs[0].length !== rank) this.fail(`needs an input of rank ${rank} (got ${formatShape(inputs[0])})`);
    return inputs[0];
  }
}

const formatShape = (shape: Shape) => `[${shape.map((d) => d ?? 'null').join(', ')}]`;
const product = (values: number[]) => values.reduce((a, b) => a * b, 1);

function convLength(length: number | null, kernel: number, padding: string, stride: number, dilation = 1): number | null {
  if (length === null) return null;
  const out = padding === 'same' || padding === 'causal' ? length : length - (kernel + (kernel - 1) * (dilation - 1)) + 1;
  return Math.floor((out + stride - 1) / stride);
}

function deconvLength(length: number | null, kernel: number, padding: string, stride: number): number | null {
  if (length === null) return null;
  return padding === 'valid' ? length * stride + Math.max(kernel - stride, 0) : length * stride;
}

/** Splits an input of rank n + 2 into batch, spatial sizes and channels, by data_format. */
function spatial(at: LayerContext, input: Shape, n: number) {
  const channelsFirst = at.choice('data_format', ['channels_last', 'channels_first'], 'channels_last') === 'channels_first';
  const sizes = channelsFirst ? input.slice(2) : input.slice(1, 1 + n);
  const channelAxis = channelsFirst ? 1 : n + 1;
  const join = (outSizes: (number | null)[], channels: number | null): Shape =>
    channelsFirst ? [input[0], channels, ...outSizes] : [input[0], ...outSizes, channels];
  return { sizes, channels: input[channelAxis], channelAxis, join };
}

function convolution(n: number, kind: 'conv' | 'transpose' | 'depthwise' | 'separable') {
  return (at: LayerContext, inputs: Shape[]): LayerOutcome => {
    const input = at.single(inputs, n + 2);
    const { sizes, channelAxis, join } = spatial(at, input, n);
    const channelsIn = at.dim(input, channelAxis, 'channel count');
    const kernel = at.tuple('kernel_size', n);
    const strides = at.tuple('strides', n, 1);
    const dilation = at.tuple('dilation_rate', n, 1);
    const padding = at.choice('padding', n === 1 ? ['valid', 'same', 'causal'] : ['valid', 'same'], 'valid');
    const multiplier = kind === 'depthwise' || kind === 'separable' ? at.positive('depth_multiplier', 1) : 1;
    const filters = kind === 'depthwise' ? channelsIn * multiplier : at.positive('filters');
    const weights: [string, number[]][] =
      kind === 'conv'
        ? [['kernel', [...kernel, channelsIn, filters]]]
        : kind === 'transpose'
          ? [['kernel', [...kernel, filters, channelsIn]]]
          : kind === 'depthwise'
            ? [['depthwise_kernel', [...kernel, channelsIn, multiplier]]]
            : [
                ['depthwise_kernel', [...kernel, channelsIn, multiplier]],
                ['pointwise_kernel', [...Array<number>(n).fill(1), channelsIn * multiplier, filters]],
              ];
    if (at.flag('use_bias', true)) weights.push(['bias', [filters]]);
    const outSizes = sizes.map((size, i) =>
      kind === 'transpose' ? deconvLength(size, kernel[i], padding, strides[i]) : convLength(size, kernel[i], padding, strides[i], dilation[i]),
    );
    return { outputs: [join(outSizes, filters)], weights };
  };
}

function pooling(n: number) {
  return (at: LayerContext, inputs: Shape[]): LayerOutcome => {
    const input = at.single(inputs, n + 2);
    const { sizes, channels, join } = spatial(at, input, n);
    const pool = at.tuple('pool_size', n, 2);
    const strides = at.config.strides == null ? pool : at.tuple('strides', n);
    const padding = at.choice('padding', ['valid', 'same'], 'valid');
    return { outputs: [join(sizes.map((size, i) => convLength(size, pool[i], padding, strides[i])), channels)], weights: [] };
  };
}

function globalPooling(n: number) {
  return (at: LayerContext, inputs: Shape[]): LayerOutcome => {
    const input = at.single(inputs, n + 2);
    return { outputs: [[input[0], spatial(at, input, n).channels]], weights: [] };
  };
}

const sameShape = (at: LayerContext, inputs: Shape[]): LayerOutcome => ({ outputs: [at.single(inputs)], weights: [] });

/** Elementwise merges (Add, Multiply, ...): the inputs broadcast to one shape. */
function merge(at: LayerContext, inputs: Shape[]): LayerOutcome {
  if (inputs.length < 2) at.fail(`merges at least two inputs, not ${inputs.length}`);
  const rank = Math.max(...inputs.map((s) => s.length));
  const output: Shape = Array.from({ length: rank }, (_, i) => {
    const sizes = inputs.map((s) => s[i - rank + s.length]).filter((d): d is number => typeof d === 'number');
    return sizes.find((d) => d !== 1) ?? (sizes.length ? 1 : null);
  });
  return { outputs: [output], weights: [] };
}

function concatenate(at: LayerContext, inputs: Shape[]): LayerOutcome {
  if (inputs.length < 2) at.fail(`concatenates at least two inputs, not ${inputs.length}`);
  const axis = at.config.axis ?? -1;
  const rank = inputs[0].length;
  if (!Number.isSafeInteger(axis) || (axis as number) < -rank || (axis as number) >= rank) at.fail(`axis must be a whole number in [${-rank}, ${rank - 1}] (got ${quote(axis)})`);
  const k = (axis as number) < 0 ? rank + (axis as number) : (axis as number);
  if (inputs.some((s) => s.length !== rank)) at.fail('concatenates inputs of different ranks');
  const output = [...inputs[0]];
  output[k] = inputs.every((s) => s[k] !== null) ? inputs.reduce((sum, s) => sum + (s[k] as number), 0) : null;
  return { outputs: [output], weights: [] };
}

function dense(at: LayerContext, inputs: Shape[]): LayerOutcome {
  const input = at.single(inputs);
  if (input.length < 2) at.fail(`needs an input of rank ≥ 2 (got ${formatShape(input)})`);
  const width = at.dim(input, -1, 'last dimension');
  const units = at.positive('units');
  const weights: [string, number[]][] = [['kernel', [width, units]]];
  if (at.flag('use_bias', true)) weights.push(['bias', [units]]);
  return { outputs: [[...input.slice(0, -1), units]], weights };
}

/** The axes a normalization layer normalizes over, as non-negative indices into `input`. */
function normalizedAxes(at: LayerContext, input: Shape, fallback: number): number[] {
  const value = at.config.axis ?? fallback;
  const axes = typeof value === 'number' ? [value] : value;
  const rank = input.length;
  const nonBatchAxis = (a: unknown) => Number.isSafeInteger(a) && (a as number) >= -rank && (a as number) < rank && a !== 0 && a !== -rank;
  if (!Array.isArray(axes) || axes.length === 0 || !axes.every(nonBatchAxis)) {
    at.fail(`axis must be a non-batch axis of its input ${formatShape(input)} (got ${quote(value)})`);
  }
  return (axes as number[]).map((a) => (a < 0 ? input.length + a : a));
}

function batchNormalization(at: LayerContext, inputs: Shape[]): LayerOutcome {
  const input = at.single(inputs);
  const axes = normalizedAxes(at, input, -1);
  if (axes.length !== 1) at.fail('axis must be one axis');
  const size = [at.dim(input, axes[0], 'normalized axis')];
  const weights: [string, number[]][] = [];
  if (at.flag('scale', true)) weights.push(['gamma', size]);
  if (at.flag('center', true)) weights.push(['beta', size]);
  weights.push(['moving_mean', size], ['moving_variance', size]);
  return { outputs: [input], weights };
}

function layerNormalization(at: LayerContext, inputs: Shape[]): LayerOutcome {
  const input = at.single(inputs);
  const shape = normalizedAxes(at, input, -1).map((a) => at.dim(input, a, 'normalized axis'));
  const weights: [string, number[]][] = [];
  if (at.flag('scale', true)) weights.push(['gamma', shape]);
  if (at.flag('center', true)) weights.push(['beta', shape]);
  return { outputs: [input], weights };
}

function flatten(at: LayerContext, inputs: Shape[]): LayerOutcome {
  const input = at.single(inputs);
  if (input.length < 3) at.fail(`needs an input of rank ≥ 3 (got ${formatShape(input)})`);
  const rest = input.slice(1);
  return { outputs: [[input[0], rest.every((d) => d !== null) ? product(rest as number[]) : null]], weights: [] };
}

function reshape(at: LayerContext, inputs: Shape[]): LayerOutcome {
  const input = at.single(inputs);
  const target = at.config.target_shape;
  if (!Array.isArray(target) || !target.every((d) => Number.isSafeInteger(d) && (d >= 1 || d === -1)) || target.filter((d) => d === -1).length > 1) {
    at.fail(`target_shape must be a list of positive whole numbers with at most one -1 (got ${quote(target)})`);
  }
  const known = input.slice(1);
  if (!target.includes(-1) && known.every((d) => d !== null) && product(known as number[]) !== product(target as number[])) {
    at.fail(`cannot reshape ${formatShape(input)} to ${formatShape([null, ...(target as number[])])}`);
  }
  // As TensorFlow.js builds it: a -1 stays unknown (null) in the symbolic shape.
  return { outputs: [[input[0], ...(target as number[]).map((d) => (d === -1 ? null : d))]], weights: [] };
}

function permute(at: LayerContext, inputs: Shape[]): LayerOutcome {
  const input = at.single(inputs);
  const dims = at.config.dims;
  const rank = input.length - 1;
  if (!Array.isArray(dims) || dims.length !== rank || [...dims].sort((a, b) => a - b).some((d, i) => d !== i + 1)) {
    at.fail(`dims must be a permutation of 1..${rank} (got ${quote(dims)})`);
  }
  return { outputs: [[input[0], ...(dims as number[]).map((d) => input[d])]], weights: [] };
}

/** ZeroPadding2D / Cropping2D: an int, [rows, cols] or [[top, bottom], [left, right]] added or removed. */
function padding2d(key: string, sign: 1 | -1) {
  return (at: LayerContext, inputs: Shape[]): LayerOutcome => {
    const input = at.single(inputs, 4);
    const value = at.config[key] ?? (sign === 1 ? 1 : 0);
    const pairs =
      typeof value === 'number' ? [[value, value], [value, value]] : Array.isArray(value) && value.every((v) => typeof v === 'number') ? (value as number[]).map((v) => [v, v]) : value;
    const isPair = (p: unknown) => Array.isArray(p) && p.length === 2 && p.every((v) => Number.isSafeInteger(v) && v >= 0);
    if (!Array.isArray(pairs) || pairs.length !== 2 || !pairs.every(isPair)) {
      at.fail(`${key} must be a whole number ≥ 0, two of them, or two pairs (got ${quote(value)})`);
    }
    const { sizes, channels, join } = spatial(at, input, 2);
    const out = sizes.map((size, i) => (size === null ? null : size + sign * ((pairs as number[][])[i][0] + (pairs as number[][])[i][1])));
    if (out.some((d) => d !== null && d < 1)) at.fail(`crops its input ${formatShape(input)} to nothing`);
    return { outputs: [join(out, channels)], weights: [] };
  };
}

function upSampling2d(at: LayerContext, inputs: Shape[]): LayerOutcome {
  const input = at.single(inputs, 4);
  const size = at.tuple('size', 2, 2);
  const { sizes, channels, join } = spatial(at, input, 2);
  return { outputs: [join(sizes.map((d, i) => (d === null ? null : d * size[i])), channels)], weights: [] };
}

function repeatVector(at: LayerContext, inputs: Shape[]): LayerOutcome {
  const input = at.single(inputs, 2);
  return { outputs: [[input[0], at.positive('n'), input[1]]], weights: [] };
}

function embedding(at: LayerContext, inputs: Shape[]): LayerOutcome {
  const input = at.single(inputs);
  const outputDim = at.positive('output_dim');
  return { outputs: [[...input, outputDim]], weights: [['embeddings', [at.positive('input_dim'), outputDim]]] };
}

function preLU(at: LayerContext, inputs: Shape[]): LayerOutcome {
  const input = at.single(inputs);
  const shape = input.slice(1).map((_, i) => at.dim(input, i + 1, `dimension ${i + 1}`));
  const shared = at.config.shared_axes ?? [];
  const list = typeof shared === 'number' ? [shared] : shared;
  if (!Array.isArray(list) || !list.every((a) => Number.isSafeInteger(a) && a >= 1 && a <= shape.length)) at.fail(`shared_axes must list axes 1..${shape.length} (got ${quote(shared)})`);
  for (const axis of list as number[]) shape[axis - 1] = 1;
  return { outputs: [input], weights: [['alpha', shape]] };
}

const RULES: Record<string, (at: LayerContext, inputs: Shape[]) => LayerOutcome> = {
  Dense: dense,
  Conv1D: convolution(1, 'conv'),
  Conv2D: convolution(2, 'conv'),
  Conv3D: convolution(3, 'conv'),
  Conv2DTranspose: convolution(2, 'transpose'),
  DepthwiseConv2D: convolution(2, 'depthwise'),
  SeparableConv2D: convolution(2, 'separable'),
  BatchNormalization: batchNormalization,
  LayerNormalization: layerNormalization,
  Embedding: embedding,
  PReLU: preLU,
  MaxPooling1D: pooling(1),
  MaxPooling2D: pooling(2),
  MaxPooling3D: pooling(3),
  AveragePooling1D: pooling(1),
  AveragePooling2D: pooling(2),
  AveragePooling3D: pooling(3),
  GlobalMaxPooling1D: globalPooling(1),
  GlobalMaxPooling2D: globalPooling(2),
  GlobalAveragePooling1D: globalPooling(1),
  GlobalAveragePooling2D: globalPooling(2),
  Flatten: flatten,
  Reshape: reshape,
  Permute: permute,
  RepeatVector: repeatVector,
  ZeroPadding2D: padding2d('padding', 1),
  Cropping2D: padding2d('cropping', -1),
  UpSampling2D: upSampling2d,
  Add: merge,
  Multiply: merge,
  Average: merge,
  Maximum: merge,
  Minimum: merge,
  Concatenate: concatenate,
  ...Object.fromEntries(
    [
      ...['Activation', 'ReLU', 'LeakyReLU', 'ELU', 'Softmax', 'ThresholdedReLU', 'Dropout', 'SpatialDropout1D', 'SpatialDropout2D'],
      ...['GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'Masking', 'Rescaling'],
    ].map(
      (name) => [name, sameShape],
    ),
  ),
};

const MODEL_CLASSES = ['Sequential', 'Model', 'Functional'];

function asObject(value: unknown): Config | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Config) : undefined;
}

/** A declared input shape (batch_input_shape, or batch_shape) → a Shape, or undefined when none is declared. */
function declaredInput(at: LayerContext): Shape | undefined {
  const declared = at.config.batch_input_shape ?? at.config.batch_shape;
  if (declared === undefined || declared === null) return undefined;
  if (!Array.isArray(declared) || declared.length < 2 || !declared.every((d) => d === null || (Number.isSafeInteger(d) && d >= 1))) {
    at.fail(`batch_input_shape must be a list of positive whole numbers or null (got ${quote(declared)})`);
  }
  return declared as Shape;
}

class TopologyWalker {
  readonly weights: ImpliedWeight[] = [];

  constructor(private readonly file: string) {}

  private context(layer: unknown, where: string): LayerContext {
    const entry = asObject(layer);
    const config = asObject(entry?.config);
    if (!entry || !config || typeof entry.class_name !== 'string') throw new UserError(`${this.file}: ${where} is not a layer (class_name and config are required)`);
    const name = typeof config.name === 'string' ? config.name : typeof entry.name === 'string' ? entry.name : undefined;
    // Weights are matched to layers by name: an unnamed layer's weights cannot be found.
    if (!name) throw new UserError(`${this.file}: ${where} (${quote(entry.class_name)}) has no name`);
    return new LayerContext(this.file, name, entry.class_name, config);
  }

  /** One layer applied to `inputs` (undefined: only its declared input shape): its outputs, its weights recorded. */
  layer(at: LayerContext, layer: unknown, inputs: Shape[] | undefined, firstCall: boolean): Shape[] {
    if (MODEL_CLASSES.includes(at.className)) return this.model(layer as Config, inputs);
    if (at.className === 'InputLayer') {
      const declared = declaredInput(at);
      if (!declared) at.fail('declares no batch_input_shape');
      return [declared];
    }
    const rule = RULES[at.className];
    if (!rule) {
      throw new UserError(`${this.file}: layer ${quote(at.name)} has class ${quote(at.className)}, which this engine cannot check or load (supported: ${[...MODEL_CLASSES, 'InputLayer', ...Object.keys(RULES)].join(', ')})`);
    }
    const given = inputs ?? (declaredInput(at) ? [declaredInput(at) as Shape] : at.fail('has no input shape (batch_input_shape) and nothing before it'));
    const outcome = rule(at, given);
    if (firstCall) for (const [weight, shape] of outcome.weights) this.weights.push({ key: `${at.name}/${weight}`, shape });
    return outcome.outputs;
  }

  /** A Sequential or functional model (the top level or nested as a layer) applied to `inputs`. */
  model(entry: Config, inputs: Shape[] | undefined): Shape[] {
    const className = entry.class_name;
    const config = entry.config;
    if (className === 'Sequential') {
      const layers = Array.isArray(config) ? config : asObject(config)?.layers;
      if (!Array.isArray(layers) || layers.length === 0) throw new UserError(`${this.file}: a Sequential model without layers`);
      let current = inputs;
      layers.forEach((layer, i) => {
        const at = this.context(layer, `layer ${i} of a Sequential model`);
        // A layer that declares its input shape is built with it (TensorFlow.js builds a Sequential model's first layer so).
        const declared = i === 0 && at.className !== 'InputLayer' ? declaredInput(at) : undefined;
        current = this.layer(at, layer, declared ? [declared] : current, true);
      });
      return current as Shape[];
    }
    return this.functional(asObject(config));
  }

  /**
   * A functional model: layers linked by inbound_nodes (a layer called twice has two), outputs
   * named by output_layers. Each call is evaluated once its inputs are (in linear time, any order).
   */
  private functional(config: Config | undefined): Shape[] {
    const layers = config?.layers;
    if (!config || !Array.isArray(layers)) throw new UserError(`${this.file}: a functional model without a list of layers`);
    const byName = this.functionalLayers(layers);
    const { dependents, ready, total } = layerCalls(byName);
    const outputs = new Map<string, Shape[]>();
    const built = new Set<string>();
    const tensor = ([name, n, k]: TensorRef, where: LayerContext): Shape =>
      outputs.get(callKey(name, n))?.[k] ?? where.fail(`refers to output ${k} of layer ${quote(name)}, which it does not have`);
    let evaluated = 0;
    for (let call = ready.pop(); call; call = ready.pop()) {
      const { at, layer } = call.item;
      const inputs = call.inputs.length ? call.inputs.map((ref) => tensor(ref, at)) : undefined;
      outputs.set(callKey(at.name, call.index), this.layer(at, layer, inputs, !built.has(at.name)));
      built.add(at.name);
      evaluated++;
      for (const next of dependents.get(callKey(at.name, call.index)) ?? []) if (--next.waiting === 0) ready.push(next);
    }
    if (evaluated < total) throw new UserError(`${this.file}: the layers of a functional model form a cycle`);
    const outputLayers = config.output_layers;
    if (!Array.isArray(outputLayers) || outputLayers.length === 0) throw new UserError(`${this.file}: a functional model without output_layers`);
    const modelContext = new LayerContext(this.file, String(config.name ?? 'model'), 'Model', config);
    return outputLayers.map((ref) => tensor(tensorReference(ref, modelContext, byName), modelContext));
  }

  /** A functional model's layers by name, each with its inbound nodes (checked to be a list; names unique). */
  private functionalLayers(layers: unknown[]): Map<string, FunctionalLayer> {
    const byName = new Map<string, FunctionalLayer>();
    for (const [i, layer] of layers.entries()) {
      const at = this.context(layer, `layer ${i} of a functional model`);
      const nodes = (layer as Config).inbound_nodes ?? [];
      if (!Array.isArray(nodes)) at.fail('inbound_nodes must be a list');
      if (byName.has(at.name)) at.fail('appears twice in the model');
      byName.set(at.name, { at, layer, nodes: nodes as unknown[] });
    }
    return byName;
  }
}

interface FunctionalLayer {
  at: LayerContext;
  layer: unknown;
  nodes: unknown[];
}

/** A tensor of a functional model: [layer name, call index, output index]. */
type TensorRef = [string, number, number];

/** One call of a layer (one inbound node), with the number of its inputs not yet evaluated. */
interface LayerCall {
  item: FunctionalLayer;
  index: number;
  inputs: TensorRef[];
  waiting: number;
}

const callKey = (name: string, call: number) => `${name}\n${call}`;

/** A tensor reference, checked: it names a layer of the model, one of its calls, and an output index. */
function tensorReference(ref: unknown, where: LayerContext, byName: Map<string, FunctionalLayer>): TensorRef {
  const [name, call, output] = Array.isArray(ref) ? ref : [];
  const target = typeof name === 'string' ? byName.get(name) : undefined;
  if (!target || !Number.isSafeInteger(call) || call < 0 || call >= Math.max(1, target.nodes.length) || !Number.isSafeInteger(output) || output < 0) {
    where.fail(`refers to ${quote(ref)}, not an output of a layer of the model ([layer name, call index, output index])`);
  }
  return [name, call, output];
}

/** Every call of every layer; those waiting for a call's outputs (by callKey); those ready to evaluate (no inputs). */
function layerCalls(byName: Map<string, FunctionalLayer>): { dependents: Map<string, LayerCall[]>; ready: LayerCall[]; total: number } {
  const dependents = new Map<string, LayerCall[]>();
  const ready: LayerCall[] = [];
  let total = 0;
  for (const item of byName.values()) {
    for (let index = 0; index < Math.max(1, item.nodes.length); index++) {
      const node = item.nodes.length ? item.nodes[index] : [];
      if (!Array.isArray(node) || (item.nodes.length && node.length === 0)) item.at.fail(`inbound node ${index} must be a list of input tensors`);
      const inputs = (node as unknown[]).map((ref) => tensorReference(ref, item.at, byName));
      const call: LayerCall = { item, index, inputs, waiting: inputs.length };
      for (const [name, n] of call.inputs) {
        const key = callKey(name, n);
        if (!dependents.has(key)) dependents.set(key, []);
        dependents.get(key)!.push(call);
      }
      if (call.waiting === 0) ready.push(call);
      total++;
    }
  }
  return { dependents, ready, total };
}

/**
 * The weights (layer/weight → shape) that building `topology` allocates, or a UserError naming
 * the file, the layer and the problem (an unknown layer class, a malformed config, an unknown input size).
 */
export function impliedWeights(topology: Record<string, unknown>, file: string): ImpliedWeight[] {
  const root = asObject(topology.model_config) ?? topology;
  if (!MODEL_CLASSES.includes(root.class_name as string)) {
    throw new UserError(`${file}: modelTopology is a ${quote(root.class_name)}, not a Sequential or functional model`);
  }
  const walker = new TopologyWalker(file);
  walker.model(root, undefined);
  return walker.weights;
}
