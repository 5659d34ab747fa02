/**
 * Reads an .onnx file under the rules of model folders (modelFolder.ts): the file and every
 * external-data file must be regular files inside the model's folder, sizes are checked before
 * anything is read, and every initializer's claimed size (dims × element size) is checked against
 * the caps and against the bytes actually present before any tensor is made. Errors are one line
 * naming the file. No TensorFlow.js here: this gives plain typed arrays.
 */
import * as path from 'node:path';
import { UserError } from '../../errors';
import { ONNX_LIMITS } from '../../limits';
import { FolderFile, checkFolderFile, checkWeightPath, formatBytes, quote, readFolderFile, readFolderFileAsync, realFolder } from '../modelFolder';
import { AttributeMessage, GraphMessage, MODEL_PROTO, ModelMessage, NodeMessage, TensorMessage, int64 } from './schema';

/** A tensor of the file: float types become float32, integer types int32 (shape arithmetic). */
export interface OnnxTensor {
  dims: number[];
  dtype: 'float32' | 'int32';
  data: Float32Array | Int32Array;
}

export type AttributeValue = number | number[] | string | OnnxTensor;

export interface OnnxNode {
  /** The node's name, or its op and first output when it has none (for errors). */
  label: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, AttributeValue>;
}

export interface OnnxGraph {
  file: string;
  opset: number;
  producer: string;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  /** The graph input fed with images (the first that is not an initializer) and its declared dims (-1: symbolic). */
  input: { name: string; dims: number[] };
  output: { name: string; dims: number[] };
}

/** Tensor bytes claimed so far, and the external files read (by real path). */
interface Budget { bytes: number; files: Map<string, Uint8Array> }

/** ONNX element types the reader takes, with their sizes in bytes. */
const ELEMENT_TYPES: Record<number, { name: string; bytes: number; dtype: 'float32' | 'int32' }> = {
  1: { name: 'float32', bytes: 4, dtype: 'float32' },
  11: { name: 'float64', bytes: 8, dtype: 'float32' },
  6: { name: 'int32', bytes: 4, dtype: 'int32' },
  7: { name: 'int64', bytes: 8, dtype: 'int32' },
};

/** AttributeProto.AttributeType values of subgraphs (GRAPH, GRAPHS), which the reader refuses. */
const SUBGRAPH_ATTRIBUTES = new Set([5, 10]);

/** The .onnx file checked (a regular file inside its folder, within ONNX_LIMITS.fileBytes), not yet read. */
function checkOnnxFile(file: string): { folderReal: string; checked: FolderFile } {
  const folderReal = realFolder(path.dirname(file), file);
  return { folderReal, checked: checkFolderFile(file, folderReal, 'the file', file, { bytes: ONNX_LIMITS.fileBytes, name: 'ONNX_LIMITS.fileBytes' }) };
}

export function readOnnxFile(file: string): OnnxGraph {
  const { folderReal, checked } = checkOnnxFile(file);
  return decodeOnnx(file, folderReal, readFolderFile(checked, file, 'the file'));
}

/**
 * readOnnxFile with the file read on fs.promises (readFolderFileAsync), for the extension host: its
 * event loop runs on during the read. External data files (rare) are still read synchronously.
 */
export async function readOnnxFileAsync(file: string): Promise<OnnxGraph> {
  const { folderReal, checked } = checkOnnxFile(file);
  return decodeOnnx(file, folderReal, await readFolderFileAsync(checked, file, 'the file'));
}

