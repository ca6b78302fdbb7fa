// Data-movement kernels on one native primitive, the strided copy of native/src/layout.cc (plus a strided fill):
// each kernel describes where every output element comes from as an index box with strides into the input and
// output arrays. float32 and int32 only (the copy moves 4-byte words); other dtypes, empty tensors and the cases the
// stock kernel answers without copying (contiguous slices, which it returns as views) fall back to the cpu kernel.
import { backend_util, slice_util, util, type NamedAttrMap } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from '../addon.js';
import { alloc, allocZeroed, sizeOf, type NativeKernel, type NativeKernelArgs, type TensorInfo } from './util.js';

type Words = Float32Array | Int32Array;

/** The values of a float32 or int32 tensor of rank <= 8 (the backend's own array); null otherwise. */
function words(backend: MathBackendCPU, t: TensorInfo): Words | null {
  if (t.shape.length > 8) return null; // the native copy takes boxes of rank <= 16, and tile doubles the rank
  const values = backend.data.get(t.dataId)?.values;
  if (t.dtype === 'float32') return values instanceof Float32Array ? values : null;
  if (t.dtype === 'int32') return values instanceof Int32Array ? values : null;
  return null;
}

/** An output of `size` elements; float32 ones come from the backend's pool (arbitrary contents unless `zeroed`). */
function allocate(backend: MathBackendCPU | null, dtype: TensorInfo['dtype'], size: number, zeroed = false): Words {
  if (dtype === 'int32') return new Int32Array(size);
  if (!backend) return new Float32Array(size);
  return zeroed ? allocZeroed(backend, size) : alloc(backend, size);
}

/** Row-major strides of `shape`, one per axis (the last is 1). */
function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let step = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = step;
    step *= shape[i];
  }
  return s;
}

/** One strided copy: for every index of `shape`, dst[dstOffset + idx . dstStrides] = src[srcOffset + idx . srcStrides]. */
interface Copy {
  shape: number[];
  dstOffset: number;
  dstStrides: number[];
  srcOffset: number;
  srcStrides: number[];
}

function copy(addon: NativeAddon, dst: Words, src: Words, c: Copy): void {
  if (sizeOf(c.shape) === 0) return;
  addon.stridedCopy(dst, src, c.dstOffset, c.srcOffset, c.shape, c.dstStrides, c.srcStrides);
}

/** The 32-bit pattern of `value` in `dtype`, as a signed integer (what native stridedFill takes). */
function bitsOf(dtype: TensorInfo['dtype'], value: number): number {
  const word = allocate(null, dtype, 1);
  word[0] = value;
  return new Int32Array(word.buffer)[0];
}

const result = (backend: MathBackendCPU, shape: number[], dtype: TensorInfo['dtype'], values: Words): TensorInfo =>
  backend.makeTensorInfo(shape, dtype, values);

/** The part of `x` starting at `begin` with extent `size` (and `step` per axis): a new tensor of shape `size`. */
function sliceOf(
  addon: NativeAddon,
  backend: MathBackendCPU,
  x: TensorInfo,
  src: Words,
  begin: number[],
  size: number[],
  step?: number[],
) {
  const xs = stridesOf(x.shape);
  const out = allocate(backend, x.dtype, sizeOf(size));
  copy(addon, out, src, {
    shape: size,
    dstOffset: 0,
    dstStrides: stridesOf(size),
    srcOffset: begin.reduce((o, b, i) => o + b * xs[i], 0),
    srcStrides: xs.map((s, i) => s * (step?.[i] ?? 1)),
  });
  return out;
}

/** Whether a slice of `x` along `axis` is one contiguous run (every axis before it has extent 1). */
const contiguousAlong = (shape: readonly number[], axis: number) => sizeOf(shape.slice(0, axis)) === 1;

function transpose(addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs) {
  const { x } = inputs;
  const perm = attrs.perm as number[];
  const src = words(backend, x);
  if (!src || sizeOf(x.shape) === 0) return null;
  const shape = perm.map((p) => x.shape[p]);
  const xs = stridesOf(x.shape);
  const out = allocate(backend, x.dtype, sizeOf(shape));
  copy(addon, out, src, {
    shape,
    dstOffset: 0,
    dstStrides: stridesOf(shape),
    srcOffset: 0,
    srcStrides: perm.map((p) => xs[p]),
  });
  return result(backend, shape, x.dtype, out);
}

