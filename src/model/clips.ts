// Loading the clips to run a model on: (N, T, 3, H, W) float32 in [0, 1], checked against the model's config.
// The loader is chosen by file extension, so that video files (decoded by ffmpeg) can be added beside safetensors.
import { extname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../config.js';
import { readSafetensors } from './safetensors.js';
import { DferError } from '../errors.js';

export class ClipInputError extends DferError {}

export const DEFAULT_CLIP_KEY = 'input.clip_btchw';

export interface ClipSourceOptions {
  /** Tensor name inside a safetensors input. */
  key?: string;
}

export interface LoadedClips {
  clips: tf.Tensor5D;
  /** What was read, for reports: "case1.safetensors[input.clip_btchw]". */
  source: string;
}

type ClipLoader = (file: string, config: ModelConfig, opts: ClipSourceOptions) => LoadedClips;

/** The expected clip layout of a config, as text: (N, 16, 3, 112, 112). */
export function clipShapeText(config: ModelConfig): string {
  return `(N, ${config.frames}, 3, ${config.imageSize}, ${config.imageSize})`;
}

function fromSafetensors(file: string, config: ModelConfig, opts: ClipSourceOptions): LoadedClips {
  const key = opts.key ?? DEFAULT_CLIP_KEY;
  const { tensors } = readSafetensors(file);
  const t = tensors.get(key);
  const where = `${file}[${key}]`;
  if (!t) {
    const keys = [...tensors.keys()];
    const shown = keys
      .slice(0, 20)
      .map((k) => `${k} [${tensors.get(k)!.shape}]`)
      .join(', ');
    throw new ClipInputError(
      `${file}: no tensor ${key}; available: ${shown || '(none)'}${keys.length > 20 ? `, ... (${keys.length} in all)` : ''}`,
    );
  }
  if (t.dtype !== 'F32' && t.dtype !== 'F64')
    throw new ClipInputError(`${where}: dtype ${t.dtype}, expected float (F32) clips in [0, 1]`);
  const [n, frames, ch, h, w] = t.shape;
  if (
    t.shape.length !== 5 ||
    frames !== config.frames ||
    ch !== 3 ||
    h !== config.imageSize ||
    w !== config.imageSize ||
    n < 1
  ) {
    throw new ClipInputError(
      `${where}: shape [${t.shape}], expected ${clipShapeText(config)} for this checkpoint (N clips, T frames, RGB, H, W)`,
    );
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of t.data) {
    if (!Number.isFinite(v)) throw new ClipInputError(`${where}: contains ${v}; expected pixels / 255 in [0, 1]`);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const eps = 1e-3;
  if (!(lo >= -eps && hi <= 1 + eps)) {
    throw new ClipInputError(`${where}: values span [${lo}, ${hi}], expected pixels / 255 in [0, 1]`);
  }
  // F32 and F64 tensors are decoded to a Float32Array (safetensors.ts)
  return {
    clips: tf.tensor5d(t.data as Float32Array, t.shape as [number, number, number, number, number]),
    source: where,
  };
}

const LOADERS: Record<string, ClipLoader> = {
  '.safetensors': fromSafetensors,
};

/** Clips from a file, validated against `config`; the loader is picked by the file's extension. */
export function loadClips(file: string, config: ModelConfig, opts: ClipSourceOptions = {}): LoadedClips {
  const ext = extname(file).toLowerCase();
  const loader = LOADERS[ext];
  if (!loader) {
    throw new ClipInputError(
      `${file}: unsupported input type "${ext || '(no extension)'}"; supported: ${Object.keys(LOADERS).join(', ')} (a float tensor ${clipShapeText(config)} in [0, 1])`,
    );
  }
  return loader(file, config, opts);
}