/** The bytes of the file (checkOnnxFile) → its graph, every tensor checked before it is made. */
function decodeOnnx(file: string, folderReal: string, bytes: Uint8Array): OnnxGraph {
  let model: ModelMessage;
  try {
    model = MODEL_PROTO.decode(bytes) as unknown as ModelMessage;
  } catch (error) {
    throw new UserError(`${file}: not a readable ONNX protobuf (${(error as Error).message.split('\n')[0]}; truncated or not an .onnx file?)`);
  }
  const graph = model.graph;
  if (!graph || !graph.node?.length) throw new UserError(`${file}: no graph in the file (not an ONNX model?)`);
  if (graph.node.length > ONNX_LIMITS.nodes) throw new UserError(`${file}: ${graph.node.length} nodes, more than the ${ONNX_LIMITS.nodes} cap (ONNX_LIMITS.nodes, README › Limits)`);
  const opset = model.opset_import.filter((o) => !o.domain || o.domain === 'ai.onnx').map((o) => int64(o.version))[0];
  if (!opset) throw new UserError(`${file}: no opset_import for the ONNX domain`);
  const initializers = readInitializers(graph, file, folderReal);
  const nodes = graph.node.map((node, index) => readNode(node, index, file));
  const input = graph.input.find((value) => value.name && !initializers.has(value.name));
  if (!input?.name) throw new UserError(`${file}: the graph has no input besides its initializers`);
  if (graph.output.length !== 1 || !graph.output[0].name) throw new UserError(`${file}: the graph has ${graph.output.length} outputs; a classifier has one (its logits)`);
  return {
    file, opset, producer: model.producer_name ?? '', nodes, initializers,
    input: { name: input.name, dims: declaredDims(input, file) },
    output: { name: graph.output[0].name, dims: declaredDims(graph.output[0], file) },
  };
}

function declaredDims(value: GraphMessage['input'][number], file: string): number[] {
  const dims = value.type?.tensor_type?.shape?.dim ?? [];
  if (dims.length > ONNX_LIMITS.rank) throw new UserError(`${file}: ${quote(value.name)} has ${dims.length} dimensions, more than ${ONNX_LIMITS.rank} (ONNX_LIMITS.rank)`);
  return dims.map((d) => (d.dim_param || d.dim_value === undefined ? -1 : int64(d.dim_value)));
}

function readNode(node: NodeMessage, index: number, file: string): OnnxNode {
  const opType = node.op_type ?? '';
  const label = `${quote(node.name || `#${index} ${opType} → ${node.output[0] ?? ''}`)}`;
  if (node.domain && node.domain !== 'ai.onnx') throw new UserError(`${file}: node ${label} is op ${quote(opType)} of domain ${quote(node.domain)}; only the standard ONNX domain is supported`);
  const attributes = new Map<string, AttributeValue>();
  for (const attribute of node.attribute) {
    const name = attribute.name ?? '';
    if (attribute.type !== undefined && SUBGRAPH_ATTRIBUTES.has(attribute.type)) throw new UserError(`${file}: node ${label} has a subgraph attribute ${quote(name)}; subgraphs (If, Loop, Scan) are not supported`);
    attributes.set(name, attributeValue(attribute, `node ${label} attribute ${quote(name)}`, file));
  }
  return { label, opType, inputs: node.input, outputs: node.output, attributes };
}

function attributeValue(attribute: AttributeMessage, label: string, file: string): AttributeValue {
  switch (attribute.type) {
    case 1: return attribute.f ?? 0;
    case 2: return int64(attribute.i);
    case 3: return Buffer.from(attribute.s ?? new Uint8Array()).toString('utf8');
    case 4: return readTensor(attribute.t!, label, file, null, { bytes: 0, files: new Map() });
    case 6: return attribute.floats;
    case 7: return attribute.ints.map(int64);
    default: throw new UserError(`${file}: ${label} has attribute type ${attribute.type ?? 'unset'}, which the reader does not take`);
  }
}

function readInitializers(graph: GraphMessage, file: string, folderReal: string): Map<string, OnnxTensor> {
  const initializers = new Map<string, OnnxTensor>();
  const budget: Budget = { bytes: 0, files: new Map() };
  for (const tensor of graph.initializer) {
    const name = tensor.name ?? '';
    initializers.set(name, readTensor(tensor, `initializer ${quote(name)}`, file, folderReal, budget));
  }
  return initializers;
}

/**
 * One TensorProto → typed array, checks first: rank, every dim a non-negative integer, the claimed
 * byte size within the caps (all tensors of the file together), then the data present is exactly
 * that many values. External data: a file inside the model folder, its offset and length inside it.
 */
