// The Slurm executor: the unfinished runs of a grid (dfer ablate, dfer train --folds) handed to Slurm as one job
// array, one task per run, each task the same `dfer train` command the local executor runs, in the same run
// directory. Slurm schedules; dfer writes the array, submits it, follows it and reads the run directories, so the
// tables are made exactly as after a local grid (finishGrid in src/analysis/ablate.ts).
//
//   <slurm dir>/array-<stamp>.sbatch   the batch script: the #SBATCH header file's lines, the threads, one exec line;
//                                      nothing else in it comes from the user (the rest travels as arguments)
//   <slurm dir>/array-<stamp>.json     its tasks: index -> run id, run directory, `dfer train` arguments
//   <slurm dir>/jobs.json              the ledger: the job array and task each run directory was last submitted as
//   <slurm dir>/logs/<job>_<task>.out  each task's output: dfer train's plain lines and Slurm's own messages
//
// A run's state comes from its run directory first (results.json: done, whatever Slurm says), then from Slurm:
// squeue (which keeps ended tasks for MinJobAge), then sacct where accounting is on, then the task's log (Slurm
// writes "CANCELLED AT", "DUE TO TIME LIMIT" into it). A task that ended without results is failed; --retry submits
// it again, and `dfer train` resumes its run directory from the last checkpoint (a task stopped by scancel, a time
// limit or preemption gets SIGTERM first and saves one).
//
// Assumptions: the run directories are on a filesystem the nodes share, and node and dfer are installed at the same
// paths on the nodes as on the submitting machine (the task runs `<node> <dfer bin> slurm-task ...`).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../atomic.js';
import type { AblateEvent, GridPlan, GridRun, RunFailure } from '../analysis/ablate.js';
import { gridStates, readRunMetrics } from '../analysis/ablate.js';
import { RunDir } from '../train/run-dir.js';
import type { TrainEvent } from '../train/events.js';
import type { Metrics } from '../metrics/metrics.js';
import { resolveTrainOptions } from '../train/options.js';
import { VERSION } from '../version.js';
import { DferError } from '../errors.js';

export class SlurmError extends DferError {}

/** Runs one Slurm client command with an argument array (never a shell string). */
export type SlurmExec = (
  command: 'sbatch' | 'squeue' | 'sacct' | 'scancel',
  args: string[],
) => Promise<{ code: number; stdout: string; stderr: string }>;

export function slurmExec(env: NodeJS.ProcessEnv = process.env): SlurmExec {
  return (command, args) =>
    new Promise((done, fail) => {
      execFile(command, args, { env, encoding: 'utf8', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
        if (e && e.code === 'ENOENT') {
          fail(
            new SlurmError(
              `${command}: not found on PATH; --executor slurm runs on a machine with Slurm's client commands (a login node)`,
            ),
          );
          return;
        }
        done({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr });
      });
    });
}

// ---------------------------------------------------------------------------------------------------------------
// sbatch options

/** Options dfer sets itself on every array; a --slurm-opt or header line setting them would break the executor. */
const RESERVED = ['array', 'output', 'error', 'parsable', 'wrap', 'chdir', 'D'];

/**
 * `--slurm-opt` values as sbatch arguments: `partition=gpu` and `--partition=gpu` both give `--partition=gpu`;
 * `-p gpu` style values are split at the first space. Options dfer sets itself (--array, --output, ...) are refused.
 */
export function sbatchOptions(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of values) {
    const v = raw.trim();
    if (!v) continue;
    const withDashes = v.startsWith('-') ? v : `--${v}`;
    const name = withDashes.replace(/^-+/, '').split(/[=\s]/)[0];
    if (RESERVED.includes(name))
      throw new SlurmError(`--slurm-opt ${raw}: dfer sets --${name === 'D' ? 'chdir' : name} itself; leave it out`);
    if (!/^[A-Za-z][\w-]*$/.test(name))
      throw new SlurmError(
        `--slurm-opt ${raw}: not an sbatch option (e.g. partition=gpu, --time=04:00:00, --gres=gpu:1)`,
      );
    const space = withDashes.indexOf(' ');
    if (space > 0 && !withDashes.includes('='))
      out.push(withDashes.slice(0, space), withDashes.slice(space + 1).trim());
    else out.push(withDashes);
  }
  return out;
}

