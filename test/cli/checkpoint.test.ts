// import -> predict -> export on the authors' golden weights and batch: one import, shared by every test here.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors } from '../../src/model/safetensors.js';
import { golden, GOLDEN_CASE, GOLDEN_WEIGHTS, relError } from '../helpers/golden.js';
import { dfer, json, lines, tmpDir, type RunResult } from './run.js';

const CLASSES = ['happiness', 'sadness', 'neutral', 'anger', 'surprise', 'disgust', 'fear'];

interface ImportJson {
  backend: string;
  checkpoint: { weights: string; meta: string };
  loaded: number;
  ignored: string[];
  source: string;
}

interface PredictJson {
  backend: string;
  checkpoint: string;
  clips: { index: number; logits: number[]; probabilities: number[]; label: string; features: number[] }[];
}

const tmp = tmpDir();
const ckpt = join(tmp.path, 'ckpt', 'paper');
let imported: RunResult;

beforeAll(async () => {
  imported = await dfer(['import', GOLDEN_WEIGHTS, '--preset', 'paper', '--out', ckpt, '--json']);
});
afterAll(() => tmp.cleanup());

describe('dfer import (golden weights)', () => {
  test('writes the checkpoint pair, records the source, reports loaded and ignored tensors', () => {
    expect(imported.code).toBe(0);
    const r = json<ImportJson>(imported);
    expect(r.checkpoint).toEqual({ weights: `${ckpt}.safetensors`, meta: `${ckpt}.json` });
    expect(existsSync(r.checkpoint.weights)).toBe(true);
    const meta = JSON.parse(readFileSync(r.checkpoint.meta, 'utf8'));
    expect(meta).toMatchObject({
      format: 'dfer-checkpoint',
      source: `torch:${GOLDEN_WEIGHTS}`,
      config: { imageSize: 112, classes: CLASSES },
    });
    expect(r.source).toBe(meta.source);
    expect(r.loaded + r.ignored.length).toBe(golden().weights.size);
    expect(r.ignored).toContain('s_former.bias');
  });
});

