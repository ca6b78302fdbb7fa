import type { TrainEvent } from '../train/events.js';
import type { OutputMode } from './output.js';
import { KeyedDashboard, TrainDashboard } from './TrainDashboard.js';
import { initialTrainState, reduceTrain, type TrainState } from './train-state.js';
import { epochStartLine, logLines, stepLine, trainResultText } from './train-text.js';
import { LiveView } from './live.js';

export interface TrainReporter {
  onEvent(e: TrainEvent): void;
  /** Stops drawing (idempotent); call it in a finally, so that an error message lands below the dashboard. */
  finish(): void;
}

interface Stream {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export interface TrainReporterOptions {
  stdout?: Stream;
  /** For tty mode, a TTY write stream (Ink listens to its resize events). */
  stderr?: Stream;
  /** Clock for throttling (ms). */
  now?: () => number;
  /** plain: the longest gap between step lines within an epoch, besides one line per 10% of it (default 10 s). */
  stepEveryMs?: number;
  /** tty: the dashboard's keys (q, c, l, ?), read from stdin (default: when stdin is a terminal). */
  keys?: boolean;
  /** tty: the shortest gap between redraws (default 100 ms). */
  redrawMs?: number;
  /** tty: Ink's debug mode, every frame written in full (tests). */
  debug?: boolean;
}

export function createTrainReporter(mode: OutputMode, prefix: string, opts: TrainReporterOptions = {}): TrainReporter {
  const io = { stdout: opts.stdout ?? process.stdout, stderr: opts.stderr ?? process.stderr };
  if (mode === 'json') return new JsonTrainReporter(io.stdout);
  // The dashboard draws on stderr: when only stdout is a terminal (2>log), plain lines suit the log better.
  if (mode === 'tty' && io.stderr.isTTY) return new InkTrainReporter(io, opts);
  return new PlainTrainReporter(prefix, io, opts);
}

class JsonTrainReporter implements TrainReporter {
  constructor(private readonly out: Stream) {}
  onEvent(e: TrainEvent): void {
    this.out.write(JSON.stringify(e) + '\n');
  }
  finish(): void {}
}

class PlainTrainReporter implements TrainReporter {
  private state: TrainState = initialTrainState();
  private lastLine = -Infinity; // time of the last step or eval line
  private lastDecile = 0;
  private printedLog = 0;
  private readonly now: () => number;
  private readonly every: number;

  constructor(
    private readonly prefix: string,
    private readonly io: { stdout: Stream; stderr: Stream },
    opts: TrainReporterOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.every = opts.stepEveryMs ?? 10_000;
  }

  onEvent(e: TrainEvent): void {
    if (this.state.end) return;
    this.state = reduceTrain(this.state, e);
    const s = this.state;
    switch (e.type) {
      case 'epoch-start':
        this.lastDecile = 0;
        this.lastLine = this.now();
        this.line(epochStartLine(e.epoch, e.epochs, e.lr));
        break;
      case 'step': {
        const decile = e.stepsPerEpoch ? Math.floor((10 * e.step) / e.stepsPerEpoch) : 0;
        const now = this.now();
        if (e.step < e.stepsPerEpoch && (decile > this.lastDecile || now - this.lastLine >= this.every)) {
          this.lastDecile = decile;
          this.lastLine = now;
          this.line(stepLine(s));
        }
        break;
      }
      case 'eval-progress': {
        const now = this.now();
        if (e.done === 0) this.lastLine = now;
        else if (e.done < e.total && now - this.lastLine >= this.every) {
          this.lastLine = now;
          this.line(`eval ${e.split} ${e.done}/${e.total} clips`);
        }
        break;
      }
      default:
        break;
    }
    for (; this.printedLog < s.log.length; this.printedLog++)
      for (const l of logLines(s.log[this.printedLog])) this.line(l);
    if (e.type === 'run-end') {
      this.line(`run ${e.interrupted ? 'interrupted (saved)' : 'finished'}: ${e.runDir}`);
      this.io.stdout.write(
        trainResultText(s)
          .map((l) => l + '\n')
          .join(''),
      );
    }
  }

  finish(): void {}

  private line(text: string): void {
    this.io.stderr.write(`${this.prefix}: ${text}\n`);
  }
}

const IMMEDIATE = new Set<TrainEvent['type']>([
  'run-start',
  'stopping',
  'epoch-start',
  'epoch-end',
  'checkpoint',
  'test',
  'run-end',
]);

class InkTrainReporter implements TrainReporter {
  private state: TrainState = initialTrainState();
  private readonly live: LiveView;

  constructor(
    private readonly io: { stdout: Stream; stderr: Stream },
    opts: TrainReporterOptions,
  ) {
    const keys = opts.keys ?? Boolean(process.stdin.isTTY);
    this.live = new LiveView(
      io.stderr,
      (width) =>
        keys ? (
          <KeyedDashboard state={this.state} width={width} />
        ) : (
          <TrainDashboard state={this.state} width={width} />
        ),
      opts,
    );
  }

  onEvent(e: TrainEvent): void {
    if (this.live.closed) return;
    this.state = reduceTrain(this.state, e);
    if (e.type === 'run-end') {
      this.finish();
      this.io.stdout.write(
        trainResultText(this.state)
          .map((l) => l + '\n')
          .join(''),
      );
      return;
    }
    this.live.update(IMMEDIATE.has(e.type));
  }

  finish(): void {
    this.live.close();
  }
}
