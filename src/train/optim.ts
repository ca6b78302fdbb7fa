// SGD with PyTorch's semantics and the learning-rate schedules of the code (step) and the paper (exp).
import * as tf from '@tensorflow/tfjs-core';
import { hasFused } from '../backend.js';
import { FUSED } from '../fused.js';

export interface SgdConfig {
  lr: number;
  momentum: number;
  /** L2 weight decay added to the gradient (PyTorch's SGD), not decoupled. */
  weightDecay: number;
}

/** The official code's optimiser: SGD(lr 0.001, momentum 0.9, weight_decay 0.1). */
export const OFFICIAL_SGD: SgdConfig = { lr: 0.001, momentum: 0.9, weightDecay: 0.1 };

/**
 * torch.optim.SGD (dampening 0, no Nesterov): d = g + wd * p; buf = d on the first step, else momentum * buf + d;
 * p -= lr * buf. Momentum buffers are named after their parameters so they checkpoint and resume exactly.
 */
export class Sgd {
  readonly buffers = new Map<string, tf.Variable>();

  constructor(public config: SgdConfig) {}

  /** Apply one step with learning rate lr; `params` and `grads` are keyed by parameter name. */
  step(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, lr: number): void {
    const { momentum, weightDecay } = this.config;
    tf.tidy(() => {
      for (const [name, v] of params) {
        const g = grads.get(name);
        if (!g) continue; // PyTorch skips parameters whose grad is None
        if (hasFused(FUSED.sgdMomentum)) {
          this.fusedStep(name, v, g, lr);
          continue;
        }
        const d = weightDecay !== 0 ? tf.add(g, tf.mul(v, weightDecay)) : g;
        let update = d;
        if (momentum !== 0) {
          const buf = this.buffers.get(name);
          if (buf) {
            buf.assign(tf.add(tf.mul(buf, momentum), d));
            update = buf;
          } else {
            this.buffers.set(name, tf.variable(d, false));
            update = d;
          }
        }
        v.assign(tf.sub(v, tf.mul(update, lr)));
      }
    });
  }
  /** The same update as one fused kernel (native engine, WebGPU): one pass over each parameter instead of six. */
  private fusedStep(name: string, v: tf.Variable, g: tf.Tensor, lr: number): void {
    const { momentum, weightDecay } = this.config;
    const buf = this.buffers.get(name);
    const inputs: Record<string, tf.Tensor> = { param: v, grad: g };
    if (buf) inputs.buf = buf;
    const [p1, b1] = tf.engine().runKernel(FUSED.sgdMomentum, inputs, { lr, momentum, weightDecay }) as tf.Tensor[];
    v.assign(p1);
    if (momentum === 0) return;
    if (buf) buf.assign(b1);
    else this.buffers.set(name, tf.variable(b1, false));
  }

  /** Restore momentum buffers saved in a checkpoint (resume continues exactly). */
  restore(buffers: Map<string, tf.Tensor>): void {
    this.dispose();
    for (const [name, t] of buffers) this.buffers.set(name, tf.variable(t, false));
  }

  dispose(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }
}

export const SCHEDULES = ['step', 'exp', 'cosine'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];

export interface ScheduleConfig {
  name: ScheduleName;
  baseLr: number;
  /** step: epochs between decays (code: 7). */
  stepSize: number;
  /** step: factor per decay (code: 0.5); exp: factor per epoch (the paper does not give it; 0.9 default). */
  gamma: number;
  /** cosine: total epochs. */
  epochs: number;
  /** cosine: final learning rate. */
  minLr: number;
}

export const DEFAULT_SCHEDULE: ScheduleConfig = {
  name: 'step',
  baseLr: 0.001,
  stepSize: 7,
  gamma: 0.5,
  epochs: 80,
  minLr: 0,
};

/** Learning rate for a 0-based epoch, as PyTorch's StepLR / ExponentialLR / CosineAnnealingLR (stepped per epoch). */
export function learningRate(s: ScheduleConfig, epoch: number): number {
  switch (s.name) {
    case 'step':
      return s.baseLr * s.gamma ** Math.floor(epoch / s.stepSize);
    case 'exp':
      return s.baseLr * s.gamma ** epoch;
    case 'cosine':
      return s.minLr + ((s.baseLr - s.minLr) * (1 + Math.cos((Math.PI * Math.min(epoch, s.epochs)) / s.epochs))) / 2;
  }
}
