// `dfer train`'s renderer (src/ui/train.tsx) on a scripted event sequence, with injected streams and clock:
// JSON lines equal the events; plain lines are stable and throttled; the Ink dashboard draws the run.
import { EventEmitter } from 'node:events';
import { render } from 'ink';
import type { TrainEvent } from '../../src/train/events.js';
import { ConfusionMatrix, RecallBars } from '../../src/ui/ConfusionMatrix.js';
import { createTrainReporter } from '../../src/ui/train.js';
import { CLASSES, scriptedRun, TEST, VAL2 } from './script.js';

const strip = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

class Sink {
  chunks: string[] = [];
  write(s: string): boolean {
    this.chunks.push(s);
    return true;
  }
  get text(): string {
    return this.chunks.join('');
  }
}

/** What Ink needs of a terminal: write, columns, resize events. */
class FakeTty extends EventEmitter {
  frames: string[] = [];
  isTTY = true;
  constructor(public columns = 80) {
    super();
  }
  write(s: string): boolean {
    this.frames.push(strip(s));
    return true;
  }
  /** The last full frame that shows the dashboard. */
  lastFrame(): string {
    return [...this.frames].reverse().find((f) => f.includes('epoch')) ?? '';
  }
}

const clock = (stepMs: number) => {
  let t = 0;
  return () => (t += stepMs);
};

describe('json mode', () => {
  test('one JSON line per event on stdout, equal to the events; nothing on stderr', () => {
    const stdout = new Sink();
    const stderr = new Sink();
    const events = scriptedRun();
    const r = createTrainReporter('json', 'dfer train', { stdout, stderr });
    for (const e of events) r.onEvent(e);
    r.finish();
    const lines = stdout.text.trimEnd().split('\n');
    expect(lines).toHaveLength(events.length);
    expect(lines.map((l) => JSON.parse(l))).toEqual(events);
    expect(JSON.parse(lines[lines.length - 1]).type).toBe('run-end');
    expect(stderr.text).toBe('');
  });

  test('a non-finite loss becomes null (JSON has no NaN)', () => {
    const stdout = new Sink();
    const r = createTrainReporter('json', 'dfer train', { stdout });
    const e: TrainEvent = {
      type: 'step',
      epoch: 1,
      step: 1,
      stepsPerEpoch: 2,
      globalStep: 1,
      loss: { total: NaN, ce: NaN, ial: 0, aux: 0 },
      lr: 0.01,
      clipsPerSecond: 1,
      elapsed: 1,
      etaSeconds: 1,
    };
    r.onEvent(e);
    expect(JSON.parse(stdout.text).loss).toEqual({ total: null, ce: null, ial: 0, aux: 0 });
  });
});

