// Pad of any rank on WebGPU. The stock PadV2 kernel emits invalid WGSL above rank 4 (it compares and subtracts the
// `vec5`/`vec6` structs tfjs uses for rank-5/6 coordinates as if they were vectors); Dawn drops the command buffer and
// the result is garbage. dfer pads rank-5 tensors in every training step (the gradient of the frame-difference
// slices), so the kernel is replaced: axes are merged until the stock kernel sees rank 4 or less.
//
// An axis with no padding folds into the axis before it: padding (A, B) by (p, q) on the first axis is padding
// (A*B) by (p*B, q*B). Leading unpadded axes fold together the same way. When more than four groups remain, the
// padded axes are done in stages of at most three (each stage pads the remaining axes by zero).
import * as tf from '@tensorflow/tfjs-core';

type Pads = Array<[number, number]>;

/** Merge axes: returns the merged shape and pads, or null when more than `maxRank` groups remain. */
export function mergePadAxes(shape: number[], pads: Pads, maxRank = 4): { shape: number[]; pads: Pads } | null {
  const outShape: number[] = [];
  const outPads: Pads = [];
  shape.forEach((d, i) => {
    const [p, q] = pads[i];
    if (outShape.length && p === 0 && q === 0) {
      const last = outShape.length - 1;
      outShape[last] *= d;
      outPads[last] = [outPads[last][0] * d, outPads[last][1] * d];
    } else {
      outShape.push(d);
      outPads.push([p, q]);
    }
  });
  return outShape.length <= maxRank ? { shape: outShape, pads: outPads } : null;
}

/** The stages: each pads at most three axes, so that its merge leaves at most four groups. */
export function padStages(pads: Pads): Pads[] {
  const padded = pads.map((p, i) => (p[0] || p[1] ? i : -1)).filter((i) => i >= 0);
  const stages: Pads[] = [];
  for (let s = 0; s < padded.length; s += 3) {
    const axes = new Set(padded.slice(s, s + 3));
    stages.push(pads.map((p, i) => (axes.has(i) ? p : [0, 0])));
  }
  return stages.length ? stages : [pads];
}

export function registerPad(backendName: string): void {
  const stock = tf.getKernel(tf.PadV2, backendName);
  if (!stock) return;
  const stockFunc = stock.kernelFunc;
  const reshapeKernel = tf.getKernel(tf.Reshape, backendName)!.kernelFunc;
  tf.unregisterKernel(tf.PadV2, backendName);
  tf.registerKernel({
    kernelName: tf.PadV2,
    backendName,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const { paddings, constantValue } = args.attrs as unknown as { paddings: Pads; constantValue: number };
      if (x.shape.length <= 4) return stockFunc(args);
      const backend = args.backend as tf.KernelBackend;
      // The backend's own Reshape: a new view of the same buffer (reference counted), no copy and no tape entry.
      const reshape = (t: tf.TensorInfo, shape: number[]) =>
        reshapeKernel({ inputs: { x: t }, backend, attrs: { shape } }) as tf.TensorInfo;
      let cur: tf.TensorInfo = x;
      let curShape = x.shape;
      for (const stage of padStages(paddings)) {
        const merged = mergePadAxes(curShape, stage)!;
        const flat = reshape(cur, merged.shape);
        const out = stockFunc({
          inputs: { x: flat },
          backend,
          attrs: { paddings: merged.pads, constantValue },
        }) as tf.TensorInfo;
        const nextShape = curShape.map((d, i) => d + stage[i][0] + stage[i][1]);
        const shaped = reshape(out, nextShape);
        backend.disposeData(flat.dataId);
        backend.disposeData(out.dataId);
        if (cur !== x) backend.disposeData(cur.dataId);
        cur = shaped;
        curShape = nextShape;
      }
      return cur;
    },
  });
}
