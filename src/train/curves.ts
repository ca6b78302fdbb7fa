// The run's curves, redrawn from metrics.jsonl after each epoch: loss parts per step (with the learning rate on the
// right axis) and the validation UAR/WAR per epoch.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { curvesSvg, writeSvgAndPng, type CurveSeries } from '../analysis/plots.js';

export async function writeRunCurves(runDir: string): Promise<string[]> {
  const file = join(runDir, 'metrics.jsonl');
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  const steps = lines.filter((l) => l.type === 'step');
  const epochs = lines.filter((l) => l.type === 'epoch');
  const files: string[] = [];
  if (steps.length) {
    const series: CurveSeries[] = (['total', 'ce', 'ial', 'aux'] as const).map((k) => ({ name: k === 'total' ? 'loss' : k, points: steps.map((s) => [s.globalStep, s[k]] as [number, number]) }));
    series.push({ name: 'lr', axis: 'right', points: steps.map((s) => [s.globalStep, s.lr] as [number, number]) });
    const out = await writeSvgAndPng(curvesSvg(series, { title: 'training loss', xLabel: 'step', yLabel: 'loss', yLabelRight: 'learning rate' }), join(runDir, 'curves-loss'));
    files.push(out.svg, out.png);
  }
  const withVal = epochs.filter((e) => e.val);
  if (withVal.length) {
    const series: CurveSeries[] = [
      { name: 'val UAR', points: withVal.map((e) => [e.epoch, 100 * e.val.uar] as [number, number]) },
      { name: 'val WAR', points: withVal.map((e) => [e.epoch, 100 * e.val.war] as [number, number]) },
      { name: 'train loss', axis: 'right', points: epochs.map((e) => [e.epoch, e.trainLoss.total] as [number, number]) },
    ];
    const out = await writeSvgAndPng(curvesSvg(series, { title: 'selection split', xLabel: 'epoch', yLabel: '%', yLabelRight: 'train loss' }), join(runDir, 'curves-val'));
    files.push(out.svg, out.png);
  }
  return files;
}
