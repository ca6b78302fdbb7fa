// The run directory: this module owns its on-disk format, as src/data/store.ts owns the prepared set's.
//   config.json           the resolved training options, backend, versions, data fingerprint (written once)
//   metrics.jsonl         one JSON line per training step and per epoch (appended; trimmed back on resume)
//   last.*, best.*        checkpoints (src/model/checkpoint.ts writes each pair; this module names them)
//   results.json          the test metrics of the selected checkpoint (present = the run finished)
//   summary.json          the final numbers and the per-epoch history
//   test-predictions.csv  id,label,predicted of every test clip
// Every whole-file write is atomic (temporary file + rename); metrics.jsonl is appended line by line, and a line cut
// short by a kill is dropped when read. Everything else in dfer reads runs through here, never by file name.
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic.js';
import type { ModelConfig } from '../config.js';
import type { SamplingSpec } from '../data/sampling.js';
import { checkpointPaths } from '../model/checkpoint.js';
import type { Metrics } from '../metrics/metrics.js';
import type { RunProtocol } from './events.js';
import { DferError } from '../errors.js';

export const RUN_FILES = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  results: 'results.json',
  summary: 'summary.json',
  predictions: 'test-predictions.csv',
} as const;

export class RunDirError extends DferError {}

/** The options a run was trained with, as config.json records them (TrainOptions with the data path resolved). */
export interface RunTrainOptions {
  data: string;
  fold: string;
  model: ModelConfig;
  epochs: number;
  sampling: SamplingSpec;
  selectOn: 'val' | 'test';
  selectMetric: 'uar' | 'war';
  seed: number;
  [key: string]: unknown;
}

export interface RunConfig {
  train: RunTrainOptions;
  /** The dataset protocol the run trained with (runs started before dfer 0.2 have none). */
  protocol?: RunProtocol;
  dfer: string;
  tfjs: string;
  node: string;
  backend: string;
  device?: unknown;
  /** Where it trained (host, CPU model, cores, platform); runs before dfer 0.2 have none. */
  machine?: { host: string; cpu: string; cores: number; platform: string };
  dataFingerprint: string;
  data: string;
  /** The data's path relative to the run directory (to find it after the workspace is moved). */
  dataFromRun?: string;
  createdAt: string;
}

export interface RunResults {
  split: 'test';
  fold: string;
  selectedOn: 'val' | 'test';
  bestEpoch: number;
  metrics: Metrics;
}

/** One line of metrics.jsonl: a training step or an epoch. */
export type MetricsLine = { type: 'step' | 'epoch'; epoch: number; globalStep: number; [key: string]: unknown };

export type RunState = 'new' | 'started' | 'finished';

const readJson = <T>(file: string, what: string): T => {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new RunDirError(e.code === 'ENOENT' ? `${file}: missing (${what})` : `${file}: cannot read (${e.message})`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new RunDirError(`${file}: not valid JSON (${(err as Error).message}); the run directory is damaged`);
  }
};

const json = (v: unknown) => JSON.stringify(v, null, 1) + '\n';

function parseMetricLines(text: string): MetricsLine[] {
  const out: MetricsLine[] = [];
  for (const l of text.split('\n')) {
    if (!l.trim()) continue;
    try {
      out.push(JSON.parse(l));
    } catch {
      /* a cut-short line */
    }
  }
  return out;
}

export class RunDir {
  constructor(readonly dir: string) {}

  path(file: keyof typeof RUN_FILES): string {
    return join(this.dir, RUN_FILES[file]);
  }

  /**
   * The prepared set the run trained on: at the same position relative to the run directory as when the run was
   * made (a workspace moved or copied as a whole takes its data along), else the absolute path config.json recorded.
   * (The trainer still checks the data's fingerprint before resuming.)
   */
  dataPath(config = this.readConfig()): string {
    const alongside = config.dataFromRun ? join(this.dir, config.dataFromRun) : undefined;
    return alongside && existsSync(join(alongside, 'manifest.json')) ? alongside : config.train.data;
  }

  /** The checkpoints' base paths (see checkpointPaths): `last` is the resume point, `best` the selected weights. */
  get last(): string {
    return join(this.dir, 'last');
  }
  get best(): string {
    return join(this.dir, 'best');
  }

  /** A directory with config.json is a dfer run (possibly not started training yet). */
  isRun(): boolean {
    return existsSync(this.path('config'));
  }

  hasCheckpoint(which: 'last' | 'best'): boolean {
    return existsSync(checkpointPaths(which === 'last' ? this.last : this.best).meta);
  }

