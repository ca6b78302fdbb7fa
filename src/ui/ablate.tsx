import { Box, Static, Text } from 'ink';
import {
  ablationJson,
  meanSdText,
  overText,
  tableCells,
  type AblateEvent,
  type AblationTable,
  type GridPlan,
  type RunStatus,
} from '../analysis/ablate.js';
import { meanSd } from '../metrics/aggregate.js';
import { duration, pct2 } from './metrics-text.js';
import type { OutputMode, View } from './output.js';
import { Bar } from './progress.js';
import { LiveView } from './live.js';

// ---------------------------------------------------------------------------------------------------------------
// State

export interface RunView {
  id: string;
  setting: string;
  fold: string;
  seed: number;
  status: RunStatus;
  /** This run was finished before this invocation (skipped). */
  before?: boolean;
  epoch?: number; // epochs completed
  epochs?: number;
  step?: number;
  stepsPerEpoch?: number;
  /** Its Slurm task ("12_3"), once submitted. */
  job?: string;
  resumedFrom?: { epoch: number; step: number };
  val?: { uar: number; war: number };
  test?: { uar: number; war: number };
  error?: string;
  code?: number;
  seconds?: number;
  startedAt?: number;
}

export interface LogEntry {
  key: number;
  text: string;
  status: RunStatus;
}

export interface AblateState {
  plan?: GridPlan;
  jobs: number;
  executor: 'local' | 'slurm';
  /** Slurm job arrays submitted by this invocation. */
  submitted: string[];
  runs: RunView[];
  log: LogEntry[];
  startedAt: number;
  end?: Extract<AblateEvent, { type: 'grid-end' }>;
}

export const initialAblateState = (now = Date.now()): AblateState => ({
  jobs: 1,
  executor: 'local',
  submitted: [],
  runs: [],
  log: [],
  startedAt: now,
});

export function runEndLine(r: RunView): string {
  const t = r.seconds !== undefined ? ` (${duration(r.seconds)})` : '';
  if (r.status === 'done') return `done ${r.id}: test UAR ${pct2(r.test!.uar)}% WAR ${pct2(r.test!.war)}%${t}`;
  if (r.status === 'interrupted') return `stopped ${r.id}: saved; the same command resumes it${t}`;
  return `failed ${r.id} (exit ${r.code}): ${r.error ?? 'unknown error'}${t}`;
}

/** The state after an event (pure; `now` for the start time of runs). */
export function reduceAblate(s: AblateState, e: AblateEvent, now = Date.now()): AblateState {
  const update = (id: string, f: (r: RunView) => RunView) => ({
    ...s,
    runs: s.runs.map((r) => (r.id === id ? f(r) : r)),
  });
  switch (e.type) {
    case 'grid-start': {
      const finished = new Map(e.finished.map((f) => [f.id, f]));
      return {
        ...s,
        plan: e.plan,
        jobs: e.jobs,
        executor: e.executor ?? 'local',
        startedAt: now,
        runs: e.plan.runs.map((r) => {
          const f = finished.get(r.id);
          return {
            id: r.id,
            setting: r.setting,
            fold: r.fold,
            seed: r.seed,
            status: f ? 'done' : 'queued',
            ...(f ? { before: true, test: { uar: f.uar, war: f.war } } : {}),
          };
        }),
      };
    }
    case 'run-start':
      return update(e.id, (r) => ({ ...r, status: 'running', startedAt: now, epoch: 0, error: undefined }));
    case 'run-pending':
      return update(e.id, (r) => ({ ...r, status: 'pending', job: e.job, error: undefined }));
    case 'submitted':
      return { ...s, submitted: [...s.submitted, e.job] };
    case 'run-event': {
      const t = e.event;
      switch (t.type) {
        case 'run-start':
          return update(e.id, (r) => ({
            ...r,
            epochs: t.epochs,
            stepsPerEpoch: t.stepsPerEpoch,
            epoch: t.resumedFrom?.epoch ?? 0,
            step: t.resumedFrom?.step ?? 0,
            ...(t.resumedFrom ? { resumedFrom: t.resumedFrom } : {}),
          }));
        case 'step':
          return update(e.id, (r) => ({ ...r, epoch: t.epoch - 1, step: t.step, stepsPerEpoch: t.stepsPerEpoch }));
        case 'epoch-end':
          return update(e.id, (r) => ({
            ...r,
            epoch: t.epoch,
            epochs: t.epochs,
            step: 0,
            ...(t.val ? { val: { uar: t.val.uar, war: t.val.war } } : {}),
          }));
        default:
          return s;
      }
    }
    case 'run-end': {
      const next = update(e.id, (r) => ({
        ...r,
        status: e.status,
        code: e.code,
        seconds: e.seconds,
        ...(e.test ? { test: e.test } : {}),
        ...(e.error ? { error: e.error } : {}),
      }));
      const run = next.runs.find((r) => r.id === e.id)!;
      return { ...next, log: [...next.log, { key: next.log.length, text: runEndLine(run), status: e.status }] };
    }
    case 'grid-end':
      return { ...s, end: e };
  }
}

