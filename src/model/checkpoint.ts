// dfer checkpoints: <name>.safetensors (weights, BN buffers, optimiser momentum) + <name>.json (config and state).
// Both are written atomically, weights first; the JSON records the weights' SHA-256 so a mismatched pair is refused.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomic } from '../atomic.js';
import { diffConfigs, validateConfig, type ModelConfig } from '../config.js';
import type { SamplingSpec } from '../data/sampling.js';
import { VERSION } from '../version.js';
import { createModel, type Model } from './network.js';
import { parseSafetensors, serializeSafetensors, type TensorMap } from './safetensors.js';
import { DferError } from '../errors.js';

const MOMENTUM = 'optimizer.momentum.';

export interface CheckpointMeta {
  format: 'dfer-checkpoint';
  version: 1;
  dfer: string;
  createdAt: string;
  config: ModelConfig;
  weightsSha256: string;
  /** Free-form training state (epoch, step, schedule, RNG...) owned by the trainer. */
  state?: Record<string, unknown>;
  /** Where the weights came from (e.g. an imported PyTorch state_dict). */
  source?: string;
  /** How clips were sampled in training (U segments x V frames), so that a bare checkpoint is evaluated the same way. */
  sampling?: SamplingSpec;
}

export class CheckpointError extends DferError {}

/** The sampling a checkpoint was trained with; older checkpoints (and imported weights) sample U = T segments of one frame. */
export function checkpointSampling(meta: CheckpointMeta): SamplingSpec {
  return meta.sampling ?? { u: meta.config.frames, v: 1, rule: 'official' };
}

/** `runs/x/best`, `runs/x/best.safetensors` and `runs/x/best.json` all name the same checkpoint. */
export function checkpointPaths(path: string): { base: string; weights: string; meta: string } {
  const base = path.replace(/\.(safetensors|json)$/, '');
  return { base, weights: `${base}.safetensors`, meta: `${base}.json` };
}

export interface SaveOptions {
  momentum?: Map<string, tf.Tensor>;
  state?: Record<string, unknown>;
  source?: string;
  sampling?: SamplingSpec;
}

/** Reads the tensors asynchronously (a GPU backend has no synchronous read), then writes both files atomically. */
export async function saveCheckpoint(path: string, model: Model, opts: SaveOptions = {}): Promise<CheckpointMeta> {
  const { weights, meta } = checkpointPaths(path);
  const tensors: TensorMap = new Map();
  const read = async (t: tf.Tensor) => (await t.data()) as Float32Array;
  for (const [name, v] of model.params.vars) tensors.set(name, { dtype: 'F32', shape: v.shape, data: await read(v) });
  for (const [name, t] of opts.momentum ?? [])
    tensors.set(MOMENTUM + name, { dtype: 'F32', shape: t.shape, data: await read(t) });
  const bytes = serializeSafetensors(tensors, { format: 'dfer' });
  const m: CheckpointMeta = {
    format: 'dfer-checkpoint',
    version: 1,
    dfer: VERSION,
    createdAt: new Date().toISOString(),
    config: model.config,
    weightsSha256: createHash('sha256').update(bytes).digest('hex'),
    ...(opts.state ? { state: opts.state } : {}),
    ...(opts.source ? { source: opts.source } : {}),
    ...(opts.sampling ? { sampling: opts.sampling } : {}),
  };
  writeFileAtomic(weights, bytes);
  writeFileAtomic(meta, JSON.stringify(m, null, 2) + '\n');
  return m;
}

export function readCheckpointMeta(path: string): CheckpointMeta {
  const { meta } = checkpointPaths(path);
  if (!existsSync(meta))
    throw new CheckpointError(`${meta}: no such checkpoint (expected <name>.json beside <name>.safetensors)`);
  let m: CheckpointMeta;
  try {
    m = JSON.parse(readFileSync(meta, 'utf8'));
  } catch (err) {
    throw new CheckpointError(`${meta}: not valid JSON (${(err as Error).message})`);
  }
  if (m.format !== 'dfer-checkpoint')
    throw new CheckpointError(`${meta}: not a dfer checkpoint (format ${JSON.stringify(m.format)})`);
  return m;
}

/** The index of the first NaN or infinite value, or -1. */
export function firstNonFinite(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

export interface LoadedCheckpoint {
  model: Model;
  meta: CheckpointMeta;
  momentum: Map<string, tf.Tensor>;
}

/** Load a checkpoint; with `expect`, refuse one whose config differs and say which fields differ. */
export function loadCheckpoint(path: string, expect?: ModelConfig): LoadedCheckpoint {
  const meta = readCheckpointMeta(path);
  const { weights } = checkpointPaths(path);
  if (expect) {
    const diff = diffConfigs(expect, meta.config);
    if (diff.length)
      throw new CheckpointError(`${weights}: config does not match (expected -> checkpoint): ${diff.join('; ')}`);
  }
  if (!existsSync(weights)) throw new CheckpointError(`${weights}: missing (the .json has no weights beside it)`);
  const bytes = readFileSync(weights);
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== meta.weightsSha256)
    throw new CheckpointError(
      `${weights}: contents do not match ${checkpointPaths(path).meta} (SHA-256 differs); the pair was mixed up or damaged`,
    );
  const { tensors } = parseSafetensors(bytes, weights);
  const model = createModel(validateConfig(meta.config));
  const momentum = new Map<string, tf.Tensor>();
  try {
    for (const [name, spec] of model.params.specs) {
      const t = tensors.get(name);
      if (!t) throw new CheckpointError(`${weights}: missing tensor ${name}`);
      if (t.shape.join() !== spec.shape.join())
        throw new CheckpointError(`${weights}: tensor ${name} has shape [${t.shape}], expected [${spec.shape}]`);
      const bad = firstNonFinite(t.data);
      if (bad >= 0) {
        throw new CheckpointError(
          `${weights}: tensor ${name} holds ${t.data[bad]} (element ${bad}): the weights diverged; use an earlier checkpoint, or train again with a lower --lr`,
        );
      }
      model.params.load(name, Float32Array.from(t.data));
    }
    for (const [name, t] of tensors)
      if (name.startsWith(MOMENTUM)) momentum.set(name.slice(MOMENTUM.length), tf.tensor(t.data, t.shape));
  } catch (err) {
    model.params.dispose();
    tf.dispose([...momentum.values()]);
    throw err;
  }
  return { model, meta, momentum };
}
