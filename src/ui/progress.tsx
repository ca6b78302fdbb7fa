// Progress of a long job, in the three output modes: a live Ink bar (with finished lines printed above it) on a
// terminal, throttled plain lines when piped or under CI, JSON lines with --json. Always on stderr: stdout is
// reserved for the command's result.
import { Box, Static, Text } from 'ink';
import type { OutputMode } from './output.js';
import { LiveView } from './live.js';

export interface ProgressReporter {
  /** Set the total and a label ("prepare", "epoch 3"). */
  start(label: string, total: number, unit: string): void;
  update(done: number, detail?: string): void;
  /** A line that stays (an issue, a finished epoch). */
  log(line: string, data?: Record<string, unknown>): void;
  finish(): void;
}

interface BarState {
  label: string;
  done: number;
  total: number;
  unit: string;
  detail?: string;
  startedAt: number;
  lines: { key: number; text: string }[];
}

const rate = (s: BarState) => {
  const seconds = (Date.now() - s.startedAt) / 1000;
  return seconds > 0 ? s.done / seconds : 0;
};

function eta(s: BarState): string {
  const r = rate(s);
  if (!r || s.done >= s.total) return '';
  const left = Math.round((s.total - s.done) / r);
  return left >= 60 ? `${Math.floor(left / 60)}m${String(left % 60).padStart(2, '0')}s` : `${left}s`;
}

export function Bar({ done, total, width = 30 }: { done: number; total: number; width?: number }) {
  const filled = total > 0 ? Math.round((Math.min(done, total) / total) * width) : 0;
  return (
    <Text>
      <Text color="green">{'█'.repeat(filled)}</Text>
      <Text dimColor>{'░'.repeat(width - filled)}</Text>
    </Text>
  );
}

function ProgressView({ state }: { state: BarState }) {
  const pct = state.total ? Math.floor((100 * state.done) / state.total) : 0;
  return (
    <>
      <Static items={state.lines}>{(l) => <Text key={l.key}>{l.text}</Text>}</Static>
      <Box gap={1}>
        <Text bold>{state.label}</Text>
        <Bar done={state.done} total={state.total} />
        <Text>
          {state.done}/{state.total} {state.unit} {pct}%
        </Text>
        <Text dimColor>
          {rate(state).toFixed(1)} {state.unit}/s {eta(state) && `ETA ${eta(state)}`}
        </Text>
        {state.detail ? <Text dimColor>{state.detail}</Text> : null}
      </Box>
    </>
  );
}

class InkProgress implements ProgressReporter {
  private state: BarState = { label: '', done: 0, total: 0, unit: '', startedAt: Date.now(), lines: [] };
  private live?: LiveView;

  start(label: string, total: number, unit: string): void {
    this.state = { ...this.state, label, total, unit, done: 0, startedAt: Date.now() };
    // A new view per stage: finish() closes the previous one.
    if (!this.live || this.live.closed)
      this.live = new LiveView(process.stderr, () => <ProgressView state={this.state} />);
    this.live.update(true);
  }

  update(done: number, detail?: string): void {
    this.state = { ...this.state, done, detail };
    this.live?.update(done >= this.state.total);
  }

  /** A line above the bar; before the first stage (or between stages) it waits for the next one. */
  log(line: string): void {
    this.state = { ...this.state, lines: [...this.state.lines, { key: this.state.lines.length, text: line }] };
    this.live?.update(true);
  }

  finish(): void {
    if (!this.live || this.live.closed) return;
    this.live.close();
    this.state = { ...this.state, lines: [] }; // printed by that view; the next stage's view starts without them
  }
}

class LineProgress implements ProgressReporter {
  private label = '';
  private unit = '';
  private total = 0;
  private last = 0;
  private lastDone = -1;

  constructor(
    private readonly prefix: string,
    private readonly json: boolean,
    private readonly everyMs = 2000,
  ) {}

  start(label: string, total: number, unit: string): void {
    Object.assign(this, { label, total, unit });
    this.emit({ type: 'start', stage: label, total, unit }, `${label}: ${total} ${unit}`);
  }

  update(done: number, detail?: string): void {
    const now = Date.now();
    if (done < this.total && now - this.last < this.everyMs) return;
    if (done === this.lastDone) return;
    this.last = now;
    this.lastDone = done;
    this.emit(
      { type: 'progress', stage: this.label, done, total: this.total, unit: this.unit, ...(detail ? { detail } : {}) },
      `${this.label} ${done}/${this.total} ${this.unit}${detail ? ` ${detail}` : ''}`,
    );
  }

  log(line: string, data?: Record<string, unknown>): void {
    this.emit({ type: 'log', stage: this.label, message: line, ...data }, line);
  }

  finish(): void {}

  private emit(json: Record<string, unknown>, text: string): void {
    process.stderr.write(this.json ? JSON.stringify(json) + '\n' : `${this.prefix}: ${text}\n`);
  }
}

export function createProgress(mode: OutputMode, prefix: string): ProgressReporter {
  return mode === 'tty' ? new InkProgress() : new LineProgress(prefix, mode === 'json');
}
