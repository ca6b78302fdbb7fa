// The fused native ReLU backward, GELU and SGD-with-momentum kernels against the composite versions on the cpu backend.
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backend.js';
import { addRelu, gelu, relu } from '../../src/model/ops.js';
import { Sgd } from '../../src/train/optim.js';
import { describeNative, expectSameOnBoth, rand, weightedSum } from '../helpers/native.js';

describeNative('fused native training kernels', () => {
  test('on the native backend, the ReLU gradient and the SGD update run the fused kernels', async () => {
    await useBackend('native');
    const v = tf.variable(tf.randomNormal([5, 4]));
    const sgd = new Sgd({ lr: 0.1, momentum: 0.9, weightDecay: 0.1 });
    const { kernelNames } = await tf.profile(() => {
      const { grads } = tf.variableGrads(() => tf.sum(relu(v)), [v]);
      sgd.step(new Map([['v', v]]), new Map([['v', grads[v.name]]]), 0.1);
      tf.dispose(Object.values(grads));
    });
    expect(kernelNames).toEqual(expect.arrayContaining(['DferReluGrad', 'DferSgdMomentum']));
    expect(kernelNames).not.toContain('Step');
    sgd.dispose();
    v.dispose();
  });

  test.each([[[7, 5, 3]], [[64, 33, 17]]])('ReLU %j: forward and gradient equal tf.relu on cpu', async (shape) => {
    await expectSameOnBoth(
      [rand(shape, 1)],
      (x) => {
        return [relu(x), tf.grad((xi: tf.Tensor) => weightedSum(relu(xi)))(x)];
      },
      1e-12,
    ); // exact: a select, no arithmetic
  });

  test.each([[[8, 15, 256]], [[3, 7]]])(
    'GELU %j: forward and gradient equal the composite tanh formula on cpu',
    async (shape) => {
      // Values up to +-6 reach both tails, where tanh saturates and the slope goes to 0 and 1.
      await expectSameOnBoth(
        [rand(shape, 7, 6)],
        (x) => [gelu(x), tf.grad((xi: tf.Tensor) => weightedSum(gelu(xi)))(x)],
        1e-6,
      );
    },
  );

  test('GELU on the native backend runs the fused kernels, not the composite', async () => {
    await useBackend('native');
    const x = tf.randomNormal([4, 9]);
    const { kernelNames } = await tf.profile(() => tf.grad((xi: tf.Tensor) => tf.sum(gelu(xi)))(x));
    expect(kernelNames).toEqual(expect.arrayContaining(['DferGelu', 'DferGeluGrad']));
    expect(kernelNames).not.toContain('Tanh');
    expect(kernelNames).not.toContain('Pow');
    x.dispose();
  });

  test('addRelu: forward and both gradients equal relu(add) on cpu', async () => {
    await expectSameOnBoth(
      [rand([6, 9, 9, 16], 5), rand([6, 9, 9, 16], 6)],
      (a, b) => {
        return [addRelu(a, b), ...tf.grads((ai: tf.Tensor, bi: tf.Tensor) => weightedSum(addRelu(ai, bi)))([a, b])];
      },
      1e-12,
    );
  });

  test.each([
    { momentum: 0.9, weightDecay: 0.1 },
    { momentum: 0, weightDecay: 5e-4 },
    { momentum: 0.9, weightDecay: 0 },
  ])('SGD momentum $momentum, weight decay $weightDecay: three steps equal the composite update', async (cfg) => {
    await expectSameOnBoth(
      [rand([3, 3, 16, 32], 2), rand([3, 3, 16, 32], 3), rand([9], 4)],
      (p0, g, q0) => {
        const params = new Map([
          ['w', tf.variable(p0)],
          ['b', tf.variable(q0)],
        ]);
        const sgd = new Sgd({ lr: 0.05, ...cfg });
        for (let i = 1; i <= 3; i++) {
          const grads = new Map([
            ['w', tf.mul(g, i)],
            ['b', tf.mul(tf.ones([9]), -i)],
          ]);
          sgd.step(params, grads, 0.05);
          tf.dispose([...grads.values()]);
        }
        const out = [...params.values()].map((v) => v.clone());
        tf.dispose([...params.values()]);
        sgd.dispose();
        return out;
      },
      1e-6,
    );
  });
});
