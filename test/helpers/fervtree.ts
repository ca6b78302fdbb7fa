// A miniature FERV39k release on disk in the real layout: 4_setups/All_scenes/{train,test}_All.csv (no header,
// `Scene/Emotion/0010 Emotion` lines) and frames as small JPEGs in 2_ClipsforFaceCrop/<Scene>/<Emotion>/<clip>/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeJpeg } from '../../src/data/images.js';
import { flatFrame } from './tinyset.js';

const EMOTIONS = ['Happy', 'Sad', 'Neutral', 'Angry', 'Surprise', 'Disgust', 'Fear'];
const SCENES = ['Action', 'Interview', 'Talkshow'];

/** `perClass` clips of each of the 7 emotions, every fifth one in the test list; 8 to 12 frames each (FERV39k: >= 8). */
export async function makeFervTree(root: string, perClass: number, size = 24): Promise<void> {
  const setup = join(root, '4_setups', 'All_scenes');
  mkdirSync(setup, { recursive: true });
  const lines = { train: [] as string[], test: [] as string[] };
  let k = 0;
  for (const emotion of EMOTIONS) {
    for (let i = 0; i < perClass; i++, k++) {
      const path = `${SCENES[k % SCENES.length]}/${emotion}/${String(i + 1).padStart(4, '0')}`;
      (k % 5 === 4 ? lines.test : lines.train).push(`${path} ${emotion}`);
      const dir = join(root, '2_ClipsforFaceCrop', path);
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 8 + (k % 5); f++)
        writeFileSync(
          join(dir, `${String(f + 1).padStart(3, '0')}.jpg`),
          await encodeJpeg(flatFrame(size, (6 * f + 5 + 9 * k) % 250), 90),
        );
    }
  }
  writeFileSync(join(setup, 'train_All.csv'), lines.train.join('\n') + '\n');
  writeFileSync(join(setup, 'test_All.csv'), lines.test.join('\n') + '\n');
}
