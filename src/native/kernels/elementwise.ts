// Elementwise kernels (native/src/elementwise.cc): binary ops with numpy broadcasting, AddN and unary maps, float32
// only; other dtypes (int32, bool, complex) fall back to the cpu kernels.
//
// Broadcasting is described to the C++ side by a merged layout: the output's axes with size-1 axes dropped and
// adjacent axes merged when both operands either span or broadcast along them alike, with each operand's element
// stride per merged axis (0 where it broadcasts). [N, H, W, C] + [C] becomes dims [N*H*W, C], strides [C, 1]
// and [0, 1];
// same shapes become one axis; a scalar operand has stride 0 throughout.
import { backend_util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '../addon.js';
import { alloc, f32, f32s, output, sizeOf, type NativeKernel, type NativeKernelArgs } from './util.js';

/** Binary op codes of native/src/elementwise.cc. */
const BINARY = {
  Add: 0,
  Sub: 1,
  Multiply: 2,
  RealDiv: 3,
  Maximum: 4,
  Minimum: 5,
  SquaredDifference: 6,
  Pow: 7,
  Prelu: 8,
  EluGrad: 9,
} as const;

/** Unary op codes of native/src/elementwise.cc. */
const UNARY = {
  Relu: 0,
  Relu6: 1,
  Step: 2,
  Exp: 3,
  Log: 4,
  Sqrt: 5,
  Rsqrt: 6,
  Square: 7,
  Neg: 8,
  Abs: 9,
  Tanh: 10,
  Sigmoid: 11,
  Softplus: 12,
  Elu: 13,
  LeakyRelu: 14,
  Reciprocal: 15,
  ClipByValue: 16,
  Log1p: 17,
  Expm1: 18,
  Sign: 19,
} as const;

export interface BroadcastLayout {
  dims: number[];
  aStrides: number[];
  bStrides: number[];
}

/**
 * The merged layout of `a op b` with output shape `outShape` (see the header). Exported for the tests. Always has at
 * least one axis; the innermost axis has strides 0 or 1.
 */
export function broadcastLayout(
  aShape: readonly number[],
  bShape: readonly number[],
  outShape: readonly number[],
): BroadcastLayout {
  const rank = outShape.length;
  const at = (shape: readonly number[], k: number) => shape[k - (rank - shape.length)] ?? 1;
  // Per output axis of size > 1: does each operand span it (true) or broadcast along it (false)?
  const axes: { size: number; a: boolean; b: boolean }[] = [];
  for (let k = 0; k < rank; k++) {
    const size = outShape[k];
    if (size === 1) continue;
    const a = k >= rank - aShape.length && at(aShape, k) === size;
    const b = k >= rank - bShape.length && at(bShape, k) === size;
    const last = axes[axes.length - 1];
    if (last && last.a === a && last.b === b) last.size *= size;
    else axes.push({ size, a, b });
  }
  if (axes.length === 0) axes.push({ size: 1, a: false, b: false });
  const dims = axes.map((x) => x.size);
  const strides = (spans: boolean[]) => {
    const s = new Array<number>(dims.length).fill(0);
    let step = 1;
    for (let k = dims.length - 1; k >= 0; k--) {
      if (!spans[k]) continue;
      s[k] = step;
      step *= dims[k];
    }
    return s;
  };
  return { dims, aStrides: strides(axes.map((x) => x.a)), bStrides: strides(axes.map((x) => x.b)) };
}

function binary(op: number, aName: string, bName: string) {
  return (addon: NativeAddon, { inputs, backend }: NativeKernelArgs): TensorInfo | null => {
    const a = inputs[aName];
    const b = inputs[bName];
    const bufs = f32s(backend, [a, b]);
    if (!bufs) return null;
    const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const size = sizeOf(outShape);
    if (size === 0) return null;
    const { dims, aStrides, bStrides } = broadcastLayout(a.shape, b.shape, outShape);
    const out = alloc(backend, size);
    addon.binary(out, bufs[0], bufs[1], op, dims, aStrides, bStrides);
    return output(backend, outShape, out);
  };
}

/** EluGrad(dy, y): same shapes only (as the cpu kernel assumes). */
function eluGrad(addon: NativeAddon, { inputs, backend }: NativeKernelArgs): TensorInfo | null {
  const { dy, y } = inputs;
  const bufs = f32s(backend, [dy, y]);
  const size = sizeOf(y.shape);
  if (!bufs || size === 0 || bufs[0].length !== size || bufs[1].length !== size) return null;
  const out = alloc(backend, size);
  addon.binary(out, bufs[0], bufs[1], BINARY.EluGrad, [size], [1], [1]);
  return output(backend, y.shape, out);
}

function addN(addon: NativeAddon, { inputs, backend }: NativeKernelArgs): TensorInfo | null {
  // AddN's inputs arrive as an array (tfjs passes the tensor list itself as `inputs`).
  const list = (Array.isArray(inputs) ? inputs : Object.values(inputs)) as TensorInfo[];
  if (list.length === 0) return null;
  const shape = list[0].shape;
  if (!list.every((t) => t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]))) return null;
  const bufs = f32s(backend, list);
  const size = sizeOf(shape);
  if (!bufs || size === 0) return null;
  const out = alloc(backend, size);
  addon.addN(out, bufs);
  return output(backend, shape, out);
}

