// Views of `dfer prepare` and `dfer sample` results.
import type { PrepareResult } from '../prepare/prepare.js';
import type { SampleResult } from '../data/inspect.js';
import type { View } from './output.js';
import { table } from './table.js';

const MAX_ISSUES = 20;

export function prepareView(r: PrepareResult, out: string): View {
  const m = r.manifest;
  const text = [
    `prepared ${m.counts.clips} clips into ${out} (${r.resumed} done by an earlier run), ${m.counts.skipped} skipped`,
    `frames stored at ${m.settings.size}x${m.settings.size} px, JPEG q${m.settings.quality}; fingerprint ${m.fingerprint}`,
    '',
    ...table(
      ['class', 'clips'],
      m.classes.map((c, i) => [c, String(m.counts.perClass[i])]),
    ),
    '',
    ...table(
      ['fold', 'train', 'test'],
      Object.entries(m.folds).map(([k, f]) => [k, String(f.train.length), String(f.test.length)]),
    ),
    '',
    `${r.notes.countMismatch} clip(s) listed with a frame count other than the frames on disk (the real count is used)`,
    `${r.notes.padded} clip(s) shorter than ${m.settings.frames} frames, padded by repeating the last frame${m.settings.minFrames ? `; clips under ${m.settings.minFrames} frames dropped` : ' (--min-frames drops them instead)'}`,
    `${r.notes.damaged} clip(s) with frames that are mostly one flat colour (damaged?)`,
  ];
  if (r.issues.length) {
    text.push(
      '',
      `${r.issues.length} issue(s)${r.issues.length > MAX_ISSUES ? `, first ${MAX_ISSUES}` : ''} (all in ${out}/prepare-report.json):`,
    );
    for (const i of r.issues.slice(0, MAX_ISSUES)) text.push(`  ${i.file}${i.line ? `:${i.line}` : ''}: ${i.reason}`);
  }
  return {
    json: {
      out,
      fingerprint: m.fingerprint,
      counts: m.counts,
      folds: Object.fromEntries(
        Object.entries(m.folds).map(([k, f]) => [k, { train: f.train.length, test: f.test.length }]),
      ),
      resumed: r.resumed,
      notes: r.notes,
      issues: r.issues,
    },
    text,
  };
}

export function sampleView(r: SampleResult): View {
  const text = [
    `clip ${r.clip} (${r.label}), ${r.frames} frames stored (${r.sourceFrames} in the source)`,
    `${r.mode} sampling, U=${r.u} x V=${r.v}, rule ${r.rule}, seed ${r.seed}:`,
    `  ${r.indices.join(' ')}`,
  ];
  if (r.augment) {
    const a = r.augment;
    text.push(
      `augmentation: crop ${a.crop.w}x${a.crop.h} at (${a.crop.x}, ${a.crop.y}), flip ${a.flip ? 'yes' : 'no'}, brightness x${a.brightness.toFixed(2)}, rotation ${a.angle.toFixed(2)} deg`,
    );
  }
  if (r.warning) text.push(`warning: ${r.warning}`);
  if (r.sheet) text.push(`contact sheet: ${r.sheet}`);
  return { json: r, text };
}