/** The #SBATCH lines of a header file (comments and blank lines skipped); any other line is refused, by number. */
export function readSbatchHeader(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SlurmError(`--slurm-header ${file}: cannot read (${(err as Error).message})`);
  }
  const lines: string[] = [];
  text.split('\n').forEach((line, i) => {
    const l = line.trim();
    if (!l || (l.startsWith('#') && !/^#\s*SBATCH\b/.test(l))) return;
    const m = /^#SBATCH\s+(\S.*)$/.exec(l);
    if (!m)
      throw new SlurmError(
        `--slurm-header ${file}:${i + 1}: only #SBATCH lines and comments belong in the header (found "${l.slice(0, 40)}")`,
      );
    const name = m[1].replace(/^-+/, '').split(/[=\s]/)[0];
    if (RESERVED.includes(name))
      throw new SlurmError(`--slurm-header ${file}:${i + 1}: dfer sets --${name} itself; leave it out`);
    lines.push(`#SBATCH ${m[1]}`);
  });
  return lines;
}

// ---------------------------------------------------------------------------------------------------------------
// The array: script, tasks, ledger

export interface SlurmTask {
  id: string;
  dir: string;
  /** `dfer train` arguments (the run's directory is among them). */
  args: string[];
}

export interface TaskFile {
  version: 1;
  dfer: string;
  tasks: SlurmTask[];
}

interface LedgerEntry {
  job: string;
  task: number;
  run: string;
  submitted: string;
  tasks: string;
}

interface Ledger {
  version: 1;
  /** By absolute run directory: its latest submission. */
  runs: Record<string, LedgerEntry>;
}

export function readTaskFile(file: string): TaskFile {
  let parsed: TaskFile;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new SlurmError(`${file}: not a task list written by dfer's Slurm executor (${(err as Error).message})`);
  }
  if (parsed?.version !== 1 || !Array.isArray(parsed.tasks))
    throw new SlurmError(`${file}: not a task list written by dfer's Slurm executor`);
  return parsed;
}

function readLedger(dir: string): Ledger {
  const file = join(dir, 'jobs.json');
  if (!existsSync(file)) return { version: 1, runs: {} };
  try {
    const l = JSON.parse(readFileSync(file, 'utf8')) as Ledger;
    if (l.version === 1 && l.runs && typeof l.runs === 'object') return l;
  } catch {
    // fall through
  }
  throw new SlurmError(
    `${file}: not dfer's ledger of Slurm submissions; move it away (dfer then resubmits what has no results)`,
  );
}

/**
 * The batch script. Threads follow the allocation: --cpus-per-task when given, else the CPUs of the task's node
 * allocation (SLURM_JOB_CPUS_PER_NODE, e.g. "4" or "4(x2)"), for the native engine's OpenMP and the loader's workers.
 */
