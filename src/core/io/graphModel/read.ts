/**
 * A TensorFlow.js graph model on disk (model.json with "format": "graph-model", as
 * tensorflowjs_converter writes SavedModels and Keras models, and its weight shards), read under the
 * rules of model folders and checked before anything is allocated: the node list, every op (a
 * classifier's ops only; control flow refused), the graph's one input and one output, the
 * manifest's sizes against the shards, and the shape of every tensor the graph would make
 * (shapes.ts). No TensorFlow.js here, so the extension host can run the same checks.
 */
import * as path from 'node:path';
import LAYERS_SCHEMA from '../../../../schema/layers-model.schema.json';
import { UserError } from '../../errors';
import { DATA_LIMITS, GRAPH_MODEL_LIMITS, MODEL_LIMITS } from '../../limits';
import { JsonSchema, formatPath, validateJson } from '../../sweep/jsonSchema';
import type { WeightSpec } from '../layersModelCheck';
import { FolderFile, checkWeightPath, formatBytes, quote, readFolderFileAsync, readModelJsonAsync, realFolder } from '../modelFolder';
import { CONTROL_FLOW_OPS, GraphNode, SUPPORTED_OPS, inferShapes } from './shapes';

export type { GraphNode };

/** The manifest part of the LayersModel schema: graph models share the format of weightsManifest. */
const MANIFEST_SCHEMA = (LAYERS_SCHEMA as unknown as JsonSchema).properties!.weightsManifest;

/** TensorFlow's rule for node names (which also keeps "__proto__" and friends out of the converter's maps). */
const NODE_NAME = '^[A-Za-z0-9.][A-Za-z0-9_.\\-/>]*$';

const GRAPH_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['node'],
  properties: {
    node: {
      type: 'array',
      maxItems: GRAPH_MODEL_LIMITS.nodes,
      items: {
        type: 'object',
        required: ['name', 'op'],
        properties: {
          name: { type: 'string', pattern: NODE_NAME, maxLength: 1024 },
          op: { type: 'string', minLength: 1, maxLength: 256 },
          input: { type: 'array', maxItems: 1024, items: { type: 'string', maxLength: 1100 } },
          attr: { type: 'object' },
          device: { type: 'string' },
        },
      },
    },
    library: { type: 'object' },
    versions: { type: 'object' },
  },
};

/** A checked graph model: what the TensorFlow.js converter needs to run it, and what the checks found. */
export interface CheckedGraphModel {
  modelJson: string;
  nodes: GraphNode[];
  weightSpecs: WeightSpec[];
  /** All the weights, in manifest order (exactly their declared size). */
  weightData: ArrayBuffer;
  /** The Placeholder node the image goes into, and its shape [batch (−1), H, W, C] or [batch, C, H, W]. */
  input: { node: string; shape: number[] };
  /** The node whose output (0) is the logits. */
  output: string;
  /** The number of classes (the output's second dimension). */
  classes: number;
}

const BYTES_PER_VALUE: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 };
const specBytes = (spec: WeightSpec) => BYTES_PER_VALUE[spec.quantization?.dtype ?? spec.dtype] * spec.shape.reduce((a, b) => a * b, 1);

/** Whether a parsed model.json is a graph model (the converter's "format"). */
export function isGraphModelJson(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>).format === 'graph-model';
}

/** The input's name without an output index (":0"); other outputs and control inputs ("^x") are refused. */
function producerOf(node: GraphNode, input: string, fail: (problem: string) => UserError): string {
  if (input.startsWith('^')) throw fail(`node ${quote(node.name)} (${node.op}) has a control input ${quote(input)}, which the reader does not support`);
  const match = /^(.*?)(?::(\d+))?$/.exec(input)!;
  if (match[2] !== undefined && match[2] !== '0')
    throw fail(`node ${quote(node.name)} (${node.op}) reads output ${match[2]} of ${quote(match[1])}; only first outputs are supported`);
  return match[1];
}