export function counts(s: AblateState): Record<RunStatus, number> & { before: number } {
  const c = { queued: 0, pending: 0, running: 0, done: 0, failed: 0, interrupted: 0, before: 0 };
  for (const r of s.runs) {
    c[r.status]++;
    if (r.before) c.before++;
  }
  return c;
}

export function gridLine(plan: GridPlan, jobs: number, before: number, executor: 'local' | 'slurm' = 'local'): string {
  const per = `${plan.folds.length} fold${plan.folds.length > 1 ? 's' : ''} x ${plan.seeds.length} seed${plan.seeds.length > 1 ? 's' : ''}`;
  return `grid ${plan.out}: ${plan.settings.length} setting${plan.settings.length > 1 ? 's' : ''} x ${per} = ${plan.runs.length} runs; ${before} finished before, ${plan.runs.length - before} to run, ${executor === 'slurm' ? 'on Slurm' : `${jobs} at a time`}`;
}

// ---------------------------------------------------------------------------------------------------------------
// The results table as text

/** Text columns: settings left-aligned, numbers right-aligned. */
export function alignTable(header: string[], rows: string[][], leftColumns: number): string[] {
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => [...(r[i] ?? '')].length)));
  const pad = (c: string, i: number) => {
    const fill = ' '.repeat(Math.max(0, widths[i] - [...c].length));
    return i < leftColumns ? c + fill : fill + c;
  };
  return [header, ...rows].map((r) => r.map(pad).join('  ').trimEnd());
}

export function tableText(t: AblationTable): string[] {
  const { header, rows } = tableCells(t);
  return [
    `test-split UAR and WAR (%), ${overText(t)}`,
    ...alignTable(header, rows, t.columns.length || 1),
    ...(t.options.length ? [`every run: dfer train ${t.options.join(' ')}`] : []),
  ];
}

/** The result of `dfer ablate`: the table, the files, and what did not finish (or is still running in Slurm). */
export function ablateView(
  end: Extract<AblateEvent, { type: 'grid-end' }>,
  out: string,
  slurm?: { submitted?: { job: string; runs: string[]; script: string } },
): View {
  const text = ['', ...tableText(end.table), ''];
  const missing = end.table.rows.filter((r) => r.runs < r.expected);
  if (end.failed.length)
    text.push(
      `failed: ${end.failed.join(', ')} (see the lines above; their run directories hold what they wrote${slurm ? ', the task logs are in slurm/logs; --retry submits them again' : ''})`,
    );
  if (slurm?.submitted)
    text.push(
      `submitted Slurm job array ${slurm.submitted.job}: ${slurm.submitted.runs.length} task${slurm.submitted.runs.length > 1 ? 's' : ''} (${slurm.submitted.script})`,
    );
  if (end.inFlight.length)
    text.push(
      `not finished: ${end.inFlight.length} run${end.inFlight.length > 1 ? 's' : ''} still in Slurm or not submitted; the same command (or --collect) aggregates them once finished (scancel stops them)`,
    );
  else if (end.interrupted)
    text.push('stopped: run the same command again to continue (finished runs are skipped, stopped ones resume)');
  else if (missing.length && !end.failed.length) text.push(`incomplete: ${missing.map((r) => r.setting).join(', ')}`);
  text.push('files:', ...end.files.map((f) => `  ${f}`), `runs: ${out}/<setting>/fold<k>-seed<s>`);
  const complete = !end.interrupted && !end.failed.length && !end.inFlight.length;
  const json = ablationJson(end.table, {
    out,
    files: end.files,
    complete,
    failed: end.failed,
    interrupted: end.interrupted,
    ...(slurm ? { in_flight: end.inFlight, ...(slurm.submitted ? { slurm_job: slurm.submitted.job } : {}) } : {}),
  });
  return { json, text };
}

// ---------------------------------------------------------------------------------------------------------------
// Ink view