export function arrayScript(header: readonly string[]): string {
  return [
    '#!/bin/bash',
    ...header,
    `# Written by dfer ${VERSION}: one task per training run. Arguments: node, dfer's bin/run.js, the task list.`,
    'threads="${SLURM_CPUS_PER_TASK:-${SLURM_JOB_CPUS_PER_NODE%%[(,]*}}"',
    'export OMP_NUM_THREADS="${threads:-1}"',
    'export DFER_WORKERS="${DFER_WORKERS:-${threads:-1}}"',
    'exec "$1" "$2" slurm-task "$3" "${SLURM_ARRAY_TASK_ID:?not a task of a job array}"',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Task states

/** A task as Slurm (or its log) last showed it. */
export interface TaskState {
  /** Slurm's state name (PENDING, RUNNING, COMPLETED, CANCELLED, TIMEOUT, ...); GONE when Slurm no longer knows it. */
  state: string;
  reason?: string;
}

const PENDING = new Set([
  'PENDING',
  'REQUEUED',
  'REQUEUE_HOLD',
  'REQUEUE_FED',
  'CONFIGURING',
  'RESV_DEL_HOLD',
  'SUSPENDED',
  'STOPPED',
  'RESIZING',
  'SIGNALING',
  'STAGE_OUT',
]);
const RUNNING = new Set(['RUNNING', 'COMPLETING']);

export const inFlightState = (s: string) => PENDING.has(s) || RUNNING.has(s);

/** `squeue -h -r -o %i|%T|%r` lines -> task states by "job_task" ("12_3"). */
export function parseSqueue(stdout: string): Map<string, TaskState> {
  const out = new Map<string, TaskState>();
  for (const line of stdout.split('\n')) {
    const [id, state, reason] = line.trim().split('|');
    if (!id || !state) continue;
    out.set(id, { state: state.toUpperCase(), ...(reason && reason !== 'None' ? { reason } : {}) });
  }
  return out;
}

/** `sacct -n -P -X -o JobID,State` lines -> states by "job_task"; "CANCELLED by 0" keeps its first word. */
export function parseSacct(stdout: string): Map<string, TaskState> {
  const out = new Map<string, TaskState>();
  for (const line of stdout.split('\n')) {
    const [id, state] = line.trim().split('|');
    if (!id || !state || !/^\d+_\d+$/.test(id)) continue;
    out.set(id, { state: state.split(/\s/)[0].toUpperCase() });
  }
  return out;
}

/** Why a task ended, from its log: Slurm's own line (cancelled, time limit, preemption) or dfer's error line. */
export function reasonFromLog(text: string): string | undefined {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .reverse();
  const slurm = lines.find((l) => /\*\*\* (JOB|STEP) \S+ ON \S+ CANCELLED AT/.test(l));
  if (slurm) {
    const due = /DUE TO ([A-Z ]+?)\s*\*\*\*/.exec(slurm);
    return due ? `killed by Slurm: ${due[1].toLowerCase()}` : 'cancelled in Slurm';
  }
  const error = lines.find((l) => /(^|\s)error:/i.test(l));
  return error?.replace(/^.*?dfer [\w-]+: error: /, '');
}

// ---------------------------------------------------------------------------------------------------------------
// The executor

export interface SlurmOptions {
  /** Folder of the scripts, task lists, ledger and task logs. */
  dir: string;
  /** What a task runs: `<node> <bin> slurm-task <tasks> <index>`. */
  node: string;
  bin: string;
  /** sbatch arguments (see sbatchOptions) and #SBATCH header lines (see readSbatchHeader). */
  sbatch: string[];
  header: string[];
  jobName: string;
  /** Follow the array until every task has ended (default); false: submit and return. */
  wait: boolean;
  /** Submit again the runs whose task ended without results (failed, cancelled, timed out). */
  retry: boolean;
  /** Submit nothing: report and aggregate what has finished. */
  collect: boolean;
  pollMs?: number;
  exec?: SlurmExec;
  signal?: AbortSignal;
  emit?: (e: AblateEvent) => void;
}

export interface SlurmOutcome {
  metrics: Map<string, Metrics>;
  failures: RunFailure[];
  /** Runs still pending or running in Slurm when this returned (not waited for, or following was stopped). */
  inFlight: string[];
  /** Runs never submitted (with collect). */
  notSubmitted: string[];
  /** The array submitted by this call, if any. */
  submitted?: { job: string; runs: string[]; script: string };
  /** Following was stopped (Ctrl-C); the tasks go on in Slurm. */
  interrupted: boolean;
}

const taskKey = (e: Pick<LedgerEntry, 'job' | 'task'>) => `${e.job}_${e.task}`;

/** Runs the grid's unfinished runs on Slurm; see the file's header. */
export async function runOnSlurm(plan: GridPlan, o: SlurmOptions): Promise<SlurmOutcome> {
  const emit = o.emit ?? (() => {});
  const exec = o.exec ?? slurmExec();
  const dir = resolve(o.dir);
  const { metrics, todo } = gridStates(plan);
  emit({
    type: 'grid-start',
    plan,
    jobs: 0,
    executor: 'slurm',
    finished: [...metrics].map(([id, m]) => ({ id, uar: m.uar, war: m.war })),
  });

  const ledger = readLedger(dir);
  const entryOf = (run: GridRun): LedgerEntry | undefined => ledger.runs[resolve(run.dir)];
  const states = await queryStates(
    exec,
    dir,
    todo.map(entryOf).filter((e): e is LedgerEntry => Boolean(e)),
  );

  const failures: RunFailure[] = [];
  const follow: GridRun[] = [];
  const submit: GridRun[] = [];
  const notSubmitted: string[] = [];
  for (const run of todo) {
    const entry = entryOf(run);
    const st = entry && states.get(taskKey(entry));
    if (st && inFlightState(st.state)) follow.push(run);
    else if (entry && st && (!o.retry || o.collect)) recordFailure(run, endedWithout(st, entry), 0, failures, emit);
    else if (o.collect) notSubmitted.push(run.id);
    else submit.push(run);
  }

  let submitted: SlurmOutcome['submitted'];
  if (submit.length) {
    submitted = await submitArray(exec, dir, submit, o, ledger);
    emit({ type: 'submitted', ...submitted });
    follow.push(...submit);
  }
  for (const run of follow) {
    const st = states.get(taskKey(entryOf(run)!));
    if (st && RUNNING.has(st.state)) emit({ type: 'run-start', id: run.id });
    else emit({ type: 'run-pending', id: run.id, job: taskKey(entryOf(run)!) });
  }

  const outcome = { metrics, failures, notSubmitted, submitted, interrupted: false };
  if (!o.wait || o.collect) return { ...outcome, inFlight: follow.map((r) => r.id) };
  const left = await followTasks(exec, dir, follow, entryOf, o, metrics, failures);
  return { ...outcome, inFlight: left.map((r) => r.id), interrupted: left.length > 0 };
}

/** A task that ended without results: a failure of the grid, and an event saying how to run it again. */
function recordFailure(
  run: GridRun,
  error: string,
  seconds: number,
  failures: RunFailure[],
  emit: (e: AblateEvent) => void,
): void {
  failures.push({ id: run.id, code: 1, error });
  emit({
    type: 'run-end',
    id: run.id,
    status: 'failed',
    code: 1,
    error: `${error} (--retry submits it again)`,
    seconds,
  });
}

function endedWithout(st: TaskState, entry: LedgerEntry): string {
  const how =
    st.state === 'GONE' ? 'ended' : st.state === 'COMPLETED' ? 'completed' : st.state.toLowerCase().replace(/_/g, ' ');
  return `Slurm task ${taskKey(entry)} ${how} without results${st.reason ? `: ${st.reason}` : ''}`;
}

/** States of the ledger's tasks: squeue (ended tasks too, for MinJobAge), then sacct, then the task logs. */
async function queryStates(exec: SlurmExec, dir: string, entries: LedgerEntry[]): Promise<Map<string, TaskState>> {
  const states = new Map<string, TaskState>();
  const jobs = [...new Set(entries.map((e) => e.job))];
  for (const job of jobs) {
    // One job at a time: squeue refuses the whole list when one id has left the controller's memory.
    const q = await exec('squeue', ['-h', '-r', '--states=all', '-j', job, '-o', '%i|%T|%r']);
    if (q.code === 0) for (const [k, v] of parseSqueue(q.stdout)) states.set(k, v);
  }
  const unknown = entries.filter((e) => !states.has(taskKey(e)));
  if (unknown.length) {
    const a = await exec('sacct', [
      '-n',
      '-P',
      '-X',
      '-j',
      [...new Set(unknown.map((e) => e.job))].join(','),
      '-o',
      'JobID,State',
    ]).catch(() => undefined);
    if (a?.code === 0) for (const [k, v] of parseSacct(a.stdout)) states.set(k, v);
  }
  for (const e of entries) {
    const st = states.get(taskKey(e));
    if (st && inFlightState(st.state)) continue;
    const reason = logReason(dir, e);
    states.set(taskKey(e), {
      state: st?.state ?? 'GONE',
      ...(reason ? { reason } : st?.reason ? { reason: st.reason } : {}),
    });
  }
  return states;
}

const logFile = (dir: string, e: Pick<LedgerEntry, 'job' | 'task'>) => join(dir, 'logs', `${e.job}_${e.task}.out`);

function logReason(dir: string, e: LedgerEntry): string | undefined {
  try {
    return reasonFromLog(readFileSync(logFile(dir, e), 'utf8'));
  } catch {
    return undefined;
  }
}

async function submitArray(
  exec: SlurmExec,
  dir: string,
  runs: GridRun[],
  o: SlurmOptions,
  ledger: Ledger,
): Promise<NonNullable<SlurmOutcome['submitted']>> {
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const tasksFile = join(dir, `array-${stamp}.json`);
  const script = join(dir, `array-${stamp}.sbatch`);
  const tasks: SlurmTask[] = runs.map((r) => ({ id: r.id, dir: resolve(r.dir), args: r.args }));
  writeFileAtomic(tasksFile, JSON.stringify({ version: 1, dfer: VERSION, tasks } satisfies TaskFile, null, 2) + '\n');
  writeFileAtomic(script, arrayScript(o.header));
  for (const r of runs) mkdirSync(r.dir, { recursive: true });
  const args = [
    ...o.sbatch,
    '--parsable',
    `--job-name=${o.jobName}`,
    `--array=0-${runs.length - 1}`,
    // The tasks resolve relative paths (the prepared set, the runs) as here.
    `--chdir=${process.cwd()}`,
    `--output=${join(dir, 'logs', '%A_%a.out')}`,
    script,
    o.node,
    o.bin,
    tasksFile,
  ];
  const r = await exec('sbatch', args);
  const job = /^(\d+)/.exec(r.stdout.trim())?.[1];
  if (r.code !== 0 || !job) {
    const why = r.stderr.trim().split('\n').filter(Boolean).at(-1) ?? `exit ${r.code}`;
    throw new SlurmError(
      `sbatch refused the array (${why.replace(/^sbatch: error: /, '')}); check --slurm-opt / --slurm-header (${script})`,
    );
  }
  const submittedAt = new Date().toISOString();
  runs.forEach(
    (run, task) =>
      (ledger.runs[resolve(run.dir)] = { job, task, run: run.id, submitted: submittedAt, tasks: tasksFile }),
  );
  writeFileAtomic(join(dir, 'jobs.json'), JSON.stringify(ledger, null, 2) + '\n');
  return { job, runs: runs.map((x) => x.id), script };
}

/** Follows the tasks until each has ended (or the signal stops following); returns those still in flight. */
async function followTasks(
  exec: SlurmExec,
  dir: string,
  runs: GridRun[],
  entryOf: (run: GridRun) => LedgerEntry | undefined,
  o: SlurmOptions,
  metrics: Map<string, Metrics>,
  failures: RunFailure[],
): Promise<GridRun[]> {
  const emit = o.emit ?? (() => {});
  const pollMs = o.pollMs ?? 5000;
  const seen = new Map<string, TaskView>();
  const totalEpochs = new Map(runs.map((r) => [r.id, resolveTrainOptions({}, r.settings).schedule.epochs]));
  let left = [...runs];
  while (left.length) {
    if (o.signal?.aborted) return left;
    const states = await queryStates(
      exec,
      dir,
      left.map((r) => entryOf(r)!),
    );
    const still: GridRun[] = [];
    for (const run of left) {
      const entry = entryOf(run)!;
      const st = states.get(taskKey(entry))!;
      let view = seen.get(run.id);
      if (st && RUNNING.has(st.state) && view?.status !== 'running') {
        view = { status: 'running', epochs: 0, metricsOffset: 0, startedAt: Date.now() };
        seen.set(run.id, view);
        emit({ type: 'run-start', id: run.id });
      } else if (!view)
        seen.set(run.id, (view = { status: 'pending', epochs: 0, metricsOffset: 0, startedAt: Date.now() }));
      if (view.status === 'running') emitEpochs(run, view, totalEpochs.get(run.id)!, emit);
      if (st && inFlightState(st.state)) {
        still.push(run);
        continue;
      }
      const seconds = (Date.now() - view.startedAt) / 1000;
      if (new RunDir(run.dir).hasResults()) {
        const m = readRunMetrics(run.dir);
        metrics.set(run.id, m);
        emit({ type: 'run-end', id: run.id, status: 'done', code: 0, test: { uar: m.uar, war: m.war }, seconds });
      } else recordFailure(run, endedWithout(st, entry), seconds, failures, emit);
    }
    left = still;
    if (left.length) await sleep(pollMs, o.signal);
  }
  return [];
}

/** A followed task as the follower last saw it. */
interface TaskView {
  status: 'pending' | 'running';
  /** The last epoch reported, and where in its metrics.jsonl the next read starts. */
  epochs: number;
  metricsOffset: number;
  startedAt: number;
}

/** The epochs a running task has logged since the last poll (its metrics.jsonl, read from where the last read
 * stopped), as the local runner's epoch events. */
function emitEpochs(run: GridRun, view: TaskView, epochs: number, emit: (e: AblateEvent) => void): void {
  const { lines, next } = new RunDir(run.dir).readMetricsSince(view.metricsOffset);
  view.metricsOffset = next;
  for (const l of lines) {
    if (l.type !== 'epoch' || l.epoch <= view.epochs) continue;
    const event = {
      type: 'epoch-end',
      epoch: l.epoch,
      epochs,
      trainLoss: l.trainLoss,
      val: l.val,
      best: Boolean(l.best),
      bestEpoch: l.epoch,
      seconds: 0,
    } as unknown as TrainEvent;
    emit({ type: 'run-event', id: run.id, event });
    view.epochs = l.epoch;
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((done) => {
    const wake = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', wake);
      done();
    };
    const t = setTimeout(wake, ms);
    signal?.addEventListener('abort', wake, { once: true });
  });
