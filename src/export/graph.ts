// A small dataflow graph of the inference network: the one description both exporters read (onnx.ts writes it as an
// ONNX model, tfjs.ts as a TensorFlow.js graph model). Ops have dfer's semantics: images are NHWC, filters HWIO,
// linear weights (in, out). Axis 0 of every tensor is dynamic (the batch, or batch x frames): -1 in a shape.
// The builder infers every shape as nodes are added, so a wiring mistake fails here, with the node's name, rather
// than as a runtime error in someone else's engine.

/** A dimension of -1 is known only at run time. */
export type Shape = number[];

export interface Value {
  name: string;
  shape: Shape;
}

export type Elementwise = 'add' | 'sub' | 'mul' | 'div';
export type Unary = 'relu' | 'sigmoid' | 'sqrt' | 'tanh' | 'softmax' | 'identity';

/** The ops' names in ONNX; TensorFlow's are the same but for two (tfjs.ts). */
export const OP_NAME: Record<Elementwise | Unary, string> = {
  add: 'Add',
  sub: 'Sub',
  mul: 'Mul',
  div: 'Div',
  relu: 'Relu',
  sigmoid: 'Sigmoid',
  sqrt: 'Sqrt',
  tanh: 'Tanh',
  softmax: 'Softmax',
  identity: 'Identity',
};

/** What a node computes; its tensor inputs are listed separately, in the order given here. */
export type Op =
  /** inputs x (N, H, W, Cin), filter (k, k, Cin, Cout), bias (Cout); symmetric zero padding. */
  | { op: 'conv2d'; stride: number; pad: number }
  /** input x (N, H, W, C); padding never wins the max (PyTorch pads with -inf). */
  | { op: 'maxPool'; size: number; stride: number; pad: number }
  /** inputs a, b, broadcast as in NumPy. */
  | { op: Elementwise }
  /** softmax over the last axis. */
  | { op: Unary }
  /** inputs a (..., m, k), b (..., k, n) or, transposed, (..., n, k); leading axes broadcast. */
  | { op: 'matMul'; transposeB: boolean }
  | { op: 'reshape'; shape: Shape }
  | { op: 'transpose'; perm: number[] }
  /** size -1: to the end of the axis. */
  | { op: 'slice'; begin: number[]; size: number[] }
  | { op: 'reduce'; kind: 'mean' | 'sum' | 'max'; axes: number[]; keepDims: boolean };

export type GraphNode = Op & { name: string; inputs: Value[]; output: Value };

export interface Constant extends Value {
  data: Float32Array;
}

export interface Graph {
  inputs: Value[];
  /** Each output is an identity node named as the output. */
  outputs: Value[];
  nodes: GraphNode[];
  constants: Constant[];
}

export class GraphError extends Error {}

const sizeOf = (shape: Shape) => shape.reduce((a, b) => a * b, 1);
const show = (shape: Shape) => `(${shape.map((d) => (d < 0 ? 'N' : d)).join(', ')})`;

/** NumPy broadcasting; a dynamic dimension against a static one takes the static one. */
function broadcast(a: Shape, b: Shape, where: string): Shape {
  const rank = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x === y || y === 1) out.push(x);
    else if (x === 1) out.push(y);
    else if (x < 0 || y < 0) out.push(Math.max(x, y));
    else throw new GraphError(`${where}: cannot broadcast ${show(a)} with ${show(b)}`);
  }
  return out;
}

export class GraphBuilder {
  private readonly nodes: GraphNode[] = [];
  private readonly constants = new Map<string, Constant>();
  private readonly inputs: Value[] = [];
  private readonly outputs: Value[] = [];
  private readonly names = new Set<string>();
  private scopeName = '';

  /** Names the nodes added inside `f` after a module of the network (`s_former.layer1.0/...`). */
  scope<T>(name: string, f: () => T): T {
    const outer = this.scopeName;
    this.scopeName = outer ? `${outer}/${name}` : name;
    try {
      return f();
    } finally {
      this.scopeName = outer;
    }
  }

  input(name: string, shape: Shape): Value {
    const v = { name: this.claim(name), shape };
    this.inputs.push(v);
    return v;
  }

  constant(name: string, data: Float32Array, shape: Shape): Value {
    if (data.length !== sizeOf(shape))
      throw new GraphError(`constant ${name}: ${data.length} values for shape ${show(shape)}`);
    const c = { name: this.claim(name), shape, data };
    this.constants.set(name, c);
    return c;
  }

  /** A scalar constant, shared by every node that uses the same value. */
  scalar(value: number): Value {
    const name = `const/${String(value).replace(/[^\w.-]/g, '_')}`; // a name every format accepts
    return this.constants.get(name) ?? this.constant(name, Float32Array.of(value), []);
  }

  output(name: string, x: Value): Value {
    const v = this.add({ op: 'identity' }, [x], x.shape, name);
    this.outputs.push(v);
    return v;
  }