const GLYPH: Record<RunStatus, { ch: string; color?: string; dim?: boolean }> = {
  done: { ch: '✓', color: 'green' },
  running: { ch: '▶', color: 'cyan' },
  queued: { ch: '·', dim: true },
  pending: { ch: '○', color: 'yellow' },
  failed: { ch: '✗', color: 'red' },
  interrupted: { ch: '‖', color: 'yellow' },
};

function settingUar(runs: RunView[]): string {
  const done = runs.filter((r) => r.test).map((r) => r.test!.uar);
  if (!done.length) return '';
  return meanSdText(meanSd(done));
}

export function AblateGrid({ state, width }: { state: AblateState; width: number }) {
  const plan = state.plan;
  if (!plan) return <Text dimColor>preparing the grid…</Text>;
  const columns = plan.folds.flatMap((f) =>
    plan.seeds.map((s) => ({ fold: f, seed: s, label: plan.seeds.length > 1 ? `${f}/${s}` : f })),
  );
  const nameW = Math.min(32, Math.max(7, ...plan.settings.map((s) => s.name.length)));
  const colW = Math.max(...columns.map((c) => c.label.length));
  const running = state.runs.filter((r) => r.status === 'running');
  const c = counts(state);
  const elapsed = (Date.now() - state.startedAt) / 1000;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text bold>{'setting'.padEnd(nameW)}</Text>{' '}
        <Text dimColor>{columns.map((col) => col.label.padStart(colW)).join(' ')}</Text>{' '}
        <Text dimColor>{plan.seeds.length > 1 ? '(fold/seed)' : '(fold)'}</Text>
        {'  '}
        <Text bold>test UAR %</Text>
      </Text>
      {plan.settings.map((setting) => {
        const runs = state.runs.filter((r) => r.setting === setting.name);
        return (
          <Text key={setting.name} wrap="truncate-end">
            {setting.name.slice(0, nameW).padEnd(nameW)}{' '}
            {columns.map((col, k) => {
              const r = runs.find((x) => x.fold === col.fold && x.seed === col.seed);
              const g = GLYPH[r?.status ?? 'queued'];
              return (
                <Text key={k} color={g.color} dimColor={g.dim}>
                  {g.ch.padStart(colW)}
                  {k < columns.length - 1 ? ' ' : ''}
                </Text>
              );
            })}
            {'  '}
            {settingUar(runs)}
          </Text>
        );
      })}
      {running.length ? <Text> </Text> : null}
      {running.map((r) => {
        const epochs = r.epochs ?? 0;
        const frac = epochs ? ((r.epoch ?? 0) + (r.stepsPerEpoch ? (r.step ?? 0) / r.stepsPerEpoch : 0)) / epochs : 0;
        return (
          <Box key={r.id} gap={1}>
            <Text color="cyan">▶</Text>
            <Text wrap="truncate-end">{r.id}</Text>
            <Bar
              done={Math.round(frac * 1000)}
              total={1000}
              width={Math.max(8, Math.min(24, width - r.id.length - 50))}
            />
            <Text>
              {epochs ? `epoch ${Math.min((r.epoch ?? 0) + 1, epochs)}/${epochs}` : 'starting'}
              {r.resumedFrom ? ' (resumed)' : ''}
            </Text>
            {r.val ? (
              <Text>
                val UAR <Text bold>{pct2(r.val.uar)}</Text>
              </Text>
            ) : null}
          </Box>
        );
      })}
      <Text dimColor>
        {c.done} done{c.before ? ` (${c.before} before)` : ''} · {c.running} running ·{' '}
        {state.executor === 'slurm'
          ? `${c.pending} pending in Slurm${state.submitted.length ? ` (job ${state.submitted.join(', ')})` : ''}${c.queued ? ` · ${c.queued} not submitted` : ''}`
          : `${c.queued} queued`}
        {c.failed ? ` · ${c.failed} failed` : ''}
        {c.interrupted ? ` · ${c.interrupted} stopped` : ''} ·{' '}
        {state.executor === 'slurm' ? 'on Slurm' : `${state.jobs} at a time`} · {duration(elapsed)}
      </Text>
    </Box>
  );
}