function slice(addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs) {
  const { x } = inputs;
  const src = words(backend, x);
  if (!src) return null;
  const [begin, size] = slice_util.parseSliceParams(
    x,
    attrs.begin as number | number[],
    attrs.size as number | number[] | undefined,
  );
  slice_util.assertParamsValid(x, begin, size);
  // The cpu kernel returns a contiguous slice as a view of x: nothing to copy.
  if (sizeOf(size) === 0 || slice_util.isSliceContinous(x.shape, begin, size)) return null;
  return result(backend, size, x.dtype, sliceOf(addon, backend, x, src, begin, size));
}

function stridedSlice(addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs) {
  const { x } = inputs;
  const src = words(backend, x);
  if (!src) return null;
  const a = attrs as NamedAttrMap & {
    begin: number[];
    end: number[];
    strides: number[];
    beginMask: number;
    endMask: number;
    ellipsisMask: number;
    newAxisMask: number;
    shrinkAxisMask: number;
  };
  const info = slice_util.sliceInfo(
    x.shape,
    a.begin,
    a.end,
    a.strides,
    a.beginMask,
    a.endMask,
    a.ellipsisMask,
    a.newAxisMask,
    a.shrinkAxisMask,
  );
  if (info.isIdentity || sizeOf(info.finalShape) === 0) return null; // a reshape (no copy), or nothing to copy
  if (info.sliceDim0 || info.isSimpleSlice) {
    // What the cpu kernel does: a plain slice (stride 1 everywhere), reshaped to the final shape.
    const size = slice_util.computeOutShape(info.begin, info.end, info.strides);
    if (size.some((s) => s <= 0) || slice_util.isSliceContinous(x.shape, info.begin, size)) return null;
    return result(backend, info.finalShape, x.dtype, sliceOf(addon, backend, x, src, info.begin, size));
  }
  // General strides (negative too). The cpu kernel indexes x with one coordinate per axis of finalShapeSparse, which
  // is only one per axis of x without shrunk axes; leave the other cases to it.
  if (info.finalShapeSparse.length !== x.shape.length) return null;
  return result(
    backend,
    info.finalShape,
    x.dtype,
    sliceOf(addon, backend, x, src, info.begin, info.finalShapeSparse, info.strides),
  );
}

function reverse(addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs) {
  const { x } = inputs;
  const src = words(backend, x);
  if (!src || x.shape.length === 0 || sizeOf(x.shape) === 0) return null;
  const dims = util.parseAxisParam(attrs.dims as number | number[], x.shape);
  const xs = stridesOf(x.shape);
  const flip = x.shape.map((_, i) => dims.includes(i));
  const out = allocate(backend, x.dtype, sizeOf(x.shape));
  copy(addon, out, src, {
    shape: x.shape,
    dstOffset: 0,
    dstStrides: xs,
    srcOffset: x.shape.reduce((o, d, i) => o + (flip[i] ? (d - 1) * xs[i] : 0), 0),
    srcStrides: xs.map((s, i) => (flip[i] ? -s : s)),
  });
  return result(backend, x.shape, x.dtype, out);
}

// tile(x (d0..dk), reps (r0..rk)) is x viewed as (r0, d0, r1, d1, ...) with stride 0 on the rep axes.
function tile(addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs) {
  const { x } = inputs;
  const reps = attrs.reps as number[];
  const src = words(backend, x);
  if (!src || reps.length !== x.shape.length) return null;
  const shape = x.shape.map((d, i) => d * reps[i]);
  if (sizeOf(shape) === 0) return null;
  const xs = stridesOf(x.shape);
  const os = stridesOf(shape);
  const box: Copy = { shape: [], dstOffset: 0, dstStrides: [], srcOffset: 0, srcStrides: [] };
  x.shape.forEach((d, i) => {
    box.shape.push(reps[i], d);
    box.dstStrides.push(d * os[i], os[i]);
    box.srcStrides.push(0, xs[i]);
  });
  const out = allocate(backend, x.dtype, sizeOf(shape));
  copy(addon, out, src, box);
  return result(backend, shape, x.dtype, out);
}

