// The graph (graph.ts) as an ONNX model, encoded with onnx-proto (ONNX's own onnx.proto compiled by protobufjs).
// Opset 17 (ONNX 1.12, 2022): read by every current runtime (onnxruntime >= 1.12, TensorRT 8.5+, OpenVINO 2022.3+);
// only standard ops are used, so a later opset changes nothing. ONNX's Conv and MaxPool are NCHW while the graph is
// NHWC, so each is wrapped in a pair of Transposes; runtimes cancel the pairs between consecutive layers.
import onnxProto from 'onnx-proto';
import { OP_NAME, type Graph, type GraphNode, type Shape, type Value } from './graph.js';

const { onnx } = onnxProto;
type INode = onnxProto.onnx.INodeProto;
type ITensor = onnxProto.onnx.ITensorProto;
type IAttribute = onnxProto.onnx.IAttributeProto;

export const ONNX_OPSET = 17;
const IR_VERSION = 8; // the IR of opset 17
const { FLOAT, INT64 } = onnx.TensorProto.DataType;
const { INT, INTS } = onnx.AttributeProto.AttributeType;

const bytesOf = (a: Float32Array | BigInt64Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const floatTensor = (name: string, data: Float32Array, dims: Shape): ITensor => ({
  name,
  dims,
  dataType: FLOAT,
  rawData: bytesOf(data),
});
const int64Tensor = (name: string, values: number[]): ITensor => ({
  name,
  dims: [values.length],
  dataType: INT64,
  rawData: bytesOf(BigInt64Array.from(values.map(BigInt))),
});
const ints = (name: string, values: number[]): IAttribute => ({ name, type: INTS, ints: values });
const int = (name: string, value: number): IAttribute => ({ name, type: INT, i: value });

/** A dynamic dimension is named N: the batch (every graph input and output leads with it). */
function valueInfo(v: Value): onnxProto.onnx.IValueInfoProto {
  const dim = v.shape.map((d) => (d < 0 ? { dimParam: 'N' } : { dimValue: d }));
  return { name: v.name, type: { tensorType: { elemType: FLOAT, shape: { dim } } } };
}

/** HWIO (dfer) -> OIHW (ONNX). */
function oihw(data: Float32Array, [kh, kw, cin, cout]: Shape): Float32Array {
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++)
          out[((o * cin + i) * kh + y) * kw + x] = data[((y * kw + x) * cin + i) * cout + o];
  return out;
}

const INT64_MAX = 2 ** 62; // "to the end" for Slice; any value past the axis length is clamped

/** Writes one graph node as ONNX nodes (plus the int64 initializers their shape-like inputs need). */
function lower(n: GraphNode, extra: ITensor[]): INode[] {
  const [x, y] = n.inputs.map((v) => v.name);
  const out = n.output.name;
  const node = (opType: string, input: string[], output: string, attribute: IAttribute[] = [], suffix = '') => ({
    name: `${n.name}${suffix}`,
    opType,
    input,
    output: [output],
    attribute,
  });
  const initializer = (suffix: string, values: number[]) => {
    const name = `${n.name}/${suffix}`;
    extra.push(int64Tensor(name, values));
    return name;
  };
  /** NHWC -> op in NCHW -> NHWC. */
  const nchw = (opType: string, weights: string[], attribute: IAttribute[]) => [
    node('Transpose', [x], `${n.name}/nchw`, [ints('perm', [0, 3, 1, 2])], '/to_nchw'),
    node(opType, [`${n.name}/nchw`, ...weights], `${n.name}/out_nchw`, attribute),
    node('Transpose', [`${n.name}/out_nchw`], out, [ints('perm', [0, 2, 3, 1])], '/to_nhwc'),
  ];
  switch (n.op) {
    case 'conv2d': {
      const [, filter, bias] = n.inputs;
      return nchw(
        'Conv',
        [filter.name, bias.name],
        [
          ints('kernel_shape', filter.shape.slice(0, 2)),
          ints('strides', [n.stride, n.stride]),
          ints('pads', Array(4).fill(n.pad)),
        ],
      );
    }
    case 'maxPool':
      return nchw(
        'MaxPool',
        [],
        [
          ints('kernel_shape', [n.size, n.size]),
          ints('strides', [n.stride, n.stride]),
          ints('pads', Array(4).fill(n.pad)),
        ],
      );
    case 'add':
    case 'sub':
    case 'mul':
    case 'div':
      return [node(OP_NAME[n.op], [x, y], out)];
    case 'softmax':
      return [node('Softmax', [x], out, [int('axis', -1)])];
    case 'relu':
    case 'sigmoid':
    case 'sqrt':
    case 'tanh':
    case 'identity':
      return [node(OP_NAME[n.op], [x], out)];
    case 'matMul': {
      if (!n.transposeB) return [node('MatMul', [x, y], out)];
      const rank = n.inputs[1].shape.length;
      const perm = [...Array(rank - 2).keys(), rank - 1, rank - 2];
      return [
        node('Transpose', [y], `${n.name}/b_t`, [ints('perm', perm)], '/transpose_b'),
        node('MatMul', [x, `${n.name}/b_t`], out),
      ];
    }
    case 'reshape':
      return [node('Reshape', [x, initializer('shape', n.shape)], out)];
    case 'transpose':
      return [node('Transpose', [x], out, [ints('perm', n.perm)])];
    case 'slice': {
      const axes = n.begin.flatMap((b, i) => (b === 0 && n.size[i] < 0 ? [] : [i]));
      const ends = axes.map((a) => (n.size[a] < 0 ? INT64_MAX : n.begin[a] + n.size[a]));
      const starts = axes.map((a) => n.begin[a]);
      return [
        node('Slice', [x, initializer('starts', starts), initializer('ends', ends), initializer('axes', axes)], out),
      ];
    }
    case 'reduce': {
      const keepdims = int('keepdims', n.keepDims ? 1 : 0);
      // Opset 17: ReduceSum takes its axes as an input, ReduceMean and ReduceMax as an attribute (until opset 18).
      if (n.kind === 'sum') return [node('ReduceSum', [x, initializer('axes', n.axes)], out, [keepdims])];
      return [node(n.kind === 'mean' ? 'ReduceMean' : 'ReduceMax', [x], out, [ints('axes', n.axes), keepdims])];
    }
  }
}

export interface OnnxMetadata {
  producerVersion: string;
  /** Free-form key/value pairs stored in the model (metadata_props): config, classes, preprocessing. */
  props: Record<string, string>;
}

/** The encoded ModelProto. */
export function toOnnx(graph: Graph, meta: OnnxMetadata): Uint8Array {
  const extra: ITensor[] = [];
  const nodes = graph.nodes.flatMap((n) => lower(n, extra));
  // Conv filters are stored OIHW, as ONNX's Conv reads them.
  const filters = new Set(graph.nodes.flatMap((n) => (n.op === 'conv2d' ? [n.inputs[1].name] : [])));
  const initializer = [
    ...graph.constants.map(({ name, data, shape: [kh, kw, cin, cout], shape }) =>
      filters.has(name) ? floatTensor(name, oihw(data, shape), [cout, cin, kh, kw]) : floatTensor(name, data, shape),
    ),
    ...extra,
  ];
  const model: onnxProto.onnx.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'dfer',
    producerVersion: meta.producerVersion,
    graph: {
      name: 'dfer',
      node: nodes,
      initializer,
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
    },
    metadataProps: Object.entries(meta.props).map(([key, value]) => ({ key, value })),
  };
  return onnx.ModelProto.encode(model).finish();
}
