// A miniature DFEW release on disk (real layout and CSV format), with frames as small JPEGs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeJpeg } from '../../src/data/images.js';
import { flatFrame } from './tinyset.js';

export interface TreeClip {
  id: number; // DFEW clip number
  label: number; // 1..7 as in the release CSVs
  frames: number; // JPEG files written (0: an empty folder; -1: no folder at all)
}

/** Clip k is in the test split of fold (k % 5) + 1 and in the train split of the other four. */
export async function makeDfewTree(root: string, clips: TreeClip[], size = 24): Promise<void> {
  const split = join(root, 'EmoLabel_DataSplit');
  for (const kind of ['train', 'test']) mkdirSync(join(split, `${kind}(single-labeled)`), { recursive: true });
  for (let fold = 1; fold <= 5; fold++) {
    const rows = (test: boolean) =>
      clips.filter((_, k) => (k % 5 === fold - 1) === test).map((c) => `${String(c.id).padStart(5, '0')},${c.label}`);
    writeFileSync(
      join(split, 'train(single-labeled)', `set_${fold}.csv`),
      ['video_name,label', ...rows(false)].join('\n') + '\n',
    );
    writeFileSync(
      join(split, 'test(single-labeled)', `set_${fold}.csv`),
      ['video_name,label', ...rows(true)].join('\n') + '\n',
    );
  }
  for (const c of clips) {
    if (c.frames < 0) continue;
    const dir = join(root, 'Clip', 'clip_224x224', String(c.id).padStart(5, '0'));
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < c.frames; f++) {
      writeFileSync(join(dir, `${f + 1}.jpg`), await encodeJpeg(flatFrame(size, (6 * f + 5 + c.id) % 250), 90));
    }
  }
}