/** Fill the frame of `out` (shape `outShape`) around the interior box [before, before + inner) with `bits`. */
function fillFrame(
  addon: NativeAddon,
  out: Words,
  outShape: number[],
  before: number[],
  inner: number[],
  bits: number,
) {
  const os = stridesOf(outShape);
  // Axis by axis: the slabs before and after the interior along axis k, within the interior of the axes before k.
  for (let k = 0; k < outShape.length; k++) {
    const slab = (from: number, extent: number) => {
      const shape = outShape.map((d, i) => (i < k ? inner[i] : i === k ? extent : d));
      if (sizeOf(shape) === 0) return;
      const offset = outShape.reduce((o, _, i) => o + (i < k ? before[i] : i === k ? from : 0) * os[i], 0);
      addon.stridedFill(out, offset, shape, os, bits);
    };
    slab(0, before[k]);
    slab(before[k] + inner[k], outShape[k] - before[k] - inner[k]);
  }
}

function padV2(addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs) {
  const { x } = inputs;
  const paddings = attrs.paddings as Array<[number, number]>;
  const constantValue = attrs.constantValue as number;
  const src = words(backend, x);
  if (!src || paddings.length !== x.shape.length || paddings.some(([b, e]) => b < 0 || e < 0)) return null;
  const shape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  if (sizeOf(shape) === 0) return null;
  const before = paddings.map((p) => p[0]);
  const out = allocate(backend, x.dtype, sizeOf(shape), true); // zeros: a pad by 0 needs no fill
  if (constantValue !== 0) fillFrame(addon, out, shape, before, x.shape, bitsOf(x.dtype, constantValue));
  const os = stridesOf(shape);
  copy(addon, out, src, {
    shape: x.shape,
    dstOffset: before.reduce((o, b, i) => o + b * os[i], 0),
    dstStrides: os,
    srcOffset: 0,
    srcStrides: stridesOf(x.shape),
  });
  return result(backend, shape, x.dtype, out);
}

// Mirror padding: along each axis the output is [mirrored head | x | mirrored tail], so the output is a product of
// up to 3 segments per axis, each a copy with stride +1 or -1 along that axis.
function mirrorPad(addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs) {
  const { x } = inputs;
  const paddings = attrs.paddings as Array<[number, number]>;
  const offset = attrs.mode === 'reflect' ? 0 : 1;
  const src = words(backend, x);
  const rank = x.shape.length;
  if (!src || rank === 0 || paddings.length !== rank || sizeOf(x.shape) === 0) return null;
  // The op checks the paddings against the shape; stay inside x regardless (else the cpu kernel decides).
  if (paddings.some(([b, e], i) => b < 0 || e < 0 || b > x.shape[i] - 1 + offset || e > x.shape[i] - 1 + offset))
    return null;
  const shape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  const os = stridesOf(shape);
  const xs = stridesOf(x.shape);
  // Per axis: [output start, extent, input start, input step].
  const segments = x.shape.map((d, i) => {
    const [b, e] = paddings[i];
    return [
      [0, b, b - offset, -1],
      [b, d, 0, 1],
      [b + d, e, d - 2 + offset, -1],
    ].filter(([, extent]) => extent > 0);
  });
  const out = allocate(backend, x.dtype, sizeOf(shape));
  const pick = new Array<number>(rank).fill(0);
  for (;;) {
    const seg = pick.map((p, i) => segments[i][p]);
    copy(addon, out, src, {
      shape: seg.map((s) => s[1]),
      dstOffset: seg.reduce((o, s, i) => o + s[0] * os[i], 0),
      dstStrides: os,
      srcOffset: seg.reduce((o, s, i) => o + s[2] * xs[i], 0),
      srcStrides: seg.map((s, i) => s[3] * xs[i]),
    });
    let k = rank - 1;
    while (k >= 0 && ++pick[k] === segments[k].length) pick[k--] = 0;
    if (k < 0) break;
  }
  return result(backend, shape, x.dtype, out);
}

/** Write each input (all of shape `parts[i]`, the same except along `axis`) into its slab of `out` along `axis`. */
function join(
  addon: NativeAddon,
  backend: MathBackendCPU,
  parts: TensorInfo[],
  srcs: Words[],
  axis: number,
  outShape: number[],
) {
  const out = allocate(backend, parts[0].dtype, sizeOf(outShape));
  const outer = sizeOf(outShape.slice(0, axis));
  const outInner = sizeOf(outShape.slice(axis));
  let column = 0;
  parts.forEach((t, i) => {
    const inner = sizeOf(t.shape.slice(axis));
    copy(addon, out, srcs[i], {
      shape: [outer, inner],
      dstOffset: column,
      dstStrides: [outInner, 1],
      srcOffset: 0,
      srcStrides: [inner, 1],
    });
    column += inner;
  });
  return result(backend, outShape, parts[0].dtype, out);
}

