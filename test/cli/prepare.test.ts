import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { makeDfewTree } from '../helpers/dfewtree.js';
import { dfer, json } from './run.js';

let work: string;
let root: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dfer-cli-prep-'));
  root = join(work, 'DFEW');
  await makeDfewTree(root, [
    { id: 1, label: 1, frames: 20 },
    { id: 2, label: 4, frames: 16 },
    { id: 3, label: 7, frames: 12 },
    { id: 4, label: 2, frames: 0 }, // empty folder -> skipped
    { id: 5, label: 3, frames: 33 },
  ]);
});

test('prepare --json: a usable set with skipped clips exits 4 and reports them', async () => {
  const out = join(work, 'set');
  const r = await dfer(['prepare', root, '--out', out, '--size', '32', '--json']);
  expect(r.code).toBe(4);
  const res = json<{
    counts: { clips: number; skipped: number };
    folds: Record<string, { train: number; test: number }>;
    issues: { reason: string }[];
  }>(r);
  expect(res.counts).toMatchObject({ clips: 4, skipped: 1 });
  expect(Object.keys(res.folds)).toHaveLength(5);
  expect(res.issues.some((i) => /no frames|skipped/.test(i.reason))).toBe(true);
  // progress went to stderr as JSON lines
  expect(
    r.stderr
      .trim()
      .split('\n')
      .every((l) => JSON.parse(l).type),
  ).toBe(true);
  // running it again keeps the 4 finished clips and tries the skipped one again (still empty: skipped again)
  const again = await dfer(['prepare', root, '--out', out, '--size', '32', '--json']);
  expect(again.code).toBe(4);
  expect(json<{ fingerprint: string; resumed: number; counts: { skipped: number } }>(again)).toMatchObject({
    resumed: 4,
    counts: { skipped: 1 },
  });
});

test('prepare: a missing source is one line, exit 3; sample: indices and a contact sheet', async () => {
  const bad = await dfer(['prepare', join(work, 'nope'), '--out', join(work, 'x')]);
  expect(bad.code).toBe(3);
  expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  expect(bad.stderr).toMatch(/nope/);

  const out = join(work, 'set2');
  expect((await dfer(['prepare', root, '--out', out, '--size', '32', '--json'])).code).toBe(4);
  const t = await dfer(['sample', out, '--clip', '00005', '--mode', 'test', '--json']);
  expect(t.code).toBe(0);
  const tick = 33 / 16;
  expect(json<{ indices: number[] }>(t).indices).toEqual(
    Array.from({ length: 16 }, (_, u) => Math.floor(tick / 2 + tick * u)),
  );
  const deg = json<{ warning?: string }>(await dfer(['sample', out, '--clip', '00002', '--mode', 'test', '--json']));
  expect(deg.warning).toMatch(/frame 0/);

  const sheet = join(work, 'sheet.png');
  const s = await dfer(['sample', out, '--clip', '00001', '--augment', '--sheet', sheet]);
  expect(s.code).toBe(0);
  expect(s.stdout).toMatch(/contact sheet/);
  expect(existsSync(sheet)).toBe(true);
  const meta = await sharp(sheet).metadata();
  expect(meta.width).toBe(8 * 34 + 2);
  expect(meta.height).toBe(2 * 34 + 2);

  const unknown = await dfer(['sample', out, '--clip', '99999']);
  expect(unknown.code).toBe(3);
  expect(unknown.stderr).toMatch(/no clip "99999"/);
});
