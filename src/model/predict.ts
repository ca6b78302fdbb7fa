// Predictions for the clips of a file with a saved checkpoint: backend, checkpoint, input, batched inference.
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, type BackendChoice } from '../backend.js';
import { loadClips } from './clips.js';
import { checkpointPaths, loadCheckpoint } from './checkpoint.js';
import { predictClips, type ClipPrediction } from './inference.js';

export interface PredictOptions {
  checkpoint: string;
  /** Clip file; its extension picks the loader (see clips.ts). */
  input: string;
  /** Tensor name inside a safetensors input. */
  key?: string;
  batchSize?: number;
  backend?: BackendChoice;
}

export interface PredictResult {
  backend: string;
  checkpoint: string;
  input: string;
  classes: string[];
  clips: ClipPrediction[];
}

/** `onBatch(done, total)` is called after each batch of clips. */
export async function predictFile(
  o: PredictOptions,
  onBatch?: (done: number, total: number) => void,
): Promise<PredictResult> {
  const { input, ...rest } = o;
  return (await predictFiles({ ...rest, inputs: [input] }, (_, done, total) => onBatch?.(done, total)))[0];
}

/** Several clip files with one loaded model, in order; `onBatch(input, done, total)` after each batch. */
export async function predictFiles(
  o: Omit<PredictOptions, 'input'> & { inputs: string[] },
  onBatch?: (input: string, done: number, total: number) => void,
): Promise<PredictResult[]> {
  const backend = await useBackend(o.backend ?? 'auto');
  const { model, momentum } = loadCheckpoint(o.checkpoint);
  tf.dispose([...momentum.values()]);
  try {
    const results: PredictResult[] = [];
    for (const input of o.inputs) {
      const { clips, source } = loadClips(input, model.config, { key: o.key });
      try {
        const predictions = await predictClips(model, clips, o.batchSize ?? 8, (done, total) =>
          onBatch?.(input, done, total),
        );
        results.push({
          backend,
          checkpoint: checkpointPaths(o.checkpoint).base,
          input: source,
          classes: model.config.classes,
          clips: predictions,
        });
      } finally {
        clips.dispose();
      }
    }
    return results;
  } finally {
    model.params.dispose();
  }
}