  /** new: nothing trained yet; started: a checkpoint but no results (running or interrupted); finished: results.json. */
  state(): RunState {
    if (this.hasResults()) return 'finished';
    return this.hasCheckpoint('last') ? 'started' : 'new';
  }

  /** The checkpoint that stands for the run: the selected one (best), else the last; null before the first save. */
  selectedCheckpoint(): string | null {
    if (this.hasCheckpoint('best')) return this.best;
    if (this.hasCheckpoint('last')) return this.last;
    return null;
  }

  readConfig(): RunConfig {
    if (!existsSync(this.path('config'))) throw new RunDirError(`${this.dir}: not a run directory (no config.json)`);
    const c = readJson<RunConfig>(this.path('config'), 'the run configuration');
    if (!c || typeof c !== 'object' || !c.train || typeof c.train !== 'object')
      throw new RunDirError(`${this.path('config')}: not a dfer run configuration (no "train" options)`);
    return c;
  }

  writeConfig(config: RunConfig): void {
    writeFileAtomic(this.path('config'), JSON.stringify(config, null, 2) + '\n');
  }

  /** Appends one line (the caller holds the run's lock). */
  appendMetrics(line: MetricsLine): void {
    writeFileSync(this.path('metrics'), JSON.stringify(line) + '\n', { flag: 'a' });
  }

  /** Every complete line of metrics.jsonl, in order; a line cut short (a kill, a full disk) is left out. */
  readMetrics(): MetricsLine[] {
    if (!existsSync(this.path('metrics'))) return [];
    return parseMetricLines(readFileSync(this.path('metrics'), 'utf8'));
  }

  /**
   * The lines another process appended since byte `from` (a follower's tail read: the whole file is not read again
   * at each poll); `next` is where the next read starts. Only newline-terminated lines are taken, so a line being
   * written is read whole next time. A file now shorter than `from` (a resume trimmed it) is read from its start.
   */
  readMetricsSince(from: number): { lines: MetricsLine[]; next: number } {
    const file = this.path('metrics');
    if (!existsSync(file)) return { lines: [], next: 0 };
    const size = statSync(file).size;
    const start = size < from ? 0 : from;
    const buf = Buffer.alloc(size - start);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, buf, 0, buf.length, start);
    } finally {
      closeSync(fd);
    }
    const complete = buf.lastIndexOf(0x0a) + 1;
    return { lines: parseMetricLines(buf.subarray(0, complete).toString('utf8')), next: start + complete };
  }

  /** Keeps the lines up to `globalStep` (a resumed run redoes the steps after its checkpoint identically). */
  trimMetricsAfter(globalStep: number): void {
    if (!existsSync(this.path('metrics'))) return;
    const kept = this.readMetrics().filter((l) => (l.globalStep ?? 0) <= globalStep);
    writeFileAtomic(this.path('metrics'), kept.map((l) => JSON.stringify(l) + '\n').join(''));
  }

  resetMetrics(): void {
    writeFileSync(this.path('metrics'), '');
  }

  hasResults(): boolean {
    return existsSync(this.path('results'));
  }

  readResults(): RunResults {
    if (!this.hasResults())
      throw new RunDirError(
        `${this.dir}: no results.json (the run has not finished; run the same dfer train again, or dfer train --resume --out ${this.dir})`,
      );
    return readJson<RunResults>(this.path('results'), 'the test results');
  }

  /** Removes results.json: the run is about to train further, so it is no longer finished. */
  clearResults(): void {
    rmSync(this.path('results'), { force: true });
  }

  writeResults(r: RunResults): void {
    writeFileAtomic(this.path('results'), json(r));
  }

  readSummary(): Record<string, unknown> {
    return readJson(this.path('summary'), 'the run summary');
  }

  writeSummary(s: Record<string, unknown>): void {
    writeFileAtomic(this.path('summary'), json(s));
  }

  writePredictions(rows: Array<{ id: string; label: string; predicted: string }>): string {
    writeFileAtomic(
      this.path('predictions'),
      ['id,label,predicted', ...rows.map((r) => `${r.id},${r.label},${r.predicted}`)].join('\n') + '\n',
    );
    return this.path('predictions');
  }
}

/** The run directories directly inside `parent` (not nested grids), by name. */
export function listRunDirs(parent: string): RunDir[] {
  let names: string[];
  try {
    names = readdirSync(parent, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
  return names.map((n) => new RunDir(join(parent, n))).filter((r) => r.isRun());
}