describe('plain mode', () => {
  test('progress lines on stderr, the result on stdout', () => {
    const stdout = new Sink();
    const stderr = new Sink();
    const r = createTrainReporter('plain', 'dfer train', { stdout, stderr, now: clock(1) });
    for (const e of scriptedRun()) r.onEvent(e);
    r.finish();
    const lines = stderr.text.trimEnd().split('\n');
    expect(lines.every((l) => l.startsWith('dfer train: '))).toBe(true);
    expect(lines[0]).toBe(
      'dfer train: run runs/demo: 2 epochs x 10 steps; clips 160 train, 60 val, 800 test; 7 classes; backend cpu; checkpoint selected on val',
    );
    expect(lines).toContain('dfer train: epoch 1/2 lr 0.0100');
    // Step lines: one per 10% of the epoch, never the last step (the epoch line follows); loss = running mean.
    const steps = lines.filter((l) => / step \d+\/10 /.test(l));
    expect(steps).toHaveLength(18);
    expect(steps[0]).toBe(
      'dfer train: epoch 1/2 step 1/10 loss 1.9500 ce 1.7500 ial 0.1500 aux 0.0500 lr 0.0100 12.5 clips/s eta 38s',
    );
    expect(steps[1]).toBe(
      'dfer train: epoch 1/2 step 2/10 loss 1.9250 ce 1.7250 ial 0.1500 aux 0.0500 lr 0.0100 12.5 clips/s eta 36s',
    );
    expect(lines.filter((l) => l.includes(' done in '))).toEqual([
      'dfer train: epoch 1/2 done in 20s: loss 1.5000 ce 1.3000 ial 0.1500 aux 0.0500; val UAR 51.07% WAR 58.33%; best (new)',
      'dfer train: epoch 2/2 done in 20s: loss 1.5000 ce 1.3000 ial 0.1500 aux 0.0500; val UAR 71.79% WAR 75.00%; best (new)',
    ]);
    expect(lines.filter((l) => l.includes('checkpoint best:'))).toHaveLength(2);
    expect(lines).not.toContainEqual(expect.stringContaining('checkpoint last:')); // every epoch: in the result only
    expect(lines).toContain('dfer train: test split: UAR 62.92% WAR 71.66% (checkpoint runs/demo/best.safetensors)');
    expect(lines[lines.length - 1]).toBe('dfer train: run finished: runs/demo');
    expect(lines.join('\n')).not.toMatch(/eval val/); // fast validation: no progress lines

    const out = stdout.text.split('\n');
    expect(out[0]).toBe('run runs/demo: finished 2 epochs in 40s');
    expect(out).toContain('checkpoint selected on val: epoch 2, val UAR 71.79% WAR 75.00%');
    expect(out).toContain('  Hap    Sad    Neu    Ang    Sur    Dis    Fea    UAR    WAR');
    expect(out).toContain('85.71  69.57  72.00  78.74  70.59  17.65  46.15  62.92  71.66');
    expect(out).toContain('Hap        120    3   10    2    4    0    1    140');
    expect(out).toContain('  best  runs/demo/best.safetensors');
    expect(out).toContain('  last  runs/demo/last.safetensors');
    expect(out).toContain('run directory: runs/demo');
    expect(stdout.text).not.toMatch(/optimistic/);
  });

  test('steps are throttled: one line per 10% of an epoch, or per interval when steps are slow', () => {
    const run = (msPerCall: number) => {
      const stderr = new Sink();
      const r = createTrainReporter('plain', 'p', {
        stdout: new Sink(),
        stderr,
        now: clock(msPerCall),
        stepEveryMs: 10_000,
      });
      r.onEvent({ type: 'epoch-start', epoch: 1, epochs: 1, lr: 0.1 });
      for (let step = 1; step <= 1000; step++) {
        r.onEvent({
          type: 'step',
          epoch: 1,
          step,
          stepsPerEpoch: 1000,
          globalStep: step,
          loss: { total: 1, ce: 1, ial: 0, aux: 0 },
          lr: 0.1,
          clipsPerSecond: 100,
          elapsed: step,
          etaSeconds: 1000 - step,
        });
      }
      return stderr.text
        .split('\n')
        .filter((l) => l.includes(' step '))
        .map((l) => Number(/step (\d+)\//.exec(l)![1]));
    };
    expect(run(1)).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900]);
    const slow = run(2_500); // a step every 2.5 s: a line every 10 s, and at each 10%
    expect(slow.slice(0, 5)).toEqual([4, 8, 12, 16, 20]);
    expect(slow.length).toBeGreaterThan(200);
  });

  test('slow evaluation reports progress; selection on test says so on stderr and stdout', () => {
    const stdout = new Sink();
    const stderr = new Sink();
    const r = createTrainReporter('plain', 'dfer train', { stdout, stderr, now: clock(6_000), stepEveryMs: 10_000 });
    for (const e of scriptedRun('test')) r.onEvent(e);
    expect(stderr.text).toContain(
      'dfer train: warning: checkpoint selected on the test split: optimistic, as in DFER repos\n',
    );
    expect(stderr.text).toContain('dfer train: eval test 40/60 clips\n');
    expect(stderr.text).toContain('; test UAR 71.79% WAR 75.00%; best (new)');
    expect(stdout.text).toContain(
      'checkpoint selected on test: epoch 2, test UAR 71.79% WAR 75.00%\nwarning: checkpoint selected on the test split: optimistic, as in DFER repos\n',
    );
  });

  test('an interrupted run says how to continue', () => {
    const stdout = new Sink();
    const stderr = new Sink();
    const r = createTrainReporter('plain', 'dfer train', { stdout, stderr });
    const events = scriptedRun().slice(0, 8);
    for (const e of events) r.onEvent(e);
    r.onEvent({ type: 'checkpoint', path: 'runs/demo/last.safetensors', kind: 'last' });
    r.onEvent({ type: 'run-end', runDir: 'runs/demo', summary: {}, interrupted: true });
    expect(stderr.text).toMatch(/dfer train: run interrupted \(saved\): runs\/demo\n$/);
    expect(stdout.text.split('\n')[0]).toBe('run runs/demo: interrupted at epoch 1/2 step 6/10; --resume continues it');
  });
});

