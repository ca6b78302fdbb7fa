// The run's curves, redrawn from metrics.jsonl after each epoch: loss parts per step (with the learning rate on the
// right axis) and the validation UAR/WAR per epoch.
import { join } from 'node:path';
import { curvesSvg, type CurveSeries } from '../figures/plots.js';
import { writeSvgAndPng } from '../figures/svg.js';
import { RunDir } from './run-dir.js';

export async function writeRunCurves(runDir: string): Promise<string[]> {
  // (any: the lines' fields are the trainer's step and epoch records)
  const lines = new RunDir(runDir).readMetrics() as any[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  if (!lines.length) return [];
  const steps = lines.filter((l) => l.type === 'step');
  const epochs = lines.filter((l) => l.type === 'epoch');
  const files: string[] = [];
  if (steps.length) {
    const series: CurveSeries[] = (['total', 'ce', 'ial', 'aux'] as const).map((k) => ({
      name: k === 'total' ? 'loss' : k,
      points: steps.map((s) => [s.globalStep, s[k]] as [number, number]),
    }));
    series.push({ name: 'lr', axis: 'right', points: steps.map((s) => [s.globalStep, s.lr] as [number, number]) });
    const out = await writeSvgAndPng(
      curvesSvg(series, { title: 'training loss', xLabel: 'step', yLabel: 'loss', yLabelRight: 'learning rate' }),
      join(runDir, 'curves-loss'),
    );
    files.push(out.svg, out.png);
  }
  const withVal = epochs.filter((e) => e.val);
  if (withVal.length) {
    const series: CurveSeries[] = [
      { name: 'val UAR', points: withVal.map((e) => [e.epoch, 100 * e.val.uar] as [number, number]) },
      { name: 'val WAR', points: withVal.map((e) => [e.epoch, 100 * e.val.war] as [number, number]) },
      {
        name: 'train loss',
        axis: 'right',
        points: epochs.map((e) => [e.epoch, e.trainLoss.total] as [number, number]),
      },
    ];
    const out = await writeSvgAndPng(
      curvesSvg(series, { title: 'selection split', xLabel: 'epoch', yLabel: '%', yLabelRight: 'train loss' }),
      join(runDir, 'curves-val'),
    );
    files.push(out.svg, out.png);
  }
  return files;
}
