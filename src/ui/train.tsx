// `dfer train`'s renderer: the trainer's events in the three output modes.
//   json:  the events ARE the output: one JSON object per event on stdout, in order, as the trainer emitted them
//          (non-finite numbers become null, as JSON has no NaN); the last line is the 'run-end' event with the
//          run's summary. Nothing on stderr but errors.
//   plain: stable, grep-able lines on stderr (the run, each epoch start and end, step progress at most every 10 s
//          or each 10% of an epoch, checkpoints, the test result), and at run end the result on stdout: the test
//          split's Table 4 row and confusion matrix, the checkpoints, the run directory.
//   tty:   an Ink dashboard on stderr (finished epochs above a live area, redrawn at most 10 times a second), and
//          at run end the same result on stdout as plain. Plain lines instead when stderr is not a terminal.
// A run whose checkpoint is selected on the test split says so in every mode (the run-start event carries it).
import { RedrawThrottle } from './redraw.js';
import { render, type Instance } from 'ink';
import type { TrainEvent } from '../train/events.js';
import type { OutputMode } from './output.js';
import { TrainDashboard } from './TrainDashboard.js';
import { initialTrainState, reduceTrain, type TrainState } from './train-state.js';
import { epochStartLine, logLines, stepLine, trainResultText } from './train-text.js';

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
  private ink?: Instance;
  private done = false;
  private readonly redrawMs: number;
  private readonly redraw: RedrawThrottle;

  constructor(
    private readonly io: { stdout: Stream; stderr: Stream },
    private readonly opts: TrainReporterOptions,
  ) {
    this.redrawMs = opts.redrawMs ?? 100;
    this.redraw = new RedrawThrottle(this.redrawMs, () => this.draw(), opts.now ?? Date.now);
  }

  onEvent(e: TrainEvent): void {
    if (this.done) return;
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
    this.redraw.request(IMMEDIATE.has(e.type));
  }

  finish(): void {
    if (this.done) return;
    this.done = true;
    this.redraw.drawNow();
    this.ink?.unmount();
    this.ink = undefined;
  }

  private draw(): void {
    const width = Math.max(40, this.io.stderr.columns ?? 80);
    const view = <TrainDashboard state={this.state} width={width} />;
    if (this.ink) this.ink.rerender(view);
    else {
      const stream = this.io.stderr as NodeJS.WriteStream;
      // patchConsole: stray console output (backend notices) is printed above the dashboard instead of through it.
      this.ink = render(view, {
        stdout: stream,
        stderr: stream,
        patchConsole: true,
        exitOnCtrlC: false,
        maxFps: Math.max(1, Math.round(1000 / this.redrawMs)),
        debug: this.opts.debug,
      });
    }
  }
}
