// dfer export --format onnx | tfjs: a checkpoint (or a run's selected one) -> the inference graph -> a model other
// runtimes load. Before anything is written, the exported model is run on a seeded random batch and compared with
// dfer's own forward pass, so a file that would disagree with dfer is never left behind.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { writeDirAtomic, writeFileAtomic } from '../atomic.js';
import { useBackend, type BackendChoice } from '../backend.js';
import type { ModelConfig } from '../config.js';
import { DferError } from '../errors.js';
import { Rng } from '../random.js';
import { VERSION } from '../version.js';
import { checkpointPaths, checkpointSampling, loadCheckpoint, type CheckpointMeta } from '../model/checkpoint.js';
import { clipShapeText } from '../model/clips.js';
import { forward, type Model } from '../model/network.js';
import { resolveCheckpoint } from '../train/eval-run.js';
import { relError } from '../webgpu/census.js';
import { GRAPH_INPUT, networkGraph, readWeights, type ClipBatch, type GraphOutputs } from './network-graph.js';
import { ONNX_OPSET, toOnnx } from './onnx.js';
import { runOnnx } from './onnx-runtime.js';
import { runTfjs, toTfjs } from './tfjs.js';
import { webPageFiles } from './web-page.js';

export class ExportError extends DferError {}

export type ExportFormat = 'onnx' | 'tfjs';

export interface ExportOptions {
  /** A checkpoint or a run directory (its selected checkpoint). */
  checkpoint: string;
  format: ExportFormat;
  /** onnx: the .onnx file; tfjs: the folder (model.json, shards, the example page and its runtime). */
  out: string;
  backend?: BackendChoice;
  /** Compare the exported model with dfer on a random batch before writing (default true). */
  verify?: boolean;
  /** Clips in the verification batch (default 2: a dynamic batch is exercised beyond 1). */
  verifyClips?: number;
}

/** How closely the exported model reproduced dfer, or why it was not checked. */
export type Verification =
  | { verified: true; runtime: string; clips: number; logitsMaxRelDiff: number; featuresMaxRelDiff: number }
  | { verified: false; reason: string };

export interface ExportResult {
  backend: string;
  format: ExportFormat;
  checkpoint: string;
  out: string;
  /** Every file written, relative to `out` for a folder. */
  files: string[];
  bytes: number;
  input: { name: string; shape: string };
  outputs: string[];
  classes: string[];
  nodes: number;
  parameters: number;
  opset?: number;
  verification: Verification;
}

const NOT_VERIFIED: Verification = { verified: false, reason: '--no-verify' };

/** Relative agreement the exported graph must reach: BN folding and another engine's summation order move float32
 * results by ~1e-6 of their magnitude; a wiring mistake moves them by orders more. */
const TOLERANCE = 1e-3;

/** What a consumer needs besides the graph: the classes, the clip layout and how clips were sampled in training. */
function exportMetadata(meta: CheckpointMeta, source: string): Record<string, string> {
  const c = meta.config;
  return {
    'dfer.version': VERSION,
    'dfer.checkpoint': source,
    'dfer.weights_sha256': meta.weightsSha256,
    'dfer.classes': JSON.stringify(c.classes),
    'dfer.input': `${GRAPH_INPUT}: float32 ${clipShapeText(c)} (N clips, T frames, RGB, H, W), pixels / 255 in [0, 1]`,
    'dfer.sampling': JSON.stringify(checkpointSampling(meta)),
    'dfer.config': JSON.stringify(c),
  };
}

/** A seeded batch of clips in [0, 1], (N, T, 3, H, W). */
function randomClips(config: ModelConfig, n: number): ClipBatch {
  const shape = [n, config.frames, 3, config.imageSize, config.imageSize];
  const rng = new Rng(20261206);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.next();
  return { data, shape };
}