describe('dfer predict', () => {
  test('--json: 2 clips, 7 logits and probabilities summing to 1, 4096 features, the golden logits', async () => {
    const r = await dfer(['predict', '--checkpoint', ckpt, '--input', GOLDEN_CASE, '--json']);
    expect(r.code).toBe(0);
    const p = json<PredictJson>(r);
    expect(p.checkpoint).toBe(ckpt);
    expect(typeof p.backend).toBe('string');
    expect(p.clips).toHaveLength(2);
    const expected = golden().batch.get('eval.logits')!.data;
    p.clips.forEach((c, i) => {
      expect(c.index).toBe(i);
      expect(c.logits).toHaveLength(7);
      expect(c.probabilities).toHaveLength(7);
      expect(c.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(c.features).toHaveLength(4096);
      expect(CLASSES).toContain(c.label);
      expect(c.label).toBe(CLASSES[c.logits.indexOf(Math.max(...c.logits))]);
      expect(relError(c.logits, expected.slice(7 * i, 7 * i + 7))).toBeLessThan(1e-4);
    });
    // stderr has progress only, as JSON lines
    for (const line of lines(r.stderr)) expect(JSON.parse(line)).toMatchObject({ type: 'progress', unit: 'clips' });
  });

  test('-i - reads the inputs from standard input, one a line: one result per input, in order, with one model load', async () => {
    const r = await dfer(
      ['predict', '-c', ckpt, '-i', '-', '--json'],
      {},
      { input: `${GOLDEN_CASE}\n\n# a comment\n${GOLDEN_CASE}\n` },
    );
    expect(r.code).toBe(0);
    const p = json<{ checkpoint: string; inputs: { input: string; clips: PredictJson['clips'] }[] }>(r);
    expect(p.checkpoint).toBe(ckpt);
    expect(p.inputs.map((i) => [i.input, i.clips.length])).toEqual([
      [`${GOLDEN_CASE}[input.clip_btchw]`, 2],
      [`${GOLDEN_CASE}[input.clip_btchw]`, 2],
    ]);
    const expected = golden().batch.get('eval.logits')!.data;
    expect(relError(p.inputs[1].clips[1].logits, expected.slice(7, 14))).toBeLessThan(1e-4);
  });

  test('plain: a table of clip, label, probability and top 3; progress per batch on stderr', async () => {
    const r = await dfer(['predict', '-c', ckpt, '-i', GOLDEN_CASE, '--batch', '1']);
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out[1]).toMatch(/^clip +label +p +top 3$/);
    expect(out.slice(2)).toHaveLength(2);
    for (const [i, row] of out.slice(2).entries()) {
      expect(row).toMatch(
        new RegExp(`^ +${i}  (${CLASSES.join('|')}) +\\d+\\.\\d%  (\\w+ \\d+\\.\\d%, ){2}\\w+ \\d+\\.\\d%$`),
      );
    }
    expect(lines(r.stderr)).toEqual(['dfer predict: classify 1/2 clips', 'dfer predict: classify 2/2 clips']);
  });

  test('input errors name the key: a missing key lists the available ones, a wrong shape gives the expected one', async () => {
    const missing = await dfer(['predict', '-c', ckpt, '-i', GOLDEN_CASE, '--key', 'input.nope']);
    expect(missing.code).toBe(3);
    expect(lines(missing.stderr)).toEqual([
      expect.stringMatching(
        /^dfer predict: error: .*case1\.safetensors: no tensor input\.nope; available: input\.clip_btchw \[2,16,3,112,112\]/,
      ),
    ]);

    const file = join(tmp.path, 'short-clips.safetensors');
    writeSafetensors(
      file,
      new Map([['clips', { dtype: 'F32', shape: [1, 8, 3, 112, 112], data: new Float32Array(8 * 3 * 112 * 112) }]]),
    );
    const shape = await dfer(['predict', '-c', ckpt, '-i', file, '--key', 'clips', '--json']);
    expect(shape.code).toBe(3);
    expect(json(shape)).toEqual({
      error: expect.stringContaining('[clips]: shape [1,8,3,112,112], expected (N, 16, 3, 112, 112)'),
      code: 3,
    });
    expect(lines(shape.stderr)).toHaveLength(1);
  });
});

describe('dfer export', () => {
  test('round trip: the golden keys and shapes (plus num_batches_tracked), equal values for every used tensor', async () => {
    const out = join(tmp.path, 'exported.safetensors');
    const r = await dfer(['export', ckpt, '--format', 'torch', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`wrote ${out}`);
    const exported = readSafetensors(out);
    expect(exported.metadata).toEqual({ format: 'pt' });
    const ref = golden().weights;
    const extra = [...exported.tensors.keys()].filter((k) => !ref.has(k));
    expect(extra.length).toBeGreaterThan(0);
    for (const k of extra) {
      expect(k).toMatch(/\.num_batches_tracked$/);
      expect(exported.tensors.get(k)).toMatchObject({ dtype: 'I64', shape: [] });
    }
    const unused = new Set(json<ImportJson>(imported).ignored);
    for (const [name, t] of ref) {
      const e = exported.tensors.get(name);
      expect([name, e?.dtype, e?.shape]).toEqual([name, t.dtype, t.shape]);
      if (!unused.has(name) && !Buffer.from(e!.data.buffer).equals(Buffer.from(t.data.buffer)))
        throw new Error(`${name}: values differ after import + export`);
    }
  });

  test('an --out that cannot be written is bad input: one line naming the path, exit 3', async () => {
    const blocker = join(tmp.path, 'a-file');
    writeFileSync(blocker, '');
    const r = await dfer(['export', ckpt, '--out', join(blocker, 'x.safetensors')]);
    expect(r.code).toBe(3);
    expect(lines(r.stderr)).toEqual([
      expect.stringMatching(/^dfer export: error: (EEXIST|ENOTDIR): .*, mkdir '.*a-file'$/),
    ]);
  });
});
