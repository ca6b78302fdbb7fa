// The ops whose backward pass dfer writes out itself (to cut tfjs' per-op autodiff cost) against tfjs' own autodiff
// of the plain composite they replace: same values, same gradients for every input.
import { TEST_BACKEND } from '../helpers/backend.js';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backend.js';
import { globalDepthwiseConv } from '../../src/model/attention.js';
import { gelu, linear } from '../../src/model/ops.js';
import { attend } from '../../src/model/transformer.js';
import { relError } from '../helpers/golden.js';

beforeAll(async () => {
  await useBackend(TEST_BACKEND);
});

/** sum(y * sin(0, 1, 2, ...)): a loss that gives every element of y its own gradient. */
const weightedSum = (y: tf.Tensor) => tf.sum(tf.mul(y, tf.sin(tf.reshape(tf.range(0, y.size), y.shape))));

/** Values and the gradients w.r.t. every input of `ours` and `reference` agree within `tol` (relative to the max). */
function expectSameWithGrads(
  inputs: tf.Tensor[],
  ours: (...xs: tf.Tensor[]) => tf.Tensor,
  reference: (...xs: tf.Tensor[]) => tf.Tensor,
  tol: number,
) {
  tf.tidy(() => {
    const [a, b] = [ours(...inputs), reference(...inputs)];
    expect(a.shape).toEqual(b.shape);
    expect(relError(a.dataSync(), b.dataSync())).toBeLessThan(tol);
    const ga = tf.grads((...xs: tf.Tensor[]) => weightedSum(ours(...xs)))(inputs);
    const gb = tf.grads((...xs: tf.Tensor[]) => weightedSum(reference(...xs)))(inputs);
    ga.forEach((g, i) => {
      expect(g.shape).toEqual(gb[i].shape);
      expect(relError(g.dataSync(), gb[i].dataSync())).toBeLessThan(tol);
    });
  });
}

const rand = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

test.each([
  { name: 'rank 3 input with bias', x: [3, 5, 6], bias: true },
  { name: 'rank 2 input without bias', x: [7, 6], bias: false },
])('linear, $name: value and gradients equal autodiff of reshape-matMul-add', ({ x, bias }) => {
  const inputs = [rand(x, 1), rand([6, 4], 2), ...(bias ? [rand([4], 3)] : [])];
  const reference = (xi: tf.Tensor, w: tf.Tensor, b?: tf.Tensor) => {
    const y = tf.matMul(tf.reshape(xi, [-1, 6]) as tf.Tensor2D, w as tf.Tensor2D);
    return tf.reshape(b ? tf.add(y, b) : y, [...xi.shape.slice(0, -1), 4]);
  };
  expectSameWithGrads(inputs, linear, reference, 1e-6);
  tf.dispose(inputs);
});

test('attention core: value and gradient equal autodiff of split, head transposes, softmax(q k^T / sqrt(d)) v', () => {
  const [b, n, heads, d] = [2, 5, 3, 4];
  const config = { depth: 1, heads, dimHead: d, mlpDim: 8 };
  const reference = (qkv: tf.Tensor) => {
    const [q, k, v] = tf
      .split(qkv, 3, 2)
      .map((m) => tf.transpose(tf.reshape(m, [b, n, heads, d]), [0, 2, 1, 3]) as tf.Tensor4D);
    const out = tf.matMul(tf.softmax(tf.mul(tf.matMul(q, k, false, true), d ** -0.5)), v);
    return tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [b, n, heads * d]);
  };
  const qkv = rand([b, n, 3 * heads * d], 4);
  expectSameWithGrads([qkv], (x) => attend(x as tf.Tensor3D, config), reference, 1e-5);
  qkv.dispose();
});

test("GCA's global depthwise conv: value and gradients equal autodiff of sum(x * w) over the map", () => {
  const inputs = [rand([6, 5, 5, 8], 5), rand([5, 5, 8], 6)];
  const reference = (x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(x, w), [1, 2]);
  expectSameWithGrads(inputs, (x, w) => globalDepthwiseConv(x as tf.Tensor4D, w as tf.Tensor3D), reference, 1e-6);
  tf.dispose(inputs);
});

test('GELU: value and gradient equal autodiff of the tanh formula, tails included', () => {
  const x = tf.mul(rand([4, 50], 7), 4);
  const reference = (xi: tf.Tensor) => {
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(xi, tf.mul(0.044715, tf.pow(xi, 3))));
    return tf.mul(tf.mul(0.5, xi), tf.add(1, tf.tanh(inner)));
  };
  expectSameWithGrads([x], gelu, reference, 1e-6);
  x.dispose();
});