function readTensor(tensor: TensorMessage, label: string, file: string, folderReal: string | null, budget: Budget): OnnxTensor {
  const type = ELEMENT_TYPES[tensor.data_type ?? 0];
  if (!type) throw new UserError(`${file}: ${label} has element type ${tensor.data_type ?? 'unset'}; the reader takes float32, float64, int32 and int64`);
  if (tensor.dims.length > ONNX_LIMITS.rank) throw new UserError(`${file}: ${label} has ${tensor.dims.length} dimensions, more than ${ONNX_LIMITS.rank} (ONNX_LIMITS.rank)`);
  const dims = tensor.dims.map(int64);
  if (dims.some((d) => !(d >= 0))) throw new UserError(`${file}: ${label} has dims ${quote(tensor.dims.map(String))}, not all non-negative integers`);
  const count = dims.reduce((a, b) => a * b, 1);
  const claimed = count * type.bytes;
  if (claimed + budget.bytes > ONNX_LIMITS.tensorBytes) {
    throw new UserError(`${file}: ${label} claims ${count.toLocaleString('en')} elements (${formatBytes(claimed)}), beyond the ${formatBytes(ONNX_LIMITS.tensorBytes)} of tensor data allowed (ONNX_LIMITS.tensorBytes, README › Limits)`);
  }
  budget.bytes += claimed;
  const mismatch = (found: number, unit: string) => new UserError(`${file}: ${label} has dims ${quote(dims)} (${count} elements) but ${found} ${unit} of data`);
  // The data present is checked against the claim before the typed array of that size is made.
  const allocate = () => (type.dtype === 'float32' ? new Float32Array(count) : new Int32Array(count));
  let data: Float32Array | Int32Array;
  if (tensor.data_location === 1) {
    if (!folderReal) throw new UserError(`${file}: ${label} keeps its data in an external file, which only initializers may`);
    const raw = readExternal(tensor, label, file, folderReal, claimed, budget.files);
    data = allocate();
    decodeRaw(raw, tensor.data_type!, data);
  } else if (tensor.raw_data && tensor.raw_data.length) {
    if (tensor.raw_data.length !== claimed) throw mismatch(tensor.raw_data.length, 'bytes');
    data = allocate();
    decodeRaw(tensor.raw_data, tensor.data_type!, data);
  } else {
    const values = { float32: tensor.float_data, float64: tensor.double_data, int32: tensor.int32_data, int64: tensor.int64_data.map(int64) }[type.name]!;
    if (values.length !== count) throw mismatch(values.length, 'values');
    data = allocate();
    for (let i = 0; i < count; i++) data[i] = checkedValue(values[i] as number, type.dtype, label, file);
  }
  return { dims, dtype: type.dtype, data };
}

function checkedValue(value: number, dtype: 'float32' | 'int32', label: string, file: string): number {
  if (dtype !== 'int32') return value;
  if (Number.isNaN(value)) throw new UserError(`${file}: ${label} holds an integer beyond 2^53`);
  // int64 shape constants beyond int32 are PyTorch's "to the end" markers in Slice; clamp those.
  return Math.max(-(2 ** 31 - 1), Math.min(2 ** 31 - 1, value));
}

function decodeRaw(raw: Uint8Array, dataType: number, target: Float32Array | Int32Array): void {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i < target.length; i++) {
    if (dataType === 1) target[i] = view.getFloat32(i * 4, true);
    else if (dataType === 11) target[i] = view.getFloat64(i * 8, true);
    else if (dataType === 6) target[i] = view.getInt32(i * 4, true);
    else {
      const value = view.getBigInt64(i * 8, true);
      const limit = BigInt(2 ** 31 - 1);
      target[i] = Number(value > limit ? limit : value < -limit ? -limit : value);
    }
  }
}

function readExternal(tensor: TensorMessage, label: string, file: string, folderReal: string, claimed: number, files: Map<string, Uint8Array>): Uint8Array {
  const entries = new Map(tensor.external_data.map((e) => [e.key ?? '', e.value ?? '']));
  const location = entries.get('location');
  if (!location) throw new UserError(`${file}: ${label} has external data without a location`);
  const external = checkWeightPath(location, folderReal, file);
  const offset = Number(entries.get('offset') ?? 0);
  const length = entries.has('length') ? Number(entries.get('length')) : claimed;
  if (!Number.isSafeInteger(offset) || offset < 0 || length !== claimed || offset + length > external.bytes) {
    throw new UserError(`${file}: ${label} claims ${formatBytes(claimed)} at offset ${quote(entries.get('offset') ?? '0')} of ${quote(location)}, which has ${formatBytes(external.bytes)}`);
  }
  // Each external file is read once (they are capped as weight files); its tensors are views of it.
  const whole = files.get(external.real) ?? readFolderFile(external, file, `external data file ${quote(location)}`);
  files.set(external.real, whole);
  return whole.subarray(offset, offset + length);
}