async function dferOutputs(model: Model, clips: ClipBatch): Promise<GraphOutputs> {
  const out = tf.tidy(() => {
    const o = forward(model, tf.tensor5d(clips.data, clips.shape as [number, number, number, number, number]), {
      training: false,
    });
    return [o.logits, o.features];
  });
  try {
    const [logits, features] = (await Promise.all(out.map((t) => t.data()))) as Float32Array[];
    return { logits, features };
  } finally {
    tf.dispose(out);
  }
}

export function checkAgreement(runtime: string, clips: number, want: GraphOutputs, got: GraphOutputs): Verification {
  const logitsMaxRelDiff = relError(got.logits, want.logits);
  const featuresMaxRelDiff = relError(got.features, want.features);
  if (!(logitsMaxRelDiff <= TOLERANCE && featuresMaxRelDiff <= TOLERANCE))
    throw new ExportError(
      `the exported model disagrees with dfer on a random batch in ${runtime} (logits by ${logitsMaxRelDiff.toExponential(2)}, features by ${featuresMaxRelDiff.toExponential(2)}, relative to their largest magnitude); nothing was written. Please report this with the checkpoint's config.`,
    );
  return { verified: true, runtime, clips, logitsMaxRelDiff, featuresMaxRelDiff };
}

function refuseOverwrite(out: string, paths: { weights: string; meta: string }): void {
  for (const p of [paths.weights, paths.meta])
    if (resolve(out) === resolve(p))
      throw new ExportError(`${out}: would overwrite the checkpoint; choose another --out`);
}

export async function exportModel(o: ExportOptions): Promise<ExportResult> {
  const { checkpoint } = resolveCheckpoint(o.checkpoint);
  const paths = checkpointPaths(checkpoint);
  refuseOverwrite(o.out, paths);
  const backend = await useBackend(o.backend ?? 'auto');
  const { model, meta, momentum } = loadCheckpoint(checkpoint);
  tf.dispose([...momentum.values()]);
  try {
    const graph = networkGraph(model.config, await readWeights(model));
    const metadata = exportMetadata(meta, paths.base);
    const verifyClips = o.verifyClips ?? 2;
    const clips = randomClips(model.config, verifyClips);
    const want = o.verify === false ? null : await dferOutputs(model, clips);
    const common = {
      backend,
      format: o.format,
      checkpoint: paths.base,
      out: o.out,
      input: { name: GRAPH_INPUT, shape: clipShapeText(model.config) },
      outputs: graph.outputs.map((v) => v.name),
      classes: model.config.classes,
      nodes: graph.nodes.length,
      parameters: graph.constants.reduce((s, c) => s + c.data.length, 0),
    };
    if (o.format === 'onnx') {
      const bytes = toOnnx(graph, { producerVersion: VERSION, props: metadata });
      let verification: Verification = NOT_VERIFIED;
      if (want) {
        const got = await runOnnx(bytes, clips);
        verification =
          'reason' in got
            ? { verified: false, reason: got.reason }
            : checkAgreement(got.runtime, verifyClips, want, got);
      }
      mkdirSync(dirname(resolve(o.out)), { recursive: true });
      writeFileAtomic(o.out, bytes);
      return { ...common, files: [o.out], bytes: bytes.byteLength, opset: ONNX_OPSET, verification };
    }
    const web = toTfjs(graph, { producer: `dfer ${VERSION}`, metadata });
    const verification = want
      ? checkAgreement(`TensorFlow.js ${tf.version_core} (${backend})`, verifyClips, want, await runTfjs(web, clips))
      : NOT_VERIFIED;
    const files = [
      { name: 'model.json', data: JSON.stringify(web.modelJson) },
      ...web.shards.map((s) => ({ name: s.file, data: s.bytes })),
      ...webPageFiles(model.config),
    ];
    writeDirAtomic(o.out, files, 'model.json');
    const bytes = files.reduce(
      (s, f) => s + (typeof f.data === 'string' ? Buffer.byteLength(f.data) : f.data.byteLength),
      0,
    );
    return { ...common, files: files.map((f) => f.name), bytes, verification };
  } finally {
    model.params.dispose();
  }
}
