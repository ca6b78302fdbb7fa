// The reporter's memory of the event stream (src/ui/train-state.ts): the reducer, the bounded loss trend, sparklines.
import {
  emptyTrend,
  initialTrainState,
  pushTrend,
  reduceTrain,
  runFraction,
  runningLoss,
  sparkline,
  trendValues,
  type TrainState,
} from '../../src/ui/train-state.js';
import { scriptedRun, VAL1, VAL2 } from './script.js';

describe('sparkline', () => {
  test('scales values to the eight blocks; bucket means when there are more values than columns', () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8)).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([7, 0], 8)).toBe('█▁');
    expect(sparkline([0, 0, 7, 7], 2)).toBe('▁█');
    expect(sparkline([3, 3, 3], 5)).toBe('▄▄▄');
    expect(sparkline([NaN, 1, Infinity, 2], 4)).toBe('▁█');
    expect(sparkline([], 5)).toBe('');
  });
});

describe('loss trend', () => {
  test('bounded memory: pairs merge when full, so the trend spans the whole run', () => {
    let t = emptyTrend();
    for (let i = 0; i < 1000; i++) t = pushTrend(t, i, 8);
    // Full at steps 8, 16, 32, ..., 512: then 4 values of 128 steps each, and 3 more up to step 896.
    expect(t.bucket).toBe(128);
    expect(t.values).toEqual([63.5, 191.5, 319.5, 447.5, 575.5, 703.5, 831.5]);
    expect(trendValues(t)).toEqual([63.5, 191.5, 319.5, 447.5, 575.5, 703.5, 831.5, (896 + 999) / 2]);
  });
});

describe('reduceTrain', () => {
  const fold = (events = scriptedRun()) =>
    events.reduce<TrainState[]>((acc, e) => [...acc, reduceTrain(acc[acc.length - 1], e)], [initialTrainState()]);

  test('tracks progress, the running loss of the epoch, validation, best, checkpoints and the log', () => {
    const states = fold();
    const midway = states.find((s) => s.epoch === 1 && s.step === 4)!;
    expect(runningLoss(midway)).toEqual({
      total: (1.95 + 1.9 + 1.85 + 1.8) / 4,
      ce: expect.any(Number),
      ial: 0.15,
      aux: 0.05,
    });
    expect(runFraction(midway)).toBeCloseTo(0.2, 12);
    const afterVal1 = states.find((s) => s.lastVal)!;
    expect(afterVal1.lastVal).toEqual({ epoch: 1, metrics: VAL1 });
    const last = states[states.length - 1];
    expect(last.phase).toBe('done');
    expect(runFraction(last)).toBe(1);
    expect(last.best).toEqual({ epoch: 2, uar: VAL2.uar, war: VAL2.war });
    expect(last.checkpoints).toEqual({ last: 'runs/demo/last.safetensors', best: 'runs/demo/best.safetensors' });
    expect(last.log.map((i) => i.kind)).toEqual(['run', 'epoch', 'checkpoint', 'epoch', 'checkpoint', 'test']);
    expect(last.log.map((i) => i.key)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(last.end).toMatchObject({ runDir: 'runs/demo', interrupted: false });
    // The reducer never mutates: the first state is still empty.
    expect(states[0]).toEqual(initialTrainState());
  });

  test('a resumed run starts at the epoch and step it resumes from', () => {
    const [start] = scriptedRun();
    const s = reduceTrain(initialTrainState(), {
      ...start,
      type: 'run-start',
      resumedFrom: { epoch: 2, step: 3 },
    } as typeof start);
    expect([s.epoch, s.step]).toEqual([2, 3]);
    expect(runFraction(s)).toBeCloseTo((1 + 0.3) / 2, 12);
  });
});
