// `dfer train` options and where each comes from. Precedence, lowest first: the official code's defaults (MODEL.md),
// the dataset's protocol (protocols.ts: FERV39k samples U=8 x V=2 for 100 epochs), the workspace (dfer.json),
// DFER_* environment variables, a --config JSON file, then flags. Validation names the option and its source.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BACKEND_CHOICES, type BackendChoice } from '../backend.js';
import { ATTENTION_TYPES, createConfig, PRESETS, type AttentionType } from '../config.js';
import { SAMPLING_RULES, type SamplingRule } from '../data/sampling.js';
import { SCHEDULES, type ScheduleName } from './optim.js';
import { PreparedSet, type DatasetKind } from '../data/store.js';
import { RunDir, type RunConfig } from './run-dir.js';
import { pathBelow, type Workspace } from '../workspace.js';
import { PROTOCOLS, type DatasetProtocol } from './protocols.js';
import type { TrainOptions } from './trainer.js';
import { DferError, EXIT } from '../errors.js';

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
  /** The prepared set's classes (from its manifest, never a flag): the classifier's width and names. */
  classes?: string[];
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

export class OptionError extends DferError {
  /** The setting at fault (camelCase), so that a caller can say where its value came from. */
  constructor(
    message: string,
    readonly setting?: string,
  ) {
    super(message);
  }
}

const BOOLEAN_SETTINGS = new Set(['gca', 'aux', 'ial', 'augment']);
const INTEGER_SETTINGS = new Set([
  'epochs',
  'batch',
  'stepSize',
  'r',
  'u',
  'v',
  'seed',
  'saveEvery',
  'evalBatch',
  'workers',
]);
const kebabOf = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Train options whose command-line values are numbers written as text (so 1e-3 and 0.001 both work). */
const NUMERIC_TEXT = new Set(['lr', 'momentum', 'weightDecay', 'gamma', 'lambda', 'valFraction']);
/** Flags of the commands that are not train settings. */
// Flags of dfer train that are not train settings: input and output, and the executor's (commands/_executor.ts).
const NOT_SETTINGS = new Set([
  'config',
  'resume',
  'json',
  'executor',
  'slurm-opt',
  'slurm-header',
  'wait',
  'collect',
  'retry',
]);

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

/** Every option name a --config file, dfer.json's "train" or a DFER_* variable may set. */
export const SETTING_NAMES = Object.keys({
  ...TRAIN_DEFAULTS,
  data: 0,
  r: 0,
  attention: 0,
  gca: 0,
  out: 0,
  evalBatch: 0,
  workers: 0,
}) as (keyof TrainSettings)[];

/** An object of train options (a --config file, dfer.json's "train"), refused with its unknown names. */
export function checkSettingsObject(parsed: unknown, where: string): TrainSettings {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new OptionError(`${where}: expected a JSON object of train options`);
  const known = new Set<string>(SETTING_NAMES);
  const unknown = Object.keys(parsed).filter((k) => !known.has(k));
  if (unknown.length)
    throw new OptionError(
      `${where}: unknown option(s) ${unknown.join(', ')} (names as the flags, camelCase: weightDecay, selectOn, ...)`,
    );
  return parsed as TrainSettings;
}

