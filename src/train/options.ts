// `dfer train` options: the defaults of the official code (MODEL.md), a --config JSON file, then flags, in that order
// of precedence (flags win). Validation names the option at fault.
import { readFileSync } from 'node:fs';
import type { BackendChoice } from '../backend.js';
import { ATTENTION_TYPES, createConfig, PRESETS, type AttentionType } from '../config.js';
import type { SamplingRule } from '../data/sampling.js';
import { SCHEDULES, type ScheduleName } from './optim.js';
import { RunDir, type RunConfig } from '../run-dir.js';
import type { TrainOptions } from './trainer.js';

/** Every option as a user writes it (flags or --config); undefined = not given. */
export interface TrainSettings {
  data?: string;
  fold?: string | number;
  preset?: string;
  epochs?: number;
  batch?: number;
  lr?: number;
  momentum?: number;
  weightDecay?: number;
  schedule?: ScheduleName;
  stepSize?: number;
  gamma?: number;
  lambda?: number;
  r?: number;
  attention?: AttentionType;
  gca?: boolean;
  aux?: boolean;
  ial?: boolean;
  u?: number;
  v?: number;
  rule?: SamplingRule;
  augment?: boolean;
  seed?: number;
  backend?: BackendChoice;
  out?: string;
  valFraction?: number;
  selectOn?: 'val' | 'test';
  selectMetric?: 'uar' | 'war';
  saveEvery?: number;
  evalBatch?: number;
  workers?: number;
}

/** The official code's choices (main.py, MODEL.md); the paper's where the code is silent. */
export const TRAIN_DEFAULTS = {
  fold: '1',
  preset: 'paper',
  epochs: 80, // paper: 80 on DFEW
  batch: 40, // paper
  lr: 0.001,
  momentum: 0.9,
  weightDecay: 0.1,
  schedule: 'step' as ScheduleName, // code: StepLR(7, 0.5); paper: exponential
  stepSize: 7,
  gamma: undefined as number | undefined, // 0.5 for step, 0.9 for exp
  lambda: 0.1,
  ial: true,
  aux: true,
  u: 16,
  v: 1,
  rule: 'official' as SamplingRule,
  augment: true,
  seed: 1,
  backend: 'auto' as BackendChoice,
  valFraction: 0.1,
  selectOn: 'val' as const,
  selectMetric: 'war' as const, // the official code keeps the best accuracy
  saveEvery: 0,
};

export class OptionError extends Error {}

/** Train options whose command-line values are numbers written as text (so 1e-3 and 0.001 both work). */
const NUMERIC_TEXT = new Set(['lr', 'momentum', 'weightDecay', 'gamma', 'lambda', 'valFraction']);
/** Flags of the commands that are not train settings. */
const NOT_SETTINGS = new Set(['config', 'resume', 'json']);

/**
 * Parsed command-line flags (kebab-case, numbers as text) -> TrainSettings (camelCase, numbers). Flags left
 * undefined were not given, so --config and the defaults fill them. Shared by dfer train and dfer ablate.
 */
export function trainSettingsFromFlags(flags: Record<string, unknown>): TrainSettings {
  const out: Record<string, unknown> = {};
  for (const [flag, value] of Object.entries(flags)) {
    if (value === undefined || NOT_SETTINGS.has(flag)) continue;
    const key = flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (NUMERIC_TEXT.has(key)) {
      const n = Number(value);
      if (typeof value !== 'number' && (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n))) {
        throw new OptionError(`--${flag} ${String(value)}: not a number`);
      }
      out[key] = n;
    } else out[key] = key === 'fold' ? String(value) : value;
  }
  return out as TrainSettings;
}

export function readConfigFile(file: string): TrainSettings {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new OptionError(`--config ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not valid JSON (${(err as Error).message})`}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new OptionError(`--config ${file}: expected a JSON object of train options`);
  const known = new Set(Object.keys({ ...TRAIN_DEFAULTS, data: 0, r: 0, attention: 0, gca: 0, out: 0, evalBatch: 0, workers: 0 }));
  const unknown = Object.keys(parsed).filter((k) => !known.has(k));
  if (unknown.length) throw new OptionError(`--config ${file}: unknown option(s) ${unknown.join(', ')} (names as the flags, camelCase: weightDecay, selectOn, ...)`);
  return parsed as TrainSettings;
}

