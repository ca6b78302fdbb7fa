// The view of a `dfer synth` result.
import type { SynthResult } from '../synth/generate.js';
import type { View } from './output.js';
import { percent, table } from './table.js';

export function synthView(r: SynthResult): View {
  const s = r.settings as { size: number; intensity: { a: number; b: number }; seed: number };
  const text = [
    `generated ${r.clips} clips (${r.frames} frames at ${s.size}x${s.size} px${r.videos ? ', with mp4 videos' : ''}) into ${r.out} in ${r.seconds.toFixed(1)} s` +
      (r.resumed ? ` (${r.resumed} written by an earlier run)` : ''),
    `seed ${s.seed}; ${r.identities} people, each in the test split of one fold only; apex intensity ~ Beta(${s.intensity.a}, ${s.intensity.b}): ` +
      `${percent(r.lowIntensity.below025)} of clips below 0.25, ${percent(r.lowIntensity.below05)} below 0.5`,
    '',
    ...table(
      ['class', 'clips', 'share'],
      r.classes.map((c, i) => [c, r.perClass[i], percent(r.perClass[i] / r.clips)]),
    ),
    '',
    ...table(
      ['fold', 'train', 'test'],
      r.folds.map((f) => [f.fold, f.train, f.test]),
    ),
    '',
    `DFEW layout: EmoLabel_DataSplit/, Clip/clip_224x224/${r.videos ? ', Clip/original/' : ''}; per-clip intensity and parameters in metadata.csv`,
    `next: dfer prepare ${r.out} --out <prepared set>`,
  ];
  const { settings, ...rest } = r;
  return { json: { ...rest, settings }, text };
}
