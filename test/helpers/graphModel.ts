/**
 * TensorFlow.js graph models for the tests, written in the form tensorflowjs_converter (4.x, TF
 * 2.x) gives a Keras model: base64 strings in attributes, int64 values as strings, Const nodes whose
 * values are in the weights manifest (int32 shape constants included), _FusedConv2D and
 * _FusedMatMul with fused_ops [BiasAdd, activation], Flatten as a Reshape to a constant [-1, n],
 * a signature naming input and output, weights in "group1-shardXofY.bin" files. The Python
 * converter is not installable here, so a LayersModel's own weights are written this way.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';

export interface GraphNodeJson {
  name: string;
  op: string;
  input?: string[];
  device?: string;
  attr?: Record<string, unknown>;
}

export interface GraphModelJson {
  format: 'graph-model';
  generatedBy: string;
  convertedBy: string;
  signature: unknown;
  modelTopology: { node: GraphNodeJson[]; library: Record<string, unknown>; versions: Record<string, unknown> };
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: 'float32' | 'int32' }[] }[];
}

export const b64 = (s: string) => Buffer.from(s).toString('base64');
export const ints = (...values: number[]) => ({ list: { i: values.map(String) } });
const FLOAT = { type: 'DT_FLOAT' };
const dims = (shape: number[]) => ({ dim: shape.map((size) => ({ size: String(size) })) });

/** A graph under construction: nodes in the converter's order (constants, the input, the ops) and the weights' values. */
export class GraphBuilder {
  readonly constants: GraphNodeJson[] = [];
  readonly ops: GraphNodeJson[] = [];
  readonly values: { name: string; shape: number[]; dtype: 'float32' | 'int32'; data: Float32Array | Int32Array }[] = [];
  readonly input: GraphNodeJson;

  constructor(
    readonly inputName: string,
    readonly inputShape: number[],
  ) {
    this.input = { name: inputName, op: 'Placeholder', attr: { shape: { shape: dims([-1, ...inputShape]) }, dtype: FLOAT } };
  }

  constant(name: string, shape: number[], data: Float32Array | Int32Array): string {
    const dtype = data instanceof Int32Array ? 'int32' : 'float32';
    const type = { type: dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' };
    this.constants.push({ name, op: 'Const', attr: { value: { tensor: { dtype: type.type, tensorShape: dims(shape) } }, dtype: type } });
    this.values.push({ name, shape, dtype, data });
    return name;
  }

  op(name: string, op: string, input: string[], attr: Record<string, unknown> = { T: FLOAT }, device?: string): string {
    this.ops.push({ name, op, input, ...(device ? { device } : {}), attr });
    return name;
  }

  /** model.json and the weight shards of at most `shardBytes` each, written into `dir`. */
  write(dir: string, output: string, shardBytes = 4 * 1024 * 1024): GraphModelJson {
    const identity = this.op('Identity', 'Identity', [output]);
    const bytes = Buffer.concat(this.values.map((v) => Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength)));
    const count = Math.max(1, Math.ceil(bytes.length / shardBytes));
    const paths = Array.from({ length: count }, (_, i) => `group1-shard${i + 1}of${count}.bin`);
    fs.mkdirSync(dir, { recursive: true });
    paths.forEach((file, i) => fs.writeFileSync(path.join(dir, file), bytes.subarray(i * shardBytes, (i + 1) * shardBytes)));
    const tensorInfo = (name: string, shape: number[]) => ({ name: `${name}:0`, dtype: 'DT_FLOAT', tensorShape: dims(shape) });
    const json: GraphModelJson = {
      format: 'graph-model',
      generatedBy: '2.19.0',
      convertedBy: 'TensorFlow.js Converter v4.22.0',
      signature: { inputs: { [this.inputName]: tensorInfo(this.inputName, [-1, ...this.inputShape]) }, outputs: { output_0: tensorInfo(identity, [-1, -1]) } },
      modelTopology: { node: [...this.constants, this.input, ...this.ops], library: {}, versions: { producer: 2129 } },
      weightsManifest: [{ paths, weights: this.values.map(({ name, shape, dtype }) => ({ name, shape, dtype })) }],
    };
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    return json;
  }
}

const CPU = '/device:CPU:0';

/** The attributes of a convolution or pool window in NHWC, as the converter writes them. */
const window = (strides: number[], padding: string) => ({
  T: FLOAT,
  strides: ints(1, strides[0], strides[1], 1),
  padding: { s: b64(padding.toUpperCase()) },
  data_format: { s: b64('NHWC') },
});

