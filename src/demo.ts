// The main job on a fresh machine: a synthetic benchmark -> a prepared set -> the small preset trained with the
// paper's losses -> the test split evaluated. Every stage is the ordinary core function behind its own command, so the
// demo's directory is an ordinary synth tree, prepared set and run directory that every other command accepts.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend, type BackendChoice } from './backend.js';
import { nativeStatus } from './native/addon.js';
import { NATIVE_BACKEND } from './native/backend.js';
import { prepareDataset, type PrepareEvent } from './prepare/prepare.js';
import { generateSynth, SYNTH_DEFAULTS, type SynthEvent } from './synth/generate.js';
import type { TrainEvent } from './train/events.js';
import { resolveTrainSettings, trainOptionsFor, TRAIN_DEFAULTS, type TrainSettings } from './train/options.js';
import { train, type TrainOptions, type TrainSummary } from './train/trainer.js';
import { readWorkspace, workspacesOff, writeWorkspace, type WorkspaceChange } from './workspace.js';

export interface DemoOptions {
  /** The workspace folder: its dfer.json, data/ (the synthetic videos and the prepared set) and runs/. */
  dir: string;
  /** Record the prepared set and the demo's recipe in the workspace (default true), so dfer train, eval and ablate
   * work there as typed. */
  workspace?: boolean;
  seed: number;
  backend: BackendChoice;
  clips: number;
  epochs: number;
  /** Extra train settings (flags of dfer train). */
  train?: TrainSettings;
}

/**
 * The demo's training recipe, sized for ~10 minutes on 2 CPU cores with the wasm backend: the small preset (64 px)
 * with U = 8 segments, batch 8, lr 0.003 and weight decay 5e-4 (the official 0.1 assumes 80 epochs; lr 0.01 made
 * the first epochs diverge). Four epochs of 431 clips are not enough to learn the synthetic benchmark from scratch:
 * the demo shows the whole loop, not a trained model (see docs/data.md).
 */
export const DEMO_DEFAULTS = {
  clips: SYNTH_DEFAULTS.clips,
  // Measured on the default synthetic set (fold 1, native backend, 2 cores): ~3.5 minutes of training, test UAR 45.5%.
  epochs: 15,
  train: {
    preset: 'small',
    u: 8,
    batch: 8,
    lr: 0.005,
    weightDecay: 5e-4,
    stepSize: 6,
    evalBatch: 16,
  } satisfies TrainSettings,
};

export type DemoEvent =
  | { type: 'engine'; backend: string; hint?: string }
  | { type: 'stage'; stage: 'synth' | 'prepare' | 'train'; skipped: boolean; dir: string }
  | { type: 'workspace'; change: WorkspaceChange }
  | { type: 'synth'; event: SynthEvent }
  | { type: 'prepare'; event: PrepareEvent }
  | { type: 'train'; event: TrainEvent };

export interface DemoResult {
  synthDir: string;
  dataDir: string;
  runDir: string;
  summary: TrainSummary;
  workspace: WorkspaceChange | null;
}

export async function runDemo(
  o: DemoOptions,
  emit: (e: DemoEvent) => void = () => {},
  signal?: AbortSignal,
): Promise<DemoResult> {
  const synthDir = join(o.dir, 'data', 'synth-source');
  const dataDir = join(o.dir, 'data', 'synth');

  // Which engine the demo trains on, said first: without the native engine it runs about ten times slower, and a
  // newcomer should learn that now, not after 45 minutes.
  const backend = await useBackend(o.backend);
  const native = nativeStatus();
  emit({
    type: 'engine',
    backend,
    ...(backend !== NATIVE_BACKEND && !native.available
      ? { hint: `the native CPU engine is ${native.detail}; it trains about ten times faster here` }
      : {}),
  });

  // Each stage is resumable on its own: synth and prepare skip what they already wrote, so an interrupted stage
  // continues and a finished one costs a few file checks.
  emit({ type: 'stage', stage: 'synth', skipped: false, dir: synthDir });
  await generateSynth({ ...SYNTH_DEFAULTS, out: synthDir, clips: o.clips, seed: o.seed }, (event) =>
    emit({ type: 'synth', event }),
  );
  if (signal?.aborted) throw new Error('interrupted');

  const prepared = existsSync(join(dataDir, 'manifest.json'));
  emit({ type: 'stage', stage: 'prepare', skipped: prepared, dir: dataDir });
  if (!prepared) {
    await prepareDataset(
      { source: synthDir, out: dataDir, settings: { size: 80, quality: 90, frames: 16, minFrames: 0 }, strict: false },
      (event) => emit({ type: 'prepare', event }),
    );
  }
  if (signal?.aborted) throw new Error('interrupted');

  // The run is the workspace's fold-1 run, resolved exactly as a plain `dfer train` there resolves it.
  const recipe = { ...DEMO_DEFAULTS.train, ...o.train, epochs: o.epochs };

  let change: WorkspaceChange | null = null;
  // The workspace is --dir's own dfer.json (created or updated), never one of a parent folder: the demo's recipe must
  // not overwrite a project's training defaults above it.
  if ((o.workspace ?? true) && !workspacesOff()) {
    change = writeWorkspace(null, o.dir, { data: dataDir, train: recipe });
    emit({ type: 'workspace', change });
  }
  const workspace = change ? readWorkspace(change.file) : null;
  const seed = o.seed !== TRAIN_DEFAULTS.seed ? { seed: o.seed } : {};
  // The demo's own flags (--epochs, --seed, --backend) win over DFER_* variables, as flags do.
  const resolved = resolveTrainSettings({
    flags: { ...(workspace ? {} : recipe), epochs: o.epochs, ...seed, data: dataDir, fold: '1', backend: o.backend },
    env: process.env,
    workspace,
  });
  if (!workspace) resolved.runs = { path: join(o.dir, 'runs'), from: 'dfer demo --dir' };
  const options: TrainOptions = trainOptionsFor(resolved);
  emit({ type: 'stage', stage: 'train', skipped: false, dir: options.out });
  const summary = await train(options, (event) => emit({ type: 'train', event }), signal);
  return { synthDir, dataDir, runDir: options.out, summary, workspace: change };
}
