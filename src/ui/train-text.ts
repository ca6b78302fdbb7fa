// Training progress and results as plain text: the stable, grep-able lines of `dfer train` when piped or under CI
// (one `key value` vocabulary: "epoch 3/10", "loss", "ce", "ial", "aux", "UAR", "WAR"), and the result block
// printed at the end of a run in every non-JSON mode.
import { isAbsolute, relative } from 'node:path';
import type { LossParts, RunProtocol } from '../train/events.js';
import {
  confusionText,
  duration,
  intensityText,
  loss4,
  lrText,
  pct2,
  SELECTED_ON_TEST,
  table4,
} from './metrics-text.js';
import type { EpochEnd, LogItem, RunStart, TrainState } from './train-state.js';
import { classNames, runningLoss } from './train-state.js';

export const lossText = (l: LossParts) =>
  `loss ${loss4(l.total)} ce ${loss4(l.ce)} ial ${loss4(l.ial)} aux ${loss4(l.aux)}`;

/** Where a setting came from, short: a dfer.json path relative to the current directory. */
export const sourceText = (from: string) =>
  from.endsWith('dfer.json') && isAbsolute(from) ? relative(process.cwd(), from) || 'dfer.json' : from;

/** The dataset protocol the run trains with, and what overrode it: printed at the start of every run. */
export function protocolLine(p: RunProtocol): string {
  const over = p.overridden.map((o) => `${o.setting} ${JSON.stringify(o.value)} (${sourceText(o.from)})`);
  return `protocol ${p.name}: ${p.basis}${over.length ? `; overridden: ${over.join(', ')}` : ''}`;
}

export function runLines(r: RunStart): string[] {
  const lines = [
    `run ${r.runDir}: ${r.epochs} epochs x ${r.stepsPerEpoch} steps; clips ${r.trainClips} train, ${r.valClips} val, ${r.testClips} test; ` +
      `${r.classes.length} classes; backend ${r.backend}; checkpoint selected on ${r.selectOn}` +
      (r.resumedFrom ? `; resumed from epoch ${r.resumedFrom.epoch} step ${r.resumedFrom.step}` : ''),
  ];
  if (r.protocol) lines.push(protocolLine(r.protocol));
  if (r.selectOn === 'test') lines.push(`warning: checkpoint ${SELECTED_ON_TEST}`);
  return lines;
}

export const epochStartLine = (epoch: number, epochs: number, lr: number) =>
  `epoch ${epoch}/${epochs} lr ${lrText(lr)}`;

/** A progress line within an epoch; the loss is the running mean over the epoch so far. */
export function stepLine(s: TrainState): string {
  const l = runningLoss(s);
  return (
    `epoch ${s.epoch}/${s.epochs} step ${s.step}/${s.stepsPerEpoch} ${l ? lossText(l) + ' ' : ''}lr ${lrText(s.lr)} ` +
    `${s.clipsPerSecond.toFixed(1)} clips/s eta ${duration(s.etaSeconds)}`
  );
}

export function epochLine(e: EpochEnd, selectOn: 'val' | 'test'): string {
  const val = e.val ? `${selectOn} UAR ${pct2(e.val.uar)}% WAR ${pct2(e.val.war)}%` : 'no validation';
  const best = e.best ? 'best (new)' : `best epoch ${e.bestEpoch}`;
  return `epoch ${e.epoch}/${e.epochs} done in ${duration(e.seconds)}: ${lossText(e.trainLoss)}; ${val}; ${best}`;
}

export function testLine(split: string, uar: number, war: number, checkpoint: string): string {
  return `${split} split: UAR ${pct2(uar)}% WAR ${pct2(war)}% (checkpoint ${checkpoint})`;
}

/** The plain lines of a log item (what the Ink dashboard shows above its live area, in plain words). */
export function logLines(item: LogItem): string[] {
  switch (item.kind) {
    case 'run':
      return runLines(item.run);
    case 'epoch':
      return [epochLine(item.epoch, item.selectOn)];
    case 'checkpoint':
      return [`checkpoint ${item.what}: ${item.path}`];
    case 'test':
      return [testLine(item.split, item.metrics.uar, item.metrics.war, item.checkpoint)];
    case 'notice':
      return [item.text];
  }
}

/** The end-of-run result: how it ended, the selected checkpoint, the test table and confusion matrix, the paths. */
export function trainResultText(s: TrainState): string[] {
  const runDir = s.end?.runDir ?? s.run?.runDir ?? '?';
  const lines: string[] = [];
  const epochs = s.epochsDone.length;
  if (s.end?.interrupted)
    lines.push(
      `run ${runDir}: interrupted at epoch ${s.epoch}/${s.epochs} step ${s.step}/${s.stepsPerEpoch}; --resume continues it`,
    );
  else
    lines.push(
      `run ${runDir}: finished ${s.epochs} epochs${s.run?.resumedFrom ? ` (${epochs} in this session)` : ''} in ${duration(s.elapsed)}`,
    );
  if (s.best)
    lines.push(
      `checkpoint selected on ${s.selectOn}: epoch ${s.best.epoch}, ${s.selectOn} UAR ${pct2(s.best.uar)}% WAR ${pct2(s.best.war)}%`,
    );
  if (s.selectOn === 'test') lines.push(`warning: checkpoint ${SELECTED_ON_TEST}`);
  if (s.test) {
    const m = s.test.metrics;
    const classes = classNames(s, m.confusion.length);
    const clips = m.support.reduce((a, b) => a + b, 0);
    lines.push(
      '',
      `${s.test.split} split, ${clips} clips, checkpoint ${s.test.checkpoint}`,
      'accuracy of each emotion, UAR and WAR (%)',
      ...table4(m, classes),
      '',
      ...confusionText(m.confusion, classes),
    );
    if (m.byIntensity?.length) lines.push('', ...intensityText(m.byIntensity));
  }
  const ck = (['best', 'last', 'step'] as const).filter((k) => s.checkpoints[k]);
  if (ck.length) lines.push('', 'checkpoints:', ...ck.map((k) => `  ${k.padEnd(4)}  ${s.checkpoints[k]}`));
  lines.push('', `run directory: ${runDir}`);
  return lines;
}