export function readConfigFile(file: string): TrainSettings {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new OptionError(
      `--config ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not valid JSON (${(err as Error).message})`}`,
    );
  }
  return checkSettingsObject(parsed, `--config ${file}`);
}

const defined = (o: TrainSettings) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as TrainSettings;

/** Defaults < config file < flags (no workspace, environment or dataset protocol); the trainer's options. */
export function resolveTrainOptions(file: TrainSettings, flags: TrainSettings): TrainOptions {
  return buildTrainOptions({ ...TRAIN_DEFAULTS, ...defined(file), ...defined(flags) } as ResolvedSettings);
}

type ResolvedSettings = TrainSettings & typeof TRAIN_DEFAULTS;

/**
 * The run directory a run gets when --out is not given: <runs>/<set>/<preset>-fold<k>, with a suffix for each
 * departure from the preset's network and loss and from seed 1 (-none, -se, -noaux, -noial, -seed2), so that the
 * same settings always find the same directory (dfer eval --fold 3 finds what dfer train --fold 3 wrote).
 */
export function defaultRunDir(
  runs: string,
  o: Pick<TrainOptions, 'data' | 'fold' | 'model' | 'loss' | 'seed'>,
  preset: string,
): string {
  const p = PRESETS[preset];
  const parts = [`${preset}-fold${o.fold}`];
  if (o.model.attention !== p.attention) parts.push(o.model.attention);
  if (o.model.attention !== 'none' && o.model.aux !== p.aux) parts.push(o.model.aux ? 'aux' : 'noaux');
  if (o.model.reduction !== p.reduction) parts.push(`r${o.model.reduction}`);
  if (!o.loss.ial) parts.push('noial');
  if (o.seed !== 1) parts.push(`seed${o.seed}`);
  return join(runs, basename(o.data.replace(/[\\/]+$/, '')), parts.join('-'));
}

/** Every setting resolved (defaults filled in) -> the trainer's options, validated. */
export function buildTrainOptions(s: ResolvedSettings, runs = 'runs'): TrainOptions {
  if (!s.data) throw new OptionError('--data is required: a prepared set (dfer prepare)');
  const oneOf = (key: string, flag: string, v: unknown, choices: readonly unknown[]) => {
    if (!choices.includes(v)) throw new OptionError(`--${flag} ${String(v)}: choose one of ${choices.join(', ')}`, key);
  };
  oneOf('preset', 'preset', s.preset, Object.keys(PRESETS));
  oneOf('schedule', 'schedule', s.schedule, SCHEDULES);
  oneOf('rule', 'rule', s.rule, SAMPLING_RULES);
  oneOf('selectOn', 'select-on', s.selectOn, ['val', 'test']);
  oneOf('selectMetric', 'select-metric', s.selectMetric, ['war', 'uar']);
  oneOf('backend', 'backend', s.backend, BACKEND_CHOICES);
  for (const key of BOOLEAN_SETTINGS) {
    const v = (s as unknown as Record<string, unknown>)[key];
    if (v !== undefined && typeof v !== 'boolean')
      throw new OptionError(`--${kebabOf(key)} ${JSON.stringify(v)}: must be true or false`, key);
  }
  for (const key of [...NUMERIC_TEXT, ...INTEGER_SETTINGS]) {
    const v = (s as unknown as Record<string, unknown>)[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v)))
      throw new OptionError(`--${kebabOf(key)} ${JSON.stringify(v)}: must be a number`, key);
  }
  let attention = s.attention ?? PRESETS[s.preset].attention;
  if (s.gca === false) {
    if (s.attention && s.attention !== 'none') throw new OptionError(`--no-gca contradicts --attention ${s.attention}`);
    attention = 'none';
  } else if (s.gca === true) {
    if (s.attention && s.attention !== 'gca') throw new OptionError(`--gca contradicts --attention ${s.attention}`);
    attention = 'gca';
  }
  if (!ATTENTION_TYPES.includes(attention))
    throw new OptionError(`--attention ${attention}: choose one of ${ATTENTION_TYPES.join(', ')}`);
  const positive = (name: string, v: number, integer = true) => {
    if (!(v > 0) || (integer && !Number.isInteger(v)))
      throw new OptionError(`--${name} ${v}: must be a positive ${integer ? 'integer' : 'number'}`, name);
  };
  positive('epochs', s.epochs);
  positive('batch', s.batch);
  positive('lr', s.lr, false);
  positive('u', s.u);
  positive('v', s.v);
  if (s.lambda < 0) throw new OptionError(`--lambda ${s.lambda}: must be >= 0`, 'lambda');
  if (!(s.valFraction >= 0 && s.valFraction < 1))
    throw new OptionError(`--val-fraction ${s.valFraction}: must be in [0, 1)`, 'valFraction');
  const model = createConfig(s.preset, {
    frames: s.u * s.v, // T = U x V
    attention,
    aux: attention === 'none' ? false : s.aux,
    ...(s.r !== undefined ? { reduction: s.r } : {}),
    ...(s.classes ? { numClasses: s.classes.length, classes: [...s.classes] } : {}),
  });
  const gamma = s.gamma ?? (s.schedule === 'exp' ? 0.9 : 0.5);
  const o: TrainOptions = {
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
    out: '',
    valFraction: s.valFraction,
    selectOn: s.selectOn,
    selectMetric: s.selectMetric,
    saveEvery: s.saveEvery,
    evalBatchSize: s.evalBatch ?? s.batch,
    ...(s.workers !== undefined ? { workers: s.workers } : {}),
  };
  o.out = s.out ?? defaultRunDir(runs, o, s.preset);
  return o;
}

/** The options a run directory was started with (for --resume), with a few that may change on resume. */
export function resumeOptions(
  runDir: string,
  changes: Pick<TrainSettings, 'backend' | 'workers' | 'epochs'>,
): TrainOptions {
  let config: RunConfig;
  const dir = new RunDir(runDir);
  try {
    config = dir.readConfig();
  } catch (err) {
    throw new OptionError(`--resume: ${(err as Error).message}`);
  }
  const o = {
    ...(config.train as unknown as TrainOptions),
    data: dir.dataPath(config),
    out: runDir,
    backend: changes.backend ?? 'auto',
    ...(config.protocol ? { protocol: config.protocol } : {}),
  } as TrainOptions;
  if (changes.epochs !== undefined) {
    o.epochs = changes.epochs;
    o.schedule = { ...o.schedule, epochs: changes.epochs };
  }
  if (changes.workers !== undefined) o.workers = changes.workers;
  return o;
}

// ---------------------------------------------------------------------------------------------------------------
// Where each setting comes from: defaults < dataset protocol < dfer.json < DFER_* < --config < flags

/** The options a DFER_* variable may set (DFER_EPOCHS, DFER_WEIGHT_DECAY, ...): every train option but --out. */
const envName = (key: string) => `DFER_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
const ENV_KEYS = SETTING_NAMES.filter((k) => k !== 'out');

/** DFER_* variables -> settings, each named with its variable for messages and provenance. */
export function envSettings(env: NodeJS.ProcessEnv): { settings: TrainSettings; names: Record<string, string> } {
  const settings: Record<string, unknown> = {};
  const names: Record<string, string> = {};
  for (const key of ENV_KEYS) {
    const name = envName(key);
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    let value: unknown = raw;
    if (BOOLEAN_SETTINGS.has(key)) {
      if (!/^(1|0|true|false|yes|no)$/i.test(raw)) throw new OptionError(`${name}=${raw}: expected true or false`);
      value = /^(1|true|yes)$/i.test(raw);
    } else if (NUMERIC_TEXT.has(key) || INTEGER_SETTINGS.has(key)) {
      const n = Number(raw);
      if (!Number.isFinite(n) || raw.trim() === '' || (INTEGER_SETTINGS.has(key) && !Number.isInteger(n)))
        throw new OptionError(`${name}=${raw}: not ${INTEGER_SETTINGS.has(key) ? 'an integer' : 'a number'}`);
      value = n;
    }
    settings[key] = value;
    names[key] = name;
  }
  return { settings: settings as TrainSettings, names };
}

/** A workspace path as it is shown and recorded: relative to the current directory when below it (runs/dfew). */
const belowHere = (path: string) => pathBelow(process.cwd(), path);

/** The runs folder: DFER_RUNS, else the workspace's, else ./runs. */
export function runsRoot(env: NodeJS.ProcessEnv, workspace: Workspace | null): { path: string; from: string } {
  if (env.DFER_RUNS) return { path: env.DFER_RUNS, from: 'env DFER_RUNS' };
  if (workspace) {
    return { path: belowHere(workspace.runs), from: workspace.file };
  }
  return { path: 'runs', from: 'default' };
}

/** No prepared set anywhere (no --data, DFER_DATA or workspace): a usage error with what to run. */
export class NoDataError extends OptionError {
  override readonly exitCode = EXIT.usage;
}

export interface SettingLayers {
  flags?: TrainSettings;
  config?: { file: string; settings: TrainSettings };
  env?: NodeJS.ProcessEnv;
  workspace?: Workspace | null;
  /** How the command is given its set, for the message when there is none (default "--data <prepared set>"). */
  dataFlag?: string;
}

export interface ResolvedTrainSettings {
  /** Every setting, defaults included, plus the set's classes. */
  settings: ResolvedSettings;
  /** Setting -> where its value came from: "default", "dfew protocol", a dfer.json path, "env DFER_EPOCHS", "--config x.json", "flag". */
  sources: Record<string, string>;
  dataset: DatasetKind;
  protocol: DatasetProtocol;
  workspace: Workspace | null;
  runs: { path: string; from: string };
  /** The set's folds, in order. */
  folds: string[];
}

/**
 * What a run started as its own `dfer train` process (dfer ablate, an executor) must be told to resolve exactly as
 * here: every setting not at its built-in default, except those each run has its own of (fold, seed, out, classes).
 * `implicit`: of those, the ones the dataset's protocol sets; the run resolves them from the same set by itself, so
 * they stay off its command line and it records them as the protocol's.
 */
export function launchSettings(resolved: ResolvedTrainSettings): { base: TrainSettings; implicit: string[] } {
  const base: TrainSettings = Object.fromEntries(
    Object.entries(resolved.settings).filter(
      ([k, v]) =>
        v !== undefined && resolved.sources[k] !== 'default' && !['fold', 'seed', 'out', 'classes'].includes(k),
    ),
  );
  const implicit = Object.keys(base).filter((k) => resolved.sources[k] === `${resolved.dataset} protocol`);
  return { base, implicit };
}

/** Resolves every train setting through the layers, recording where each came from. */
export function resolveTrainSettings(layers: SettingLayers): ResolvedTrainSettings {
  const env = envSettings(layers.env ?? {});
  const ws = layers.workspace ?? null;
  const wsTrain = ws ? checkSettingsObject(ws.train, `${ws.file} "train"`) : {};
  if (ws && 'out' in wsTrain)
    throw new OptionError(
      `${ws.file}: "train" cannot set out (runs go to the workspace's runs folder; set "runs" instead)`,
    );
  if (ws && 'data' in wsTrain)
    throw new OptionError(
      `${ws.file}: "train" cannot set data; name the prepared set as "data" at the top level (dfer init --data <set>)`,
    );
  const file = layers.config?.settings ?? {};
  const flags = defined(layers.flags ?? {});
  const data = flags.data ?? file.data ?? env.settings.data ?? wsTrain.data ?? ws?.data;
  if (!data) {
    throw new NoDataError(
      ws
        ? `${ws.file} names no prepared set: run dfer init --data <prepared set> (or pass ${layers.dataFlag ?? '--data <prepared set>'})`
        : `no prepared set: pass ${layers.dataFlag ?? '--data <prepared set>'}, or make a workspace once with dfer init --data <prepared set> (dfer prepare and dfer demo make one too)`,
    );
  }
  const dataFrom = flags.data
    ? '--data'
    : file.data
      ? `--config ${layers.config!.file}`
      : env.settings.data
        ? 'env DFER_DATA'
        : ws!.file;
  let set: PreparedSet;
  try {
    set = PreparedSet.open(data);
  } catch (err) {
    // Say who named it: a stale DFER_DATA or dfer.json is otherwise a riddle.
    if (dataFrom !== '--data' && err instanceof Error) err.message += ` (named by ${dataFrom})`;
    throw err;
  }
  const dataset = set.dataset;
  const protocol = PROTOCOLS[dataset];
  const layersLowFirst: Array<[string, TrainSettings, Record<string, string>?]> = [
    ['default', TRAIN_DEFAULTS],
    [`${dataset} protocol`, protocol.settings],
    ...(ws
      ? [
          [ws.file, { ...(ws.data ? { data: belowHere(ws.data) } : {}), ...defined(wsTrain) }] as [
            string,
            TrainSettings,
          ],
        ]
      : []),
    ['env', env.settings, env.names],
    ...(layers.config ? [[`--config ${layers.config.file}`, defined(file)] as [string, TrainSettings]] : []),
    ['flag', flags],
  ];
  const settings: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  for (const [from, values, names] of layersLowFirst) {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) continue;
      settings[k] = v;
      sources[k] = names?.[k] ? `env ${names[k]}` : from;
    }
  }
  settings.classes = set.manifest.classes;
  // A --fold the set does not have is caught here, naming the folds it has.
  const folds = Object.keys(set.manifest.folds);
  return {
    settings: settings as unknown as ResolvedSettings,
    sources,
    dataset,
    protocol,
    workspace: ws,
    runs: runsRoot(layers.env ?? {}, ws),
    folds,
  };
}

