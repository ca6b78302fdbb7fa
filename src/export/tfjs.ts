// The graph (graph.ts) as a TensorFlow.js graph model: model.json (a TensorFlow GraphDef in JSON, the format
// tensorflowjs_converter writes and tf.loadGraphModel reads) and binary weight shards. Every constant, the int32
// shape/axis operands included, is a Const node whose value comes from the shards by name. The ops are the ones
// TensorFlow.js' converter executes on every backend (cpu, wasm, webgl, webgpu).
import { loadGraphModelSync } from '@tensorflow/tfjs-converter';
import * as tf from '@tensorflow/tfjs-core';
import { OP_NAME, type Graph, type GraphNode, type Shape, type Value } from './graph.js';
import { GRAPH_INPUT, type ClipBatch, type GraphOutputs } from './network-graph.js';

/** tensorflowjs_converter's default shard size. */
const SHARD_BYTES = 4 * 1024 * 1024;
const FLOAT_LOWEST = -3.4028234663852886e38; // float32's lowest: the padding of a max-pool never wins

type AttrValue =
  | { type: string }
  | { s: string }
  | { i: string }
  | { f: number }
  | { b: boolean }
  | { list: { i?: string[]; s?: string[] } }
  | { shape: { dim: { size: string }[] } }
  | { tensor: { dtype: string; tensorShape: { dim: { size: string }[] } } };

export interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, AttrValue>;
}

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
}

export interface TfjsModelJson {
  format: 'graph-model';
  generatedBy: string;
  convertedBy: string;
  modelTopology: { node: TfNode[]; library: Record<string, never>; versions: { producer: number } };
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
  signature: {
    inputs: Record<string, TensorInfo>;
    outputs: Record<string, TensorInfo>;
  };
  userDefinedMetadata: Record<string, unknown>;
}

interface TensorInfo {
  name: string;
  dtype: 'DT_FLOAT';
  tensorShape: { dim: { size: string }[] };
}

export interface TfjsModel {
  modelJson: TfjsModelJson;
  /** Every weight, in manifest order (one buffer of its own) ... */
  weights: Uint8Array;
  /** ... and the same bytes cut into the shards model.json lists, in its order. */
  shards: { file: string; bytes: Uint8Array }[];
}

const DTYPE = { float32: 'DT_FLOAT', int32: 'DT_INT32' } as const;
const dims = (shape: Shape) => ({ dim: shape.map((d) => ({ size: String(d) })) });
const str = (s: string) => ({ s: Buffer.from(s).toString('base64') }); // GraphDef JSON holds strings as base64
const ints = (values: number[]) => ({ list: { i: values.map(String) } });
const T = { T: { type: 'DT_FLOAT' } };

/** TensorFlow's names where they differ from ONNX's. */
const TF_OP = { ...OP_NAME, add: 'AddV2', div: 'RealDiv' } as const;
const REDUCE = { mean: 'Mean', sum: 'Sum', max: 'Max' } as const;

class Writer {
  readonly nodes: TfNode[] = [];
  readonly weights: { spec: WeightSpec; data: Float32Array | Int32Array }[] = [];

  constant(name: string, data: Float32Array | Int32Array, shape: Shape): string {
    const dtype = data instanceof Int32Array ? 'int32' : 'float32';
    const type = DTYPE[dtype];
    this.nodes.push({
      name,
      op: 'Const',
      attr: { dtype: { type }, value: { tensor: { dtype: type, tensorShape: dims(shape) } } },
    });
    this.weights.push({ spec: { name, shape, dtype }, data });
    return name;
  }

  /** An int32 operand of one node (a shape, a permutation, axes), named after it. */
  operand(node: GraphNode, what: string, values: number[], shape: Shape = [values.length]): string {
    return this.constant(`${node.name}/${what}`, Int32Array.from(values), shape);
  }

  node(name: string, op: string, input: string[], attr: Record<string, AttrValue> = {}): void {
    this.nodes.push({ name, op, input, attr });
  }

