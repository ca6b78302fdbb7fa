// BatchMatMul on oneDNN (native/src/matmul.cc): any rank >= 2, transposes by strides, and batch broadcasting when
// one operand's batch is 1 (or both batches are equal); other broadcasts fall back to the cpu kernel.
import type { NativeAddon } from '../addon.js';
import { alloc, f32s, output, sizeOf, type NativeKernel, type NativeKernelArgs } from './util.js';

function batchMatMul(addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs) {
  const { a, b } = inputs;
  const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
  const bufs = f32s(backend, [a, b]);
  if (!bufs || a.shape.length < 2 || b.shape.length < 2) return null;
  const [ra, rb] = [a.shape.length, b.shape.length];
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  if (k !== kb) return null; // let the stock kernel raise its own error
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const [ba, bb] = [sizeOf(outerA), sizeOf(outerB)];
  let outer: number[];
  if (ba === bb && outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i])) outer = outerA;
  else if (bb === 1) outer = outerA;
  else if (ba === 1) outer = outerB;
  else return null;
  const c = alloc(backend, Math.max(ba, bb) * m * n);
  addon.batchMatMul(c, ...bufs, ba, bb, m, k, n, transposeA, transposeB);
  return output(backend, [...outer, m, n], c);
}

export const matmulKernels: NativeKernel[] = [{ name: 'BatchMatMul', run: batchMatMul }];
