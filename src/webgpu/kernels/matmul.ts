// BatchMatMul on WebGPU without the split-K program. For a single matrix product with a long inner dimension
// (K >= 2000) and few output tiles, the stock kernel splits K across workgroups and adds the partial sums with
// emulated float atomics. On Mesa's lavapipe that program returned wrong values (the transformer's to_out gradient,
// 30x4096 by 4096x128, was 177% off), and float atomics make the sum order, so the result, vary from run to run
// anywhere. dfer routes those products to the small-output tiled program instead: deterministic, and correct.
import * as tf from '@tensorflow/tfjs-core';

const SMALL_OUTPUT_PROGRAM = 2; // MatMulProgramType.MatMulSmallOutputSizeProgram in tfjs-backend-webgpu
const PROGRAM_FLAG = 'WEBGPU_MATMUL_PROGRAM_TYPE';

/** Whether the stock kernel would choose split-K for these operands (its own test, restated). */
export function wouldSplitK(
  a: number[],
  b: number[],
  transposeA: boolean,
  transposeB: boolean,
  threshold: number,
): boolean {
  const batch = Math.max(
    a.slice(0, -2).reduce((p, d) => p * d, 1),
    b.slice(0, -2).reduce((p, d) => p * d, 1),
  );
  const m = transposeA ? a[a.length - 1] : a[a.length - 2];
  const n = transposeB ? b[b.length - 2] : b[b.length - 1];
  const k = transposeB ? b[b.length - 1] : b[b.length - 2];
  const tiles = batch * Math.ceil(m / 32) * Math.ceil(n / 32);
  const few = tiles <= threshold || (m <= 8 && tiles <= threshold * 2);
  return few && batch * m * n > 128 && batch === 1 && k >= 2000;
}

export function registerMatMul(backendName: string): void {
  const stock = tf.getKernel(tf.BatchMatMul, backendName);
  if (!stock) return;
  const stockFunc = stock.kernelFunc;
  tf.unregisterKernel(tf.BatchMatMul, backendName);
  tf.registerKernel({
    kernelName: tf.BatchMatMul,
    backendName,
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
      const threshold = (args.backend as unknown as { thresholdToIncreaseWorkgroups: number })
        .thresholdToIncreaseWorkgroups;
      const env = tf.env();
      if (env.getNumber(PROGRAM_FLAG) >= 0 || !wouldSplitK(a.shape, b.shape, transposeA, transposeB, threshold))
        return stockFunc(args);
      env.set(PROGRAM_FLAG, SMALL_OUTPUT_PROGRAM);
      try {
        return stockFunc(args);
      } finally {
        env.set(PROGRAM_FLAG, -1);
      }
    },
  });
}