/** The nodes in an order where each comes after those it reads (the file's order need not be one); a cycle is refused. */
function topologicalOrder(nodes: GraphNode[], fail: (problem: string) => UserError): GraphNode[] {
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const waiting = new Map(nodes.map((node) => [node.name, node.input.length]));
  const readers = new Map<string, GraphNode[]>();
  for (const node of nodes) {
    for (const input of node.input) {
      if (!byName.has(input)) throw fail(`node ${quote(node.name)} (${node.op}) reads ${quote(input)}, which is no node of the graph`);
      readers.set(input, [...(readers.get(input) ?? []), node]);
    }
  }
  const order = nodes.filter((node) => node.input.length === 0);
  for (let i = 0; i < order.length; i++) {
    for (const reader of readers.get(order[i].name) ?? []) {
      const left = waiting.get(reader.name)! - 1;
      waiting.set(reader.name, left);
      if (left === 0) order.push(reader);
    }
  }
  const stuck = nodes.find((node) => waiting.get(node.name)! > 0);
  if (stuck) throw fail(`the graph has a cycle through node ${quote(stuck.name)} (${stuck.op})`);
  return order;
}

/** The node list, checked: names unique, ops supported (control flow named as such), inputs plain names of nodes. */
function checkNodes(topology: Record<string, unknown>, fail: (problem: string) => UserError): GraphNode[] {
  const problem = validateJson(topology, GRAPH_SCHEMA);
  if (problem) throw fail(`modelTopology${problem.path.length ? `.${formatPath(problem.path)}` : ''}: ${problem.message}`);
  const functions = (topology.library as { function?: unknown[] } | undefined)?.function;
  if (Array.isArray(functions) && functions.length)
    throw fail('the graph has functions (modelTopology.library), i.e. control flow, which a classifier does not need; refused');
  const names = new Set<string>();
  const nodes = (topology.node as Record<string, unknown>[]).map((raw) => {
    const node = {
      name: raw.name as string,
      op: raw.op as string,
      input: (raw.input as string[] | undefined) ?? [],
      attr: (raw.attr as GraphNode['attr'] | undefined) ?? {},
    };
    if (names.has(node.name)) throw fail(`two nodes are named ${quote(node.name)}`);
    names.add(node.name);
    if (CONTROL_FLOW_OPS.has(node.op))
      throw fail(`node ${quote(node.name)} uses the control-flow op ${quote(node.op)}, which a classifier does not need; refused`);
    if (!Object.hasOwn(SUPPORTED_OPS, node.op)) {
      throw fail(`node ${quote(node.name)} uses op ${quote(node.op)}, which the reader does not support (supported: ${Object.keys(SUPPORTED_OPS).join(', ')})`);
    }
    return node;
  });
  return nodes.map((node) => ({ ...node, input: node.input.map((input) => producerOf(node, input, fail)) }));
}

interface Signature {
  inputs?: Record<string, { name?: unknown }>;
  outputs?: Record<string, { name?: unknown }>;
}

/** The node a signature entry names ("x:0" → x), or undefined without a signature. */
function signatureNode(entries: Signature['inputs'], what: string, fail: (problem: string) => UserError): string | undefined {
  if (entries === undefined) return undefined;
  const values = typeof entries === 'object' && entries !== null ? Object.values(entries) : [];
  if (values.length !== 1 || typeof values[0]?.name !== 'string')
    throw fail(`signature.${what} must name exactly one tensor (a classifier has one ${what.slice(0, -1)})`);
  return values[0].name.replace(/:0$/, '');
}