/** The float32 or int32 arrays of tensors that share one dtype, or null. */
function sameDtypeWords(backend: MathBackendCPU, ts: TensorInfo[]): Words[] | null {
  const out: Words[] = [];
  for (const t of ts) {
    const w = t.dtype === ts[0].dtype ? words(backend, t) : null;
    if (!w) return null;
    out.push(w);
  }
  return out;
}

function concat(addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs) {
  const all = Object.values(inputs);
  if (all.length === 0) return null;
  const axis = util.parseAxisParam(attrs.axis as number, all[0].shape)[0];
  backend_util.assertParamsConsistent(
    all.map((t) => t.shape),
    axis,
  );
  const outShape = backend_util.computeOutShape(
    all.map((t) => t.shape),
    axis,
  );
  const parts = all.filter((t) => sizeOf(t.shape) > 0);
  if (sizeOf(outShape) === 0 || parts.length < 2) return null; // nothing to copy, or the identity
  const srcs = sameDtypeWords(backend, parts);
  if (!srcs) return null;
  return join(addon, backend, parts, srcs, axis, outShape);
}

function pack(addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs) {
  const all = Object.values(inputs);
  if (all.length < 2) return null; // one input: an expandDims, no copy
  const shape = all[0].shape;
  if (!all.every((t) => util.arraysEqual(t.shape, shape))) return null; // the cpu kernel raises the error
  let axis = attrs.axis as number;
  if (axis < 0) axis += shape.length + 1;
  if (axis < 0 || axis > shape.length) return null;
  const srcs = sameDtypeWords(backend, all);
  if (!srcs || sizeOf(shape) === 0) return null;
  const expanded = [...shape.slice(0, axis), 1, ...shape.slice(axis)];
  const outShape = [...shape.slice(0, axis), all.length, ...shape.slice(axis)];
  return join(
    addon,
    backend,
    all.map((t) => ({ ...t, shape: expanded })),
    srcs,
    axis,
    outShape,
  );
}

/** Slices of x along `axis` with the given extents, each copied out; reshaped to `shapeOf(extent)` when given. */
function split(
  addon: NativeAddon,
  backend: MathBackendCPU,
  x: TensorInfo,
  src: Words,
  axis: number,
  sizes: number[],
  shapeOf?: (s: number[]) => number[],
) {
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = x.shape.slice();
    size[axis] = s;
    const values = sliceOf(addon, backend, x, src, begin, size);
    begin[axis] += s;
    return result(backend, shapeOf ? shapeOf(size) : size, x.dtype, values);
  });
}

function splitV(addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs) {
  const { x } = inputs;
  const src = words(backend, x);
  if (!src || x.shape.length === 0) return null;
  const axis = util.parseAxisParam(attrs.axis as number, x.shape)[0];
  const numOrSizeSplits = attrs.numOrSizeSplits as number | number[];
  // prepareSplitSize fills in a -1 entry in place, as the cpu kernel's call does: give it a copy.
  const sizes = backend_util.prepareSplitSize(
    x,
    Array.isArray(numOrSizeSplits) ? numOrSizeSplits.slice() : numOrSizeSplits,
    axis,
  );
  // Contiguous slices are views in the cpu kernel; empty ones have nothing to copy.
  if (contiguousAlong(x.shape, axis) || sizeOf(x.shape) === 0) return null;
  return split(addon, backend, x, src, axis, sizes);
}

function unpack(addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs) {
  const { value } = inputs;
  const src = words(backend, value);
  if (!src || value.shape.length === 0) return null;
  let axis = attrs.axis as number;
  if (axis < 0) axis += value.shape.length;
  if (axis < 0 || axis >= value.shape.length) return null;
  if (contiguousAlong(value.shape, axis) || sizeOf(value.shape) === 0) return null;
  const sizes = new Array<number>(value.shape[axis]).fill(1);
  return split(addon, backend, value, src, axis, sizes, (s) => s.filter((_, i) => i !== axis));
}

export const layoutKernels: NativeKernel[] = [
  { name: 'Transpose', run: transpose },
  { name: 'Slice', run: slice },
  { name: 'StridedSlice', run: stridedSlice },
  { name: 'Reverse', run: reverse },
  { name: 'Tile', run: tile },
  { name: 'PadV2', run: padV2 },
  { name: 'MirrorPad', run: mirrorPad },
  { name: 'Concat', run: concat },
  { name: 'SplitV', run: splitV },
  { name: 'Pack', run: pack },
  { name: 'Unpack', run: unpack },
];