function fusedOps(activation: string | undefined): string[] {
  if (!activation || activation === 'linear') return ['BiasAdd'];
  const op = { relu: 'Relu', relu6: 'Relu6', elu: 'Elu', sigmoid: 'Sigmoid' }[activation];
  if (!op) throw new Error(`no fused op for activation ${activation}`);
  return ['BiasAdd', op];
}

/** The converter's fused attributes (num_args, epsilon and leakyrelu_alpha as TF writes them). */
const fusedAttr = (ops: string[]) => ({ fused_ops: { list: { s: ops.map(b64) } }, num_args: { i: '1' }, epsilon: { f: 0 }, leakyrelu_alpha: { f: 0.2 } });

/**
 * Writes a Sequential LayersModel (Conv2D, MaxPooling2D, AveragePooling2D, Flatten, Dense, Dropout,
 * Activation softmax) as the converter writes the same Keras model; returns model.json's content.
 */
export function writeGraphModelOf(model: tfl.LayersModel, dir: string, options: { shardBytes?: number; shuffle?: boolean } = {}): GraphModelJson {
  const [, ...inputShape] = model.inputs[0].shape as number[];
  const graph = new GraphBuilder('keras_tensor', inputShape);
  const scope = 'StatefulPartitionedCall/sequential_1';
  let x = graph.input.name;
  for (const layer of model.layers) {
    const config = layer.getConfig() as Record<string, unknown>;
    const name = `${scope}/${layer.name}_1`;
    const weights = layer.getWeights().map((w) => ({ shape: w.shape, data: w.dataSync() as Float32Array }));
    switch (layer.getClassName()) {
      case 'Conv2D': {
        const kernel = graph.constant(`${name}/convolution/ReadVariableOp`, weights[0].shape, weights[0].data);
        const bias = graph.constant(`${name}/Reshape/ReadVariableOp`, weights[1].shape, weights[1].data);
        const attr = {
          ...window(config.strides as number[], config.padding as string),
          dilations: ints(1, 1, 1, 1),
          use_cudnn_on_gpu: { b: true },
          explicit_paddings: { list: {} },
          ...fusedAttr(fusedOps(config.activation as string)),
        };
        x = graph.op(`${name}/${config.activation === 'relu' ? 'Relu' : 'BiasAdd'}`, '_FusedConv2D', [x, kernel, bias], attr, CPU);
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const pool = config.poolSize as number[];
        const attr = { ...window(config.strides as number[], config.padding as string), ksize: ints(1, pool[0], pool[1], 1), explicit_paddings: { list: {} } };
        x = graph.op(
          `${name}/${layer.getClassName() === 'MaxPooling2D' ? 'MaxPool2d' : 'AvgPool2d'}`,
          layer.getClassName() === 'MaxPooling2D' ? 'MaxPool' : 'AvgPool',
          [x],
          attr,
        );
        break;
      }
      case 'Flatten': {
        const units = (layer.outputShape as number[])[1];
        const shape = graph.constant(`${name}/Reshape/shape`, [2], new Int32Array([-1, units]));
        x = graph.op(`${name}/Reshape`, 'Reshape', [x, shape], { T: FLOAT, Tshape: { type: 'DT_INT32' } });
        break;
      }
      case 'Dense': {
        const kernel = graph.constant(`${name}/Cast/ReadVariableOp`, weights[0].shape, weights[0].data);
        const bias = graph.constant(`${name}/BiasAdd/ReadVariableOp`, weights[1].shape, weights[1].data);
        const activation = config.activation as string;
        const attr = {
          transpose_a: { b: false },
          transpose_b: { b: false },
          ...fusedAttr(fusedOps(activation === 'softmax' ? 'linear' : activation)),
          T: FLOAT,
        };
        x = graph.op(`${name}/${activation === 'relu' ? 'Relu' : 'BiasAdd'}`, '_FusedMatMul', [x, kernel, bias], attr, CPU);
        if (activation === 'softmax') x = graph.op(`${name}/Softmax`, 'Softmax', [x]);
        break;
      }
      case 'Dropout':
        break;
      default:
        throw new Error(`writeGraphModelOf: no converter form for ${layer.getClassName()}`);
    }
  }
  if (options.shuffle) graph.ops.reverse();
  return graph.write(dir, x, options.shardBytes);
}