/** The graph's input (its one Placeholder) and output (the signature's, else the one node nothing reads). */
function inputAndOutput(parsed: Record<string, unknown>, nodes: GraphNode[], fail: (problem: string) => UserError): { input: GraphNode; output: GraphNode } {
  const meta = parsed.userDefinedMetadata as { signature?: Signature } | undefined;
  const signature = (meta?.signature ?? parsed.signature) as Signature | undefined;
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const placeholders = nodes.filter((node) => node.op === 'Placeholder');
  if (placeholders.length !== 1) throw fail(`the graph has ${placeholders.length} inputs (Placeholder nodes); a classifier has one`);
  const inputName = signatureNode(signature?.inputs, 'inputs', fail);
  if (inputName !== undefined && inputName !== placeholders[0].name)
    throw fail(`signature.inputs names ${quote(inputName)}, which is not the graph's Placeholder`);
  const read = new Set(nodes.flatMap((node) => node.input));
  const outputName = signatureNode(signature?.outputs, 'outputs', fail);
  const ends = nodes.filter((node) => !read.has(node.name) && node.op !== 'Const' && node.op !== 'Placeholder');
  if (outputName === undefined && ends.length !== 1)
    throw fail(`the graph has ${ends.length} outputs (nodes nothing reads) and no signature; a classifier has one`);
  const output = outputName === undefined ? ends[0] : byName.get(outputName);
  if (!output) throw fail(`signature.outputs names ${quote(outputName)}, which is no node of the graph`);
  return { input: placeholders[0], output };
}

/**
 * The manifest checked against the graph and the shards: sizes first, then the shard files, then
 * one buffer of exactly the declared size, filled on fs.promises (the extension host's event loop runs on meanwhile).
 */
async function readWeights(
  modelJson: string,
  folder: string,
  manifest: unknown,
  nodes: GraphNode[],
  fail: (problem: string) => UserError,
): Promise<{ specs: WeightSpec[]; data: ArrayBuffer }> {
  const problem = validateJson(manifest, MANIFEST_SCHEMA, LAYERS_SCHEMA as unknown as JsonSchema, ['weightsManifest']);
  if (problem) throw fail(`${formatPath(problem.path)}: ${problem.message}`);
  const groups = manifest as { paths: string[]; weights: WeightSpec[] }[];
  const specs = groups.flatMap((group) => group.weights);
  const declared = specs.reduce((sum, spec) => sum + specBytes(spec), 0);
  if (declared > MODEL_LIMITS.weightBytes)
    throw fail(
      `weightsManifest declares ${formatBytes(declared)}, more than the ${formatBytes(MODEL_LIMITS.weightBytes)} cap on weights (MODEL_LIMITS.weightBytes, README › Limits)`,
    );
  const constants = new Set(nodes.filter((node) => node.op === 'Const').map((node) => node.name));
  const listed = new Set<string>();
  for (const spec of specs) {
    if (!constants.has(spec.name)) throw fail(`weightsManifest lists weight ${quote(spec.name)}, which is no Const node of the graph`);
    if (listed.has(spec.name)) throw fail(`weightsManifest lists weight ${quote(spec.name)} twice`);
    listed.add(spec.name);
  }
  const missing = [...constants].find((name) => !listed.has(name));
  if (missing !== undefined) throw fail(`Const node ${quote(missing)} has no weight in weightsManifest`);
  const shards: { file: FolderFile; name: string }[] = [];
  for (const group of groups) {
    const files = group.paths.map((shard) => checkWeightPath(shard, folder, modelJson));
    const have = files.reduce((sum, f) => sum + f.bytes, 0);
    const need = group.weights.reduce((sum, spec) => sum + specBytes(spec), 0);
    if (have !== need)
      throw fail(
        `the weight files ${group.paths.map((p) => quote(p)).join(', ')} hold ${have} bytes but their weights need ${need} (truncated, or from another model)`,
      );
    files.forEach((file, i) => shards.push({ file, name: group.paths[i] }));
  }
  const data = new Uint8Array(declared);
  let offset = 0;
  for (const { file, name } of shards) {
    await readFolderFileAsync(file, modelJson, `weight file ${quote(name)}`, data, offset);
    offset += file.bytes;
  }
  return { specs, data: data.buffer };
}

