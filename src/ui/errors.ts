// Which errors are the user's input (exit 3, one line, no stack) and which are dfer's bugs (exit 1).
import { DiskFullError } from '../atomic.js';
import { BackendError } from '../backend.js';
import { LockBusyError } from '../lock.js';
import { GpuBufferTooLargeError } from '../webgpu/device.js';
import { ConfigError } from '../config.js';
import { ClipInputError } from '../model/clips.js';
import { CheckpointError } from '../model/checkpoint.js';
import { SafetensorsError } from '../model/safetensors.js';
import { TorchImportError } from '../model/torch.js';
import { AnnotationError } from '../data/classes.js';
import { FrameSourceError } from '../data/images.js';
import { PrepareError } from '../prepare/prepare.js';
import { StoreError } from '../data/store.js';
import { FfmpegNotFoundError, VideoDecodeError } from '../video/decode.js';
import { EvalError } from '../train/eval-run.js';
import { NoDataError, OptionError } from '../train/options.js';
import { WorkspaceError } from '../workspace.js';
import { RunDirError } from '../train/run-dir.js';
import { TrainError } from '../train/trainer.js';
import { SynthError } from '../synth/generate.js';
import { SlurmError } from '../cluster/slurm.js';

export const EXIT = {
  ok: 0,
  /** An error dfer did not expect: a bug, or the system (disk full, permissions). */
  unexpected: 1,
  /** Bad flags or arguments (oclif's parser). */
  usage: 2,
  /** Bad input: a file, checkpoint, config or backend that cannot be used as asked. */
  badInput: 3,
  /** The job finished and its output is usable, but some inputs were skipped (see its report). */
  partial: 4,
  /** The run directory or prepared set is being written by another dfer process (src/lock.ts). */
  busy: 5,
  /** No space left on the device for a file dfer was writing (it names the file); nothing half-written remains. */
  diskFull: 6,
  /** Nothing to classify: no face in any of the videos given. */
  nothing: 7,
  /** Runs are still pending or running on the cluster (dfer ablate --collect): the table covers those that finished. */
  pending: 8,
} as const;

/** Errors the core throws for bad input; their message already names the file, tensor or field. */
const INPUT_ERRORS: (abstract new (...args: never[]) => Error)[] = [
  ConfigError,
  GpuBufferTooLargeError,
  BackendError,
  SafetensorsError,
  TorchImportError,
  CheckpointError,
  ClipInputError,
  AnnotationError,
  FrameSourceError,
  PrepareError,
  StoreError,
  VideoDecodeError,
  FfmpegNotFoundError,
  OptionError,
  WorkspaceError,
  RunDirError,
  TrainError,
  EvalError,
  SynthError,
  SlurmError,
];

/** System errors about a path the user gave (an --out under a file, a read-only directory): bad input too. */
const PATH_ERRNOS = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'EROFS', 'EEXIST']);

export interface DescribedError {
  code: number;
  message: string;
  /** The stack, for unexpected errors when debugging is on. */
  detail?: string;
}

/** DEBUG=dfer (or a list containing dfer, or *) shows stacks of unexpected errors. */
export function debugEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.DEBUG ?? '').split(/[\s,]+/).some((d) => d === '*' || d === 'dfer' || d === 'dfer*' || d === 'dfer:*');
}

export function describeError(err: unknown, env: NodeJS.ProcessEnv = process.env): DescribedError {
  const e = err instanceof Error ? err : new Error(String(err));
  if (e instanceof LockBusyError) return { code: EXIT.busy, message: e.message };
  // Nothing to work on was named anywhere: the command was typed without what it needs (as a missing flag is).
  if (e instanceof NoDataError) return { code: EXIT.usage, message: e.message };
  if (e instanceof DiskFullError) return { code: EXIT.diskFull, message: e.message };
  if (INPUT_ERRORS.some((cls) => e instanceof cls)) return { code: EXIT.badInput, message: e.message };
  if ((e as NodeJS.ErrnoException).code === 'ENOSPC') {
    return { code: EXIT.diskFull, message: `${e.message}: no space left on the device; free some space and run the same command again` };
  }
  const sys = e as NodeJS.ErrnoException;
  if (sys.path && sys.code && PATH_ERRNOS.has(sys.code)) return { code: EXIT.badInput, message: e.message };
  const message = e.message || e.name;
  if (debugEnabled(env)) return { code: EXIT.unexpected, message, detail: e.stack };
  return { code: EXIT.unexpected, message: `${message} (unexpected; DEBUG=dfer shows the stack)` };
}