function unary(op: number, params: (attrs: Record<string, unknown>) => [number, number] = () => [0, 0]) {
  return (addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs): TensorInfo | null => {
    const { x } = inputs;
    const values = f32(backend, x);
    if (!values || values.length === 0) return null;
    const [alpha, beta] = params(attrs as Record<string, unknown>);
    const out = alloc(backend, values.length);
    addon.unary(out, values, op, alpha, beta);
    return output(backend, x.shape, out);
  };
}

const num = (v: unknown, fallback: number) => (typeof v === 'number' ? v : fallback);

export const elementwiseKernels: NativeKernel[] = [
  { name: 'Add', run: binary(BINARY.Add, 'a', 'b') },
  { name: 'Sub', run: binary(BINARY.Sub, 'a', 'b') },
  { name: 'Multiply', run: binary(BINARY.Multiply, 'a', 'b') },
  { name: 'RealDiv', run: binary(BINARY.RealDiv, 'a', 'b') },
  { name: 'Maximum', run: binary(BINARY.Maximum, 'a', 'b') },
  { name: 'Minimum', run: binary(BINARY.Minimum, 'a', 'b') },
  { name: 'SquaredDifference', run: binary(BINARY.SquaredDifference, 'a', 'b') },
  { name: 'Pow', run: binary(BINARY.Pow, 'a', 'b') },
  { name: 'Prelu', run: binary(BINARY.Prelu, 'x', 'alpha') },
  { name: 'EluGrad', run: eluGrad },
  { name: 'AddN', run: addN },
  { name: 'Relu', run: unary(UNARY.Relu) },
  { name: 'Relu6', run: unary(UNARY.Relu6) },
  { name: 'Step', run: unary(UNARY.Step, (a) => [num(a.alpha, 0), 0]) },
  { name: 'Exp', run: unary(UNARY.Exp) },
  { name: 'Log', run: unary(UNARY.Log) },
  { name: 'Sqrt', run: unary(UNARY.Sqrt) },
  { name: 'Rsqrt', run: unary(UNARY.Rsqrt) },
  { name: 'Square', run: unary(UNARY.Square) },
  { name: 'Neg', run: unary(UNARY.Neg) },
  { name: 'Abs', run: unary(UNARY.Abs) },
  { name: 'Tanh', run: unary(UNARY.Tanh) },
  { name: 'Sigmoid', run: unary(UNARY.Sigmoid) },
  { name: 'Softplus', run: unary(UNARY.Softplus) },
  { name: 'Elu', run: unary(UNARY.Elu) },
  { name: 'LeakyRelu', run: unary(UNARY.LeakyRelu, (a) => [num(a.alpha, 0.2), 0]) },
  { name: 'Reciprocal', run: unary(UNARY.Reciprocal) },
  {
    name: 'ClipByValue',
    run: unary(UNARY.ClipByValue, (a) => [num(a.clipValueMin, -Infinity), num(a.clipValueMax, Infinity)]),
  },
  { name: 'Log1p', run: unary(UNARY.Log1p) },
  { name: 'Expm1', run: unary(UNARY.Expm1) },
  { name: 'Sign', run: unary(UNARY.Sign) },
];