function AblateView({ state, width }: { state: AblateState; width: number }) {
  return (
    <>
      <Static items={state.log}>
        {(l) => (
          <Text key={l.key} color={GLYPH[l.status].color} wrap="truncate-end">
            {GLYPH[l.status].ch} {l.text}
          </Text>
        )}
      </Static>
      <AblateGrid state={state} width={width} />
    </>
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Reporters

interface Stream {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export interface AblateReporter {
  onEvent(e: AblateEvent): void;
  /** Stops drawing (idempotent). */
  finish(): void;
}

export interface AblateReporterOptions {
  stderr?: Stream;
  redrawMs?: number;
  debug?: boolean;
}

export function createAblateReporter(
  mode: OutputMode,
  prefix: string,
  opts: AblateReporterOptions = {},
): AblateReporter {
  const stderr = opts.stderr ?? process.stderr;
  if (mode === 'tty') return new InkAblateReporter(stderr, opts);
  return new LineAblateReporter(prefix, mode === 'json', stderr);
}

class LineAblateReporter implements AblateReporter {
  private state = initialAblateState();

  constructor(
    private readonly prefix: string,
    private readonly json: boolean,
    private readonly stderr: Stream,
  ) {}

  onEvent(e: AblateEvent): void {
    this.state = reduceAblate(this.state, e);
    switch (e.type) {
      case 'grid-start': {
        const before = e.finished.length;
        this.emit(
          {
            type: 'grid',
            out: e.plan.out,
            settings: e.plan.settings.map((s) => s.name),
            runs: e.plan.runs.length,
            finished: before,
            jobs: e.jobs,
            executor: e.executor ?? 'local',
          },
          gridLine(e.plan, e.jobs, before, e.executor),
        );
        break;
      }
      case 'submitted':
        this.emit(
          { type: 'submitted', job: e.job, runs: e.runs, script: e.script },
          `submitted Slurm job array ${e.job}: ${e.runs.length} task${e.runs.length > 1 ? 's' : ''} (${e.script})`,
        );
        break;
      case 'run-pending':
        this.emit({ type: 'run-pending', run: e.id, job: e.job }, `pending ${e.id} (Slurm task ${e.job})`);
        break;
      case 'run-start':
        this.emit({ type: 'run-start', run: e.id }, `start ${e.id}`);
        break;
      case 'run-event': {
        const t = e.event;
        if (t.type === 'run-start' && t.resumedFrom)
          this.emit(
            { type: 'run-resumed', run: e.id, ...t.resumedFrom },
            `${e.id}: resumed at epoch ${t.resumedFrom.epoch} step ${t.resumedFrom.step}`,
          );
        if (t.type === 'epoch-end') {
          const val = t.val ? ` val UAR ${pct2(t.val.uar)}% WAR ${pct2(t.val.war)}%` : '';
          this.emit(
            {
              type: 'run-epoch',
              run: e.id,
              epoch: t.epoch,
              epochs: t.epochs,
              ...(t.val ? { val_uar: t.val.uar, val_war: t.val.war } : {}),
            },
            `${e.id}: epoch ${t.epoch}/${t.epochs}${val}`,
          );
        }
        break;
      }
      case 'run-end': {
        const r = this.state.runs.find((x) => x.id === e.id)!;
        this.emit(
          {
            type: 'run-end',
            run: e.id,
            status: e.status,
            code: e.code,
            seconds: e.seconds,
            ...(e.test ? { test_uar: e.test.uar, test_war: e.test.war } : {}),
            ...(e.error ? { error: e.error } : {}),
          },
          runEndLine(r),
        );
        break;
      }
      case 'grid-end': {
        const c = counts(this.state);
        this.emit(
          { type: 'grid-end', done: c.done, failed: c.failed, interrupted: e.interrupted },
          `grid ${e.interrupted ? 'stopped' : 'finished'}: ${c.done} of ${this.state.runs.length} runs done${c.failed ? `, ${c.failed} failed` : ''}`,
        );
        break;
      }
    }
  }

  finish(): void {}

  private emit(json: Record<string, unknown>, text: string): void {
    this.stderr.write(this.json ? JSON.stringify(json) + '\n' : `${this.prefix}: ${text}\n`);
  }
}

class InkAblateReporter implements AblateReporter {
  private state = initialAblateState();
  private readonly live: LiveView;

  constructor(stderr: Stream, opts: AblateReporterOptions) {
    this.live = new LiveView(stderr, (width) => <AblateView state={this.state} width={width} />, {
      redrawMs: 200,
      ...opts,
    });
  }

  onEvent(e: AblateEvent): void {
    if (this.live.closed) return;
    this.state = reduceAblate(this.state, e);
    this.live.update(e.type !== 'run-event');
  }

  finish(): void {
    this.live.close();
  }
}