/** The int32 constants of the graph (shapes, axes, paddings read by shape inference), by node name. */
function intConstants(specs: WeightSpec[], data: ArrayBuffer): Map<string, Int32Array> {
  const values = new Map<string, Int32Array>();
  let offset = 0;
  for (const spec of specs) {
    const bytes = specBytes(spec);
    if (spec.dtype === 'int32' && !spec.quantization) values.set(spec.name, new Int32Array(data.slice(offset, offset + bytes)));
    offset += bytes;
  }
  return values;
}

/** The Placeholder's shape: float32, [−1, H, W, C] (or [−1, C, H, W]) with each side within DATA_LIMITS.imageSide. */
function inputShape(node: GraphNode, fail: (problem: string) => UserError): number[] {
  const dtype = node.attr.dtype?.type;
  if (dtype !== undefined && dtype !== 'DT_FLOAT' && dtype !== 1)
    throw fail(`the input ${quote(node.name)} has dtype ${quote(dtype)}; an image classifier takes DT_FLOAT`);
  const dims = (node.attr.shape?.shape as { dim?: { size?: unknown }[] } | undefined)?.dim;
  if (!Array.isArray(dims) || dims.length !== 4)
    throw fail(`the input ${quote(node.name)} must declare a shape of 4 dimensions (batch, height, width, channels)`);
  const shape = dims.map((dim) => Number(dim?.size ?? -1));
  if (shape[0] !== -1)
    throw fail(`the input ${quote(node.name)} takes a fixed batch of ${quote(dims[0]?.size)}; convert the model with a free batch dimension (-1)`);
  if (!shape.slice(1).every((side) => Number.isInteger(side) && side >= 1 && side <= DATA_LIMITS.imageSide)) {
    throw fail(
      `the input ${quote(node.name)} has shape ${quote(shape)}; its sides must be fixed numbers up to ${DATA_LIMITS.imageSide} (DATA_LIMITS.imageSide)`,
    );
  }
  return shape;
}

/**
 * Reads a graph model's model.json (unless the caller passes the `content` it read: readModelJson)
 * and weights, checked as the module comment says; a UserError naming the file and the problem
 * otherwise. Reads nothing outside the model's folder, and reads on fs.promises.
 */
export async function readGraphModel(modelJson: string, content?: unknown): Promise<CheckedGraphModel> {
  const fail = (problem: string) => new UserError(`${modelJson}: ${problem}`);
  const value = (content === undefined ? await readModelJsonAsync(modelJson) : content) as Record<string, unknown>;
  const folder = realFolder(path.dirname(modelJson), modelJson);
  if (!isGraphModelJson(value)) throw fail('not a TensorFlow.js graph model ("format" is not "graph-model")');
  const topology = value.modelTopology;
  if (typeof topology !== 'object' || topology === null || Array.isArray(topology)) throw fail('a TensorFlow.js graph model without a modelTopology object');
  if (!Array.isArray((topology as Record<string, unknown>).node)) throw fail('a TensorFlow.js graph model without a node list (modelTopology.node)');
  const initializer = value.modelInitializer as { node?: unknown[] } | undefined;
  if (initializer?.node?.length) throw fail('the model has an initializer graph (modelInitializer: lookup tables), which a classifier does not need; refused');
  const nodes = topologicalOrder(checkNodes(topology as Record<string, unknown>, fail), fail);
  const { input, output } = inputAndOutput(value, nodes, fail);
  const shape = inputShape(input, fail);
  const { specs, data } = await readWeights(modelJson, folder, value.weightsManifest, nodes, fail);
  const outputShape = inferShapes(
    nodes,
    input.name,
    shape,
    new Map(specs.map((spec) => [spec.name, spec.shape])),
    intConstants(specs, data),
    output.name,
    fail,
  );
  if (outputShape.length !== 2) throw fail(`the output ${quote(output.name)} has shape ${quote(outputShape)}; a classifier's is (batch, classes)`);
  return { modelJson, nodes, weightSpecs: specs, weightData: data, input: { node: input.name, shape }, output: output.name, classes: outputShape[1] };
}