  /** One graph node as TensorFlow nodes. */
  lower(n: GraphNode): void {
    const [x, y] = n.inputs.map((v) => v.name);
    const out = n.output.name;
    switch (n.op) {
      case 'conv2d': {
        // Conv2D then BiasAdd rather than _FusedConv2D: every backend has a fast Conv2D (dfer's native engine has no
        // FusedConv2D of its own and would run tfjs' JavaScript one), and the add is a small part of the time.
        const p = n.pad;
        this.node(`${n.name}/conv`, 'Conv2D', [x, y], {
          ...T,
          strides: ints([1, n.stride, n.stride, 1]),
          padding: str('EXPLICIT'),
          explicit_paddings: ints([0, 0, p, p, p, p, 0, 0]),
          data_format: str('NHWC'),
          dilations: ints([1, 1, 1, 1]),
        });
        this.node(out, 'BiasAdd', [`${n.name}/conv`, n.inputs[2].name], { ...T, data_format: str('NHWC') });
        return;
      }
      case 'maxPool': {
        // TensorFlow's max-pool pads only as SAME; PyTorch's symmetric padding is an explicit pad first.
        const p = n.pad;
        const paddings = this.operand(n, 'paddings', [0, 0, p, p, p, p, 0, 0], [4, 2]);
        const lowest = this.constant(`${n.name}/lowest`, Float32Array.of(FLOAT_LOWEST), []);
        this.node(`${n.name}/pad`, 'PadV2', [x, paddings, lowest], T);
        this.node(out, 'MaxPool', [`${n.name}/pad`], {
          ...T,
          ksize: ints([1, n.size, n.size, 1]),
          strides: ints([1, n.stride, n.stride, 1]),
          padding: str('VALID'),
          data_format: str('NHWC'),
        });
        return;
      }
      case 'add':
      case 'sub':
      case 'mul':
      case 'div':
        this.node(out, TF_OP[n.op], [x, y], T);
        return;
      case 'relu':
      case 'sigmoid':
      case 'sqrt':
      case 'tanh':
      case 'softmax':
      case 'identity':
        this.node(out, TF_OP[n.op], [x], T);
        return;
      case 'matMul': {
        const plain = n.inputs.every((v) => v.shape.length === 2);
        this.node(
          out,
          plain ? 'MatMul' : 'BatchMatMulV2',
          [x, y],
          plain
            ? { ...T, transpose_a: { b: false }, transpose_b: { b: n.transposeB } }
            : { ...T, adj_x: { b: false }, adj_y: { b: n.transposeB } },
        );
        return;
      }
      case 'reshape':
        this.node(out, 'Reshape', [x, this.operand(n, 'shape', n.shape)], T);
        return;
      case 'transpose':
        this.node(out, 'Transpose', [x, this.operand(n, 'perm', n.perm)], T);
        return;
      case 'slice':
        this.node(out, 'Slice', [x, this.operand(n, 'begin', n.begin), this.operand(n, 'size', n.size)], T);
        return;
      case 'reduce':
        this.node(out, REDUCE[n.kind], [x, this.operand(n, 'axes', n.axes)], {
          ...T,
          keep_dims: { b: n.keepDims },
        });
        return;
    }
  }
}

/** Weights concatenated in manifest order, and cut into shards of SHARD_BYTES (a tensor may span two shards). */
function shardWeights(weights: Writer['weights']): Pick<TfjsModel, 'weights' | 'shards'> {
  const total = weights.reduce((s, w) => s + w.data.byteLength, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const { data } of weights) {
    all.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    at += data.byteLength;
  }
  const count = Math.max(1, Math.ceil(total / SHARD_BYTES));
  const shards = Array.from({ length: count }, (_, i) => ({
    file: `group1-shard${i + 1}of${count}.bin`,
    bytes: all.subarray(i * SHARD_BYTES, Math.min(total, (i + 1) * SHARD_BYTES)),
  }));
  return { weights: all, shards };
}

const tensorInfo = (v: Value): TensorInfo => ({ name: `${v.name}:0`, dtype: 'DT_FLOAT', tensorShape: dims(v.shape) });

export function toTfjs(graph: Graph, meta: { producer: string; metadata: Record<string, unknown> }): TfjsModel {
  const w = new Writer();
  for (const v of graph.inputs)
    w.node(v.name, 'Placeholder', [], { dtype: { type: 'DT_FLOAT' }, shape: { shape: dims(v.shape) } });
  for (const c of graph.constants) w.constant(c.name, c.data, c.shape);
  for (const n of graph.nodes) w.lower(n);
  const { weights, shards } = shardWeights(w.weights);
  return {
    modelJson: {
      format: 'graph-model',
      generatedBy: meta.producer,
      convertedBy: meta.producer,
      modelTopology: { node: w.nodes, library: {}, versions: { producer: 1 } },
      weightsManifest: [{ paths: shards.map((s) => s.file), weights: w.weights.map((x) => x.spec) }],
      signature: {
        inputs: Object.fromEntries(graph.inputs.map((v) => [v.name, tensorInfo(v)])),
        outputs: Object.fromEntries(graph.outputs.map((v) => [v.name, tensorInfo(v)])),
      },
      userDefinedMetadata: meta.metadata,
    },
    weights,
    shards,
  };
}

/** Runs an exported model with TensorFlow.js' own graph executor on the current backend, as a web page would. */
export async function runTfjs(m: TfjsModel, clips: ClipBatch): Promise<GraphOutputs> {
  const model = loadGraphModelSync([m.modelJson as unknown as tf.io.ModelJSON, m.weights.buffer as ArrayBuffer]);
  const input = tf.tensor(clips.data, clips.shape);
  try {
    const out = model.execute({ [GRAPH_INPUT]: input }, ['logits', 'features']) as tf.Tensor[];
    try {
      const [logits, features] = (await Promise.all(out.map((t) => t.data()))) as Float32Array[];
      return { logits, features };
    } finally {
      tf.dispose(out);
    }
  } finally {
    input.dispose();
    model.dispose();
  }
}