/** Defaults < config file < flags; returns the resolved options of the trainer. */
export function resolveTrainOptions(file: TrainSettings, flags: TrainSettings): TrainOptions {
  const given = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  const s = { ...TRAIN_DEFAULTS, ...file, ...given } as TrainSettings & typeof TRAIN_DEFAULTS;
  if (!s.data) throw new OptionError('--data is required: a prepared set (dfer prepare)');
  if (!PRESETS[s.preset]) throw new OptionError(`--preset ${s.preset}: choose one of ${Object.keys(PRESETS).join(', ')}`);
  if (!SCHEDULES.includes(s.schedule)) throw new OptionError(`--schedule ${s.schedule}: choose one of ${SCHEDULES.join(', ')}`);
  let attention = s.attention ?? PRESETS[s.preset].attention;
  if (s.gca === false) {
    if (s.attention && s.attention !== 'none') throw new OptionError(`--no-gca contradicts --attention ${s.attention}`);
    attention = 'none';
  } else if (s.gca === true) {
    if (s.attention && s.attention !== 'gca') throw new OptionError(`--gca contradicts --attention ${s.attention}`);
    attention = 'gca';
  }
  if (!ATTENTION_TYPES.includes(attention)) throw new OptionError(`--attention ${attention}: choose one of ${ATTENTION_TYPES.join(', ')}`);
  const positive = (name: string, v: number, integer = true) => {
    if (!(v > 0) || (integer && !Number.isInteger(v))) throw new OptionError(`--${name} ${v}: must be a positive ${integer ? 'integer' : 'number'}`);
  };
  positive('epochs', s.epochs);
  positive('batch', s.batch);
  positive('lr', s.lr, false);
  positive('u', s.u);
  positive('v', s.v);
  if (s.lambda < 0) throw new OptionError(`--lambda ${s.lambda}: must be >= 0`);
  if (!(s.valFraction >= 0 && s.valFraction < 1)) throw new OptionError(`--val-fraction ${s.valFraction}: must be in [0, 1)`);
  const model = createConfig(s.preset, {
    frames: s.u * s.v, // T = U x V
    attention,
    aux: attention === 'none' ? false : s.aux,
    ...(s.r !== undefined ? { reduction: s.r } : {}),
  });
  const gamma = s.gamma ?? (s.schedule === 'exp' ? 0.9 : 0.5);
  return {
    data: s.data,
    fold: String(s.fold),
    model,
    epochs: s.epochs,
    batchSize: s.batch,
    optimizer: { lr: s.lr, momentum: s.momentum, weightDecay: s.weightDecay },
    schedule: { name: s.schedule, baseLr: s.lr, stepSize: s.stepSize, gamma, epochs: s.epochs, minLr: 0 },
    loss: { lambda: s.lambda, ial: s.ial },
    sampling: { u: s.u, v: s.v, rule: s.rule },
    augment: s.augment,
    seed: s.seed,
    backend: s.backend,
    out: s.out ?? `runs/${s.preset}-fold${s.fold}-${attention}${s.ial ? '-ial' : ''}-seed${s.seed}`,
    valFraction: s.valFraction,
    selectOn: s.selectOn,
    selectMetric: s.selectMetric,
    saveEvery: s.saveEvery,
    evalBatchSize: s.evalBatch ?? s.batch,
    ...(s.workers !== undefined ? { workers: s.workers } : {}),
  };
}

/** The options a run directory was started with (for --resume), with a few that may change on resume. */
export function resumeOptions(runDir: string, changes: Pick<TrainSettings, 'backend' | 'workers' | 'epochs'>): TrainOptions {
  let config: RunConfig;
  try {
    config = new RunDir(runDir).readConfig();
  } catch (err) {
    throw new OptionError(`--resume: ${(err as Error).message}`);
  }
  const o = { ...(config.train as unknown as TrainOptions), out: runDir, backend: changes.backend ?? 'auto', ...(config.protocol ? { protocol: config.protocol } : {}) } as TrainOptions;
  if (changes.epochs !== undefined) {
    o.epochs = changes.epochs;
    o.schedule = { ...o.schedule, epochs: changes.epochs };
  }
  if (changes.workers !== undefined) o.workers = changes.workers;
  return o;
}
