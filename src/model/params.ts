// The model's tensors: trainable parameters and BatchNorm buffers, named exactly as the official PyTorch state_dict
// names them (s_former.layer2.0.gc.0.weight, fc_f.bias, ...), so import/export is a change of layout, not a mapping.
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../random.js';

/**
 * How a tensor is laid out in PyTorch relative to dfer (NHWC):
 * - conv: torch (out, in, kh, kw) <-> dfer (kh, kw, in, out)
 * - depthwise: torch (C, 1, kh, kw) <-> dfer (kh, kw, C)           (GCA's global convolution)
 * - pointwise: torch (out, in, 1, 1) <-> dfer (in, out)             (GCA/SE 1x1 convs, used as linear layers)
 * - linear: torch (out, in) <-> dfer (in, out)
 * - plain: same layout in both (biases, BN vectors, position embeddings)
 */
export type TorchLayout = 'conv' | 'depthwise' | 'pointwise' | 'linear' | 'plain';

export type Init =
  | { kind: 'kaimingNormalFanOut'; fanOut: number } // conv init of the official ResNet: N(0, 2 / fan_out)
  | { kind: 'uniform'; bound: number } // PyTorch's default Linear init: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
  | { kind: 'normal'; std: number } // position embeddings: N(0, 1)
  | { kind: 'constant'; value: number };

export interface ParamSpec {
  name: string;
  shape: number[];
  layout: TorchLayout;
  init: Init;
  trainable: boolean; // false for BN running statistics
}

function initValues(spec: ParamSpec, rand: () => number): Float32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const init = spec.init;
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()); // Box-Muller
  for (let i = 0; i < n; i++) {
    switch (init.kind) {
      case 'kaimingNormalFanOut':
        out[i] = gaussian() * Math.sqrt(2 / init.fanOut);
        break;
      case 'uniform':
        out[i] = (2 * rand() - 1) * init.bound;
        break;
      case 'normal':
        out[i] = gaussian() * init.std;
        break;
      case 'constant':
        out[i] = init.value;
        break;
    }
  }
  return out;
}

/** All tensors of a model, by official name. Variables are created once and updated in place. */
let storeCount = 0;

export class ParamStore {
  readonly specs = new Map<string, ParamSpec>();
  readonly vars = new Map<string, tf.Variable>();
  /** tfjs variable names are global: prefix ours so that several models can live in one process. */
  private readonly prefix = `m${storeCount++}/`;

  /** Declare a tensor and initialise it from the seeded generator (declaration order fixes the random stream). */
  declare(spec: ParamSpec, rand: () => number): tf.Variable {
    if (this.specs.has(spec.name)) throw new Error(`parameter ${spec.name} declared twice`);
    this.specs.set(spec.name, spec);
    const initial = tf.tensor(initValues(spec, rand), spec.shape);
    const v = tf.variable(initial, spec.trainable, this.prefix + spec.name);
    initial.dispose(); // the variable holds its own reference to the data
    this.vars.set(spec.name, v);
    return v;
  }

  get<T extends tf.Tensor = tf.Tensor>(name: string): T {
    const v = this.vars.get(name);
    if (!v) throw new Error(`no parameter named ${name}`);
    return v as unknown as T;
  }

  /** Overwrite a tensor's values (checkpoint or PyTorch import); the shape must be the declared one. */
  load(name: string, values: Float32Array): void {
    const spec = this.specs.get(name);
    if (!spec) throw new Error(`no parameter named ${name}`);
    const t = tf.tensor(values, spec.shape);
    this.get<tf.Variable>(name).assign(t);
    t.dispose(); // the variable keeps its own reference to the data
  }

  has(name: string): boolean {
    return this.vars.has(name);
  }

  /** The official name of one of this store's variables (as keyed in tf.variableGrads results). */
  nameOf(variableName: string): string {
    return variableName.startsWith(this.prefix) ? variableName.slice(this.prefix.length) : variableName;
  }

  trainable(): tf.Variable[] {
    return [...this.vars.entries()].filter(([n]) => this.specs.get(n)!.trainable).map(([, v]) => v);
  }