describe('tty mode (Ink)', () => {
  test('the dashboard draws the scripted run; the last frame holds the epoch, UAR and a confusion row', () => {
    const tty = new FakeTty(80);
    const stdout = new Sink();
    const r = createTrainReporter('tty', 'dfer train', { stdout, stderr: tty, debug: true, now: clock(1000) });
    for (const e of scriptedRun()) r.onEvent(e);
    r.finish();
    const frame = tty.lastFrame();
    expect(frame).toContain('dfer train runs/demo');
    expect(frame).toMatch(/epoch 1\/2 {2}loss 1\.5000 {2}val UAR 51\.07 WAR 58\.33 {2}★ best/);
    expect(frame).toMatch(/epoch 2\/2 +█+ +100%/);
    expect(frame).toContain('after epoch 2: val UAR 71.79% WAR 75.00%');
    expect(frame).toMatch(/Hap +9 +· +1 +· +· +· +·/); // VAL2's first row
    expect(frame).toMatch(/Dis +█+░+ +50\.0%/); // a recall bar
    expect(frame).toContain('test split: UAR 62.92% WAR 71.66%');
    for (const line of frame.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    // The result goes to stdout after the dashboard stops.
    expect(stdout.text).toContain('85.71  69.57  72.00  78.74  70.59  17.65  46.15  62.92  71.66');
  });

  test('a narrow terminal and selection on the test split', () => {
    const tty = new FakeTty(50);
    const r = createTrainReporter('tty', 'dfer train', {
      stdout: new Sink(),
      stderr: tty,
      debug: true,
      now: clock(1000),
    });
    for (const e of scriptedRun('test')) r.onEvent(e);
    r.finish();
    const frame = tty.lastFrame();
    expect(frame.replace(/\s+/g, ' ')).toContain('checkpoint selected on the test split: optimistic, as in DFER repos');
    expect(frame).toContain('test UAR 71.79%');
    for (const line of frame.split('\n')) expect(line.length).toBeLessThanOrEqual(50);
  });

  test('redraws at most every redrawMs; the last state is drawn after a pause', async () => {
    const tty = new FakeTty(80);
    const r = createTrainReporter('tty', 'dfer train', {
      stdout: new Sink(),
      stderr: tty,
      debug: true,
      now: () => 0,
      redrawMs: 30,
    });
    const [start] = scriptedRun();
    r.onEvent(start);
    r.onEvent({ type: 'epoch-start', epoch: 1, epochs: 2, lr: 0.01 });
    const before = tty.frames.length;
    for (let step = 1; step <= 500; step++) {
      r.onEvent({
        type: 'step',
        epoch: 1,
        step,
        stepsPerEpoch: 500,
        globalStep: step,
        loss: { total: 1, ce: 1, ial: 0, aux: 0 },
        lr: 0.01,
        clipsPerSecond: 10,
        elapsed: step,
        etaSeconds: 10,
      });
    }
    expect(tty.frames.length - before).toBeLessThanOrEqual(2);
    await new Promise((res) => setTimeout(res, 80));
    expect(tty.lastFrame()).toContain('step 500/500');
    r.finish();
  });

  test('ConfusionMatrix and RecallBars render alone', () => {
    const tty = new FakeTty(100);
    const ink = render(
      <>
        <ConfusionMatrix confusion={TEST.confusion} classes={CLASSES} />
        <RecallBars recall={VAL2.perClass} classes={CLASSES} width={10} />
      </>,
      { stdout: tty as unknown as NodeJS.WriteStream, debug: true, patchConsole: false },
    );
    ink.unmount();
    const frame = tty.frames.find((f) => f.includes('Hap')) ?? '';
    expect(frame).toMatch(/^ +Hap +Sad +Neu +Ang +Sur +Dis +Fea$/m);
    expect(frame).toMatch(/^Hap +120 +3 +10 +2 +4 +· +1 *$/m);
    expect(frame).toMatch(/^Hap █{9}░ +90\.0%$/m);
  });
});

describe('mode fallback', () => {
  test('tty mode with stderr not a terminal (2>log) writes plain lines', () => {
    const stderr = new Sink();
    const r = createTrainReporter('tty', 'dfer train', { stdout: new Sink(), stderr });
    for (const e of scriptedRun()) r.onEvent(e);
    r.finish();
    expect(stderr.text.split('\n')[0]).toMatch(/^dfer train: run runs\/demo: 2 epochs/);
    expect(stderr.text).not.toMatch(/\x1b/);
  });
});

describe('robustness', () => {
  test('events without a run-start (a reporter attached late) still draw, with class indices', () => {
    const tty = new FakeTty(80);
    const stdout = new Sink();
    const r = createTrainReporter('tty', 'dfer train', { stdout, stderr: tty, debug: true, now: clock(1000) });
    for (const e of scriptedRun().slice(1)) r.onEvent(e);
    r.finish();
    expect(tty.lastFrame()).toMatch(/^0 +9 +· +1/m);
    expect(stdout.text).toContain('run directory: runs/demo');
  });
});