  // -- Ops -------------------------------------------------------------------------------------------------------

  conv2d(x: Value, filter: Value, bias: Value, stride: number, pad: number): Value {
    const [n, h, w, cin] = x.shape;
    const [kh, kw, fin, cout] = filter.shape;
    if (x.shape.length !== 4 || fin !== cin || bias.shape[0] !== cout)
      throw new GraphError(`${this.here('conv2d')}: x ${show(x.shape)}, filter ${show(filter.shape)}`);
    const out = (d: number, k: number) => Math.floor((d + 2 * pad - k) / stride) + 1;
    return this.add({ op: 'conv2d', stride, pad }, [x, filter, bias], [n, out(h, kh), out(w, kw), cout]);
  }

  maxPool(x: Value, size: number, stride: number, pad: number): Value {
    const [n, h, w, c] = x.shape;
    const out = (d: number) => Math.floor((d + 2 * pad - size) / stride) + 1;
    return this.add({ op: 'maxPool', size, stride, pad }, [x], [n, out(h), out(w), c]);
  }

  binary(op: Elementwise, a: Value, b: Value | number): Value {
    const bv = typeof b === 'number' ? this.scalar(b) : b;
    return this.add({ op }, [a, bv], broadcast(a.shape, bv.shape, this.here(op)));
  }

  unary(op: Unary, x: Value): Value {
    return this.add({ op }, [x], x.shape);
  }

  matMul(a: Value, b: Value, transposeB = false): Value {
    const [m, k] = a.shape.slice(-2);
    const [bk, n] = transposeB ? b.shape.slice(-2).reverse() : b.shape.slice(-2);
    if (k !== bk) throw new GraphError(`${this.here('matMul')}: ${show(a.shape)} x ${show(b.shape)}`);
    const batch = broadcast(a.shape.slice(0, -2), b.shape.slice(0, -2), this.here('matMul'));
    return this.add({ op: 'matMul', transposeB }, [a, b], [...batch, m, n]);
  }

  /** At most one -1 in `shape`; it stands for the dynamic axis, which may split or merge whole static axes
   * ((N, T, H, W, C) <-> (N * T, H, W, C)) but not cut one. */
  reshape(x: Value, shape: Shape): Value {
    const known = sizeOf(shape.filter((d) => d >= 0));
    const dynamic = shape.filter((d) => d < 0).length;
    const fixed = x.shape.every((d) => d >= 0);
    const inner = sizeOf(x.shape.filter((d) => d >= 0));
    const ok =
      dynamic > 1
        ? false
        : fixed
          ? sizeOf(x.shape) % known === 0
          : dynamic === 1 && (inner % known === 0 || known % inner === 0);
    if (!ok) throw new GraphError(`${this.here('reshape')}: ${show(x.shape)} to ${show(shape)}`);
    const out = fixed && dynamic ? shape.map((d) => (d < 0 ? sizeOf(x.shape) / known : d)) : shape;
    return this.add({ op: 'reshape', shape }, [x], out);
  }

  transpose(x: Value, perm: number[]): Value {
    return this.add(
      { op: 'transpose', perm },
      [x],
      perm.map((p) => x.shape[p]),
    );
  }

  slice(x: Value, begin: number[], size: number[]): Value {
    const shape = size.map((s, i) => (s < 0 ? (x.shape[i] < 0 ? -1 : x.shape[i] - begin[i]) : s));
    if (shape.some((s, i) => x.shape[i] >= 0 && begin[i] + s > x.shape[i]))
      throw new GraphError(`${this.here('slice')}: [${begin}] + [${size}] outside ${show(x.shape)}`);
    return this.add({ op: 'slice', begin, size }, [x], shape);
  }

  reduce(kind: 'mean' | 'sum' | 'max', x: Value, axes: number[], keepDims = false): Value {
    const axs = axes.map((a) => (a < 0 ? a + x.shape.length : a));
    const shape = x.shape.flatMap((d, i) => (axs.includes(i) ? (keepDims ? [1] : []) : [d]));
    return this.add({ op: 'reduce', kind, axes: axs, keepDims }, [x], shape);
  }

  build(): Graph {
    if (!this.inputs.length || !this.outputs.length) throw new GraphError('a graph needs inputs and outputs');
    return {
      inputs: [...this.inputs],
      outputs: [...this.outputs],
      nodes: [...this.nodes],
      constants: [...this.constants.values()],
    };
  }

  // -- Bookkeeping ---------------------------------------------------------------------------------------------

  private here(op: string): string {
    return this.scopeName ? `${this.scopeName}/${op}` : op;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new GraphError(`duplicate tensor name ${name}`);
    this.names.add(name);
    return name;
  }

  private add(op: Op, inputs: Value[], shape: Shape, name?: string): Value {
    const output = { name: this.claim(name ?? `${this.here(op.op)}_${this.nodes.length}`), shape };
    this.nodes.push({ ...op, name: output.name, inputs, output });
    return output;
  }
}
