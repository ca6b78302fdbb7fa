// File-level conversion between the authors' PyTorch state_dict (a safetensors file, as safetensors.torch.save_file
// writes it) and dfer checkpoints. The layout work is in torch.ts; this adds the files, the backend and the checks.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, type BackendChoice } from '../backend.js';
import { createConfig } from '../config.js';
import { CheckpointError, checkpointPaths, loadCheckpoint, saveCheckpoint, type CheckpointMeta } from './checkpoint.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import { exportTorchStateDict, importTorchStateDict } from './torch.js';

export interface ImportTorchOptions {
  /** The official state_dict as safetensors. */
  input: string;
  preset: string;
  /** Checkpoint to write (with or without .safetensors/.json). */
  out: string;
  backend?: BackendChoice;
}

export interface ImportTorchResult {
  backend: string;
  input: string;
  preset: string;
  checkpoint: { weights: string; meta: string };
  /** Tensors loaded into the network. */
  loaded: number;
  /** Official tensors the forward pass never uses, accepted and dropped. */
  ignored: string[];
  meta: CheckpointMeta;
}

/** The same file named twice (an output that would overwrite the input) is refused before any work. */
function refuseOverwrite(output: string, input: string, what: string): void {
  if (resolve(output) === resolve(input))
    throw new CheckpointError(`${output}: ${what} would overwrite the input; choose another --out`);
}

export async function importTorchCheckpoint(o: ImportTorchOptions): Promise<ImportTorchResult> {
  const paths = checkpointPaths(o.out);
  refuseOverwrite(paths.weights, o.input, 'the checkpoint');
  const config = createConfig(o.preset);
  const backend = await useBackend(o.backend ?? 'auto');
  const { tensors } = readSafetensors(o.input);
  const { model, report } = importTorchStateDict(tensors, config, o.input);
  try {
    mkdirSync(dirname(paths.weights), { recursive: true });
    const meta = await saveCheckpoint(paths.base, model, { source: `torch:${resolve(o.input)}` });
    return {
      backend,
      input: o.input,
      preset: o.preset,
      checkpoint: { weights: paths.weights, meta: paths.meta },
      ...report,
      meta,
    };
  } finally {
    model.params.dispose();
  }
}

export interface ExportTorchOptions {
  checkpoint: string;
  /** The state_dict file to write (safetensors). */
  out: string;
  backend?: BackendChoice;
}

export interface ExportTorchResult {
  backend: string;
  checkpoint: string;
  out: string;
  tensors: number;
  /** Values written, all tensors together. */
  values: number;
}

export async function exportTorchCheckpoint(o: ExportTorchOptions): Promise<ExportTorchResult> {
  const paths = checkpointPaths(o.checkpoint);
  refuseOverwrite(o.out, paths.weights, 'the state_dict');
  refuseOverwrite(o.out, paths.meta, 'the state_dict');
  const backend = await useBackend(o.backend ?? 'auto');
  const { model, momentum } = loadCheckpoint(o.checkpoint);
  try {
    const state = await exportTorchStateDict(model);
    mkdirSync(dirname(resolve(o.out)), { recursive: true });
    writeSafetensors(o.out, state, { format: 'pt' });
    let values = 0;
    for (const t of state.values()) values += t.data.length;
    return { backend, checkpoint: paths.base, out: o.out, tensors: state.size, values };
  } finally {
    model.params.dispose();
    tf.dispose([...momentum.values()]);
  }
}
