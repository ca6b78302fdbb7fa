// A scripted training run as the trainer would report it: 2 epochs of 10 steps on DFEW's 7 classes, validation after
// each epoch, checkpoints, the test evaluation and the end of the run.
import type { TrainEvent } from '../../src/train/events.js';
import type { Metrics } from '../../src/metrics/metrics.js';

export const CLASSES = ['happiness', 'sadness', 'neutral', 'anger', 'surprise', 'disgust', 'fear'];

/** Metrics of a confusion matrix, computed the plain way (UAR over classes with clips). */
export function metricsOf(confusion: number[][]): Metrics {
  const support = confusion.map((r) => r.reduce((a, b) => a + b, 0));
  const perClass = confusion.map((r, i) => (support[i] ? r[i] / support[i] : 0));
  const present = perClass.filter((_, i) => support[i] > 0);
  const total = support.reduce((a, b) => a + b, 0);
  return {
    uar: present.reduce((a, b) => a + b, 0) / present.length,
    war: confusion.reduce((a, r, i) => a + r[i], 0) / total,
    perClass,
    support,
    confusion,
  };
}

export const VAL1 = metricsOf([
  [8, 1, 1, 0, 0, 0, 0],
  [2, 5, 2, 1, 0, 0, 0],
  [1, 2, 6, 1, 0, 0, 0],
  [1, 1, 1, 7, 0, 0, 0],
  [1, 0, 1, 0, 6, 0, 2],
  [0, 1, 0, 1, 0, 0, 0],
  [1, 1, 1, 0, 2, 0, 3],
]);

export const VAL2 = metricsOf([
  [9, 0, 1, 0, 0, 0, 0],
  [1, 7, 1, 1, 0, 0, 0],
  [1, 1, 7, 1, 0, 0, 0],
  [0, 1, 1, 8, 0, 0, 0],
  [0, 0, 1, 0, 8, 0, 1],
  [0, 1, 0, 0, 0, 1, 0],
  [1, 0, 1, 0, 1, 0, 5],
]);

export const TEST = metricsOf([
  [120, 3, 10, 2, 4, 0, 1],
  [5, 80, 20, 3, 1, 0, 6],
  [10, 15, 90, 5, 2, 0, 3],
  [8, 4, 9, 100, 3, 1, 2],
  [6, 2, 4, 3, 60, 0, 10],
  [2, 3, 2, 5, 1, 3, 1],
  [3, 8, 6, 4, 14, 0, 30],
]);

export function scriptedRun(selectOn: 'val' | 'test' = 'val'): TrainEvent[] {
  const events: TrainEvent[] = [
    {
      type: 'run-start',
      runDir: 'runs/demo',
      epochs: 2,
      stepsPerEpoch: 10,
      trainClips: 160,
      valClips: 60,
      testClips: 800,
      classes: CLASSES,
      backend: 'cpu',
      selectOn,
    },
  ];
  let global = 0;
  for (let epoch = 1; epoch <= 2; epoch++) {
    const lr = epoch === 1 ? 0.01 : 0.001;
    events.push({ type: 'epoch-start', epoch, epochs: 2, lr });
    for (let step = 1; step <= 10; step++) {
      global++;
      const total = 2 - 0.05 * global;
      events.push({
        type: 'step',
        epoch,
        step,
        stepsPerEpoch: 10,
        globalStep: global,
        loss: { total, ce: total - 0.2, ial: 0.15, aux: 0.05 },
        lr,
        clipsPerSecond: 12.5,
        elapsed: global * 2,
        etaSeconds: (20 - global) * 2,
      });
    }
    for (let done = 0; done <= 60; done += 20) events.push({ type: 'eval-progress', split: selectOn, done, total: 60 });
    const val = epoch === 1 ? VAL1 : VAL2;
    events.push({
      type: 'epoch-end',
      epoch,
      epochs: 2,
      trainLoss: { total: 1.5, ce: 1.3, ial: 0.15, aux: 0.05 },
      val,
      best: true,
      bestEpoch: epoch,
      seconds: 20,
    });
    events.push({ type: 'checkpoint', path: 'runs/demo/last.safetensors', kind: 'last' });
    events.push({ type: 'checkpoint', path: 'runs/demo/best.safetensors', kind: 'best' });
  }
  events.push({ type: 'test', split: 'test', metrics: TEST, checkpoint: 'runs/demo/best.safetensors' });
  events.push({ type: 'run-end', runDir: 'runs/demo', summary: { uar: TEST.uar, war: TEST.war }, interrupted: false });
  return events;
}