/** The trainer's options for one fold of resolved settings, with the provenance recorded in config.json. */
export function trainOptionsFor(r: ResolvedTrainSettings, fold?: string): TrainOptions {
  const s = { ...r.settings, ...(fold !== undefined ? { fold } : {}) };
  if (!r.folds.includes(String(s.fold))) {
    throw new OptionError(
      `--fold ${s.fold}: ${s.data} has ${r.folds.length === 1 ? `only fold ${r.folds[0]}` : `folds ${r.folds.join(', ')}`}${r.dataset === 'ferv39k' ? " (FERV39k's one official train/test split)" : ''}`,
    );
  }
  let o: TrainOptions;
  try {
    o = buildTrainOptions(s, r.runs.path);
  } catch (err) {
    // A bad value that no flag gave: say where it came from (DFER_EPOCHS, dfer.json, --config).
    const from = err instanceof OptionError && err.setting ? r.sources[err.setting] : undefined;
    if (from && from !== 'flag')
      throw new OptionError(
        `${err instanceof Error ? err.message : String(err)} (set by ${from})`,
        (err as OptionError).setting,
      );
    throw err;
  }
  const fromProtocol = Object.keys(r.protocol.settings).filter((k) => r.sources[k] === `${r.dataset} protocol`);
  const overridden = Object.keys(r.protocol.settings)
    .filter((k) => r.sources[k] !== `${r.dataset} protocol`)
    .map((k) => ({ setting: k, value: (s as Record<string, unknown>)[k], from: r.sources[k] }));
  o.protocol = { dataset: r.dataset, name: r.protocol.name, basis: r.protocol.basis, fromProtocol, overridden };
  return o;
}
