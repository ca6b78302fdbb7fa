// The native backend's recycled output buffers (src/native/memory.ts): reuse happens, and never behind the back of
// an array someone can still see (read out by dataSync, or viewed by another tensor).
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backend.js';
import type { PooledCpuBackend } from '../../src/native/memory.js';
import { describeNative } from '../helpers/native.js';

const backend = () => tf.backend() as PooledCpuBackend;
const values = (t: tf.Tensor) => backend().data.get(t.dataId).values as Float32Array;

describeNative('native backend buffer pool', () => {
  beforeAll(async () => {
    await useBackend('native');
  });

  test('a disposed kernel output is handed out again for the next output of that size', () => {
    const a = tf.randomNormal([64, 33]);
    const b = tf.randomNormal([64, 33]);
    const first = tf.add(a, b);
    const array = values(first);
    first.dispose();
    const { reused } = backend().poolStats;
    const second = tf.mul(a, b);
    expect(values(second)).toBe(array);
    expect(backend().poolStats.reused).toBe(reused + 1);
    const expected = a
      .arraySync()
      .flat()
      .map((x, i) => x * (b.arraySync().flat()[i] as number));
    expect(Array.from(second.dataSync())).toEqual(Array.from(Float32Array.from(expected)));
    tf.dispose([a, b, second]);
  });

  test('an array read out with dataSync() keeps its values after its tensor is disposed', () => {
    const a = tf.fill([50, 20], 3);
    const t = tf.add(a, a);
    const read = t.dataSync();
    t.dispose();
    const others = Array.from({ length: 5 }, () => tf.mul(a, a));
    expect(read.every((v) => v === 6)).toBe(true);
    tf.dispose([a, ...others]);
  });

  test('a tensor viewing a pooled array (a contiguous slice on the cpu path) survives its parent being disposed', () => {
    const a = tf.fill([40, 30], 2);
    const parent = tf.add(a, a); // pooled
    const child = tf.slice(parent, [10, 0], [5, 30]); // the cpu kernel returns a subarray view
    parent.dispose();
    const others = Array.from({ length: 5 }, () => tf.mul(a, tf.scalar(-1)));
    expect(child.dataSync().every((v) => v === 4)).toBe(true);
    tf.dispose([a, child, ...others]);
  });

  test('a training-like loop recycles instead of allocating, with a flat tensor count', () => {
    const x = tf.randomNormal([16, 8, 8, 32]);
    const w = tf.variable(tf.randomNormal([3, 3, 32, 32], 0, 0.1));
    const step = () => {
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.square(tf.relu(tf.conv2d(x as tf.Tensor4D, w as unknown as tf.Tensor4D, 1, 1)))),
        [w],
      );
      w.assign(tf.sub(w, tf.mul(grads[w.name], 1e-4)));
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    step();
    const before = { ...backend().poolStats };
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) tf.tidy(step);
    const after = backend().poolStats;
    expect(tf.memory().numTensors).toBe(tensors);
    expect(after.reused - before.reused).toBeGreaterThan(5 * 3);
    expect(after.fresh - before.fresh).toBeLessThan(after.reused - before.reused);
    tf.dispose([x, w]);
  });
});