  names(): string[] {
    return [...this.vars.keys()];
  }

  /** Number of values, trainable and buffers. */
  size(): { trainable: number; buffers: number } {
    let trainable = 0;
    let buffers = 0;
    for (const [n, v] of this.vars) {
      if (this.specs.get(n)!.trainable) trainable += v.size;
      else buffers += v.size;
    }
    return { trainable, buffers };
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
    this.specs.clear();
  }
}

/** Declares the tensors of PyTorch-style modules with the official code's initialisation. */
export class ModuleBuilder {
  private readonly rand: () => number;

  constructor(
    readonly store: ParamStore,
    rng: Rng,
  ) {
    this.rand = () => rng.next();
  }

  /** Conv2d(in, out, k, bias=False): kaiming_normal(fan_out, relu), as the official ResNet initialises every conv. */
  conv(name: string, cin: number, cout: number, k: number): void {
    this.store.declare(
      {
        name: `${name}.weight`,
        shape: [k, k, cin, cout],
        layout: 'conv',
        init: { kind: 'kaimingNormalFanOut', fanOut: cout * k * k },
        trainable: true,
      },
      this.rand,
    );
  }

  /** Depthwise Conv2d(C, C, k, groups=C, bias=False): GCA's global convolution. */
  depthwise(name: string, c: number, k: number): void {
    this.store.declare(
      {
        name: `${name}.weight`,
        shape: [k, k, c],
        layout: 'depthwise',
        init: { kind: 'kaimingNormalFanOut', fanOut: c * k * k },
        trainable: true,
      },
      this.rand,
    );
  }

  /** 1x1 Conv2d(in, out, bias=False) applied to a (N, C, 1, 1) descriptor: a linear layer in conv clothing. */
  pointwise(name: string, cin: number, cout: number): void {
    this.store.declare(
      {
        name: `${name}.weight`,
        shape: [cin, cout],
        layout: 'pointwise',
        init: { kind: 'kaimingNormalFanOut', fanOut: cout },
        trainable: true,
      },
      this.rand,
    );
  }

  /** nn.Linear(in, out, bias): PyTorch's default U(-1/sqrt(in), 1/sqrt(in)) for weight and bias. */
  linear(name: string, cin: number, cout: number, bias: boolean): void {
    const bound = 1 / Math.sqrt(cin);
    this.store.declare(
      {
        name: `${name}.weight`,
        shape: [cin, cout],
        layout: 'linear',
        init: { kind: 'uniform', bound },
        trainable: true,
      },
      this.rand,
    );
    if (bias)
      this.store.declare(
        { name: `${name}.bias`, shape: [cout], layout: 'plain', init: { kind: 'uniform', bound }, trainable: true },
        this.rand,
      );
  }

  /** BatchNorm2d(C): weight 1, bias 0, running mean 0, running var 1. */
  batchNorm(name: string, c: number): void {
    const plain = (suffix: string, value: number, trainable: boolean) =>
      this.store.declare(
        { name: `${name}.${suffix}`, shape: [c], layout: 'plain', init: { kind: 'constant', value }, trainable },
        this.rand,
      );
    plain('weight', 1, true);
    plain('bias', 0, true);
    plain('running_mean', 0, false);
    plain('running_var', 1, false);
  }

  /** LayerNorm(D): weight 1, bias 0. */
  layerNorm(name: string, d: number): void {
    this.store.declare(
      { name: `${name}.weight`, shape: [d], layout: 'plain', init: { kind: 'constant', value: 1 }, trainable: true },
      this.rand,
    );
    this.store.declare(
      { name: `${name}.bias`, shape: [d], layout: 'plain', init: { kind: 'constant', value: 0 }, trainable: true },
      this.rand,
    );
  }

  /** A learned position embedding, N(0, 1). */
  embedding(name: string, shape: number[]): void {
    this.store.declare({ name, shape, layout: 'plain', init: { kind: 'normal', std: 1 }, trainable: true }, this.rand);
  }
}
