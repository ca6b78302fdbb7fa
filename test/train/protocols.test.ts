// Dataset-aware defaults on sets prepared from the real layouts: FERV39k trains with U=8 x V=2 for 100 epochs on its
// one
// split, MAFW with 11 classes over 5 folds; the precedence of every other source over the protocol; and a bare
// checkpoint evaluated with the sampling it was trained with.
import { TEST_BACKEND } from '../helpers/backend.js';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareDataset } from '../../src/prepare/prepare.js';
import { PreparedSet } from '../../src/data/store.js';
import { checkpointSampling, readCheckpointMeta } from '../../src/model/checkpoint.js';
import { OptionError, resolveTrainSettings, trainOptionsFor, NoDataError } from '../../src/train/options.js';
import { readWorkspace } from '../../src/workspace.js';
import { dfer, json } from '../cli/run.js';
import { makeFervTree } from '../helpers/fervtree.js';
import { makeMafwTree } from '../helpers/mafwtree.js';
import { MAFW_CLASSES } from '../../src/data/classes.js';

let tmp: string;
let ferv: string;
let mafw: string;
const SETTINGS = { size: 40, quality: 90, frames: 16, minFrames: 0 };

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'dfer-protocols-'));
  await makeFervTree(join(tmp, 'FERV39k'), 5);
  ferv = join(tmp, 'ferv39k');
  await prepareDataset({ source: join(tmp, 'FERV39k'), out: ferv, settings: SETTINGS, strict: true });
  // 15 MAFW clips over 11 classes, as tiny real videos.
  const clips = Array.from({ length: 15 }, (_, k) => ({
    id: String(k + 1).padStart(5, '0'),
    label: MAFW_CLASSES[k % 11],
  }));
  await makeMafwTree(join(tmp, 'MAFW'), clips, { videos: true });
  mafw = join(tmp, 'mafw');
  await prepareDataset({ source: join(tmp, 'MAFW'), out: mafw, settings: SETTINGS, strict: false });
}, 300000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test('a set knows its dataset from the layout it was prepared from', () => {
  expect(PreparedSet.open(ferv).dataset).toBe('ferv39k');
  expect(PreparedSet.open(mafw).dataset).toBe('mafw');
  expect(PreparedSet.open(mafw).manifest.classes).toEqual([...MAFW_CLASSES]);
});

test("FERV39k: the paper's U=8 x V=2, 100 epochs, batch 40, lambda 0.1, and its one split", () => {
  const r = resolveTrainSettings({ flags: { data: ferv } });
  expect(r.dataset).toBe('ferv39k');
  expect(r.folds).toEqual(['1']);
  for (const [k, v] of Object.entries({ u: 8, v: 2, epochs: 100, batch: 40, lambda: 0.1 })) {
    expect([k, (r.settings as Record<string, unknown>)[k], r.sources[k]]).toEqual([k, v, 'ferv39k protocol']);
  }
  const o = trainOptionsFor(r);
  expect(o.sampling).toEqual({ u: 8, v: 2, rule: 'official' });
  expect(o.model.frames).toBe(16);
  expect(o.epochs).toBe(100);
  expect(o.out).toBe(join('runs', 'ferv39k', 'paper-fold1'));
  expect(o.protocol).toMatchObject({
    dataset: 'ferv39k',
    fromProtocol: ['u', 'v', 'epochs', 'batch', 'lambda'],
    overridden: [],
  });
  expect(() => trainOptionsFor(r, '2')).toThrow(
    new OptionError(`--fold 2: ${ferv} has only fold 1 (FERV39k's one official train/test split)`),
  );
});

test('MAFW: 11 classes reach the classifier; 5 folds; DFEW settings', () => {
  const r = resolveTrainSettings({ flags: { data: mafw } });
  expect(r.dataset).toBe('mafw');
  expect(r.folds).toEqual(['1', '2', '3', '4', '5']);
  const o = trainOptionsFor(r, '3');
  expect(o.model.numClasses).toBe(11);
  expect(o.model.classes).toEqual([...MAFW_CLASSES]);
  expect(o.sampling).toEqual({ u: 16, v: 1, rule: 'official' });
  expect(r.sources.epochs).toBe('mafw protocol');
});

test('precedence: flags > --config > DFER_* > dfer.json > dataset protocol > defaults, each recorded', () => {
  const dir = join(tmp, 'ws');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'dfer.json'),
    JSON.stringify({ version: 1, data: ferv, runs: 'experiments', train: { epochs: 30, u: 4, lr: 0.01, batch: 16 } }),
  );
  const workspace = readWorkspace(join(dir, 'dfer.json'));
  const r = resolveTrainSettings({
    workspace,
    env: { DFER_EPOCHS: '20', DFER_U: '6', DFER_IAL: 'false' },
    config: { file: 'x.json', settings: { epochs: 10, lr: 0.02 } },
    flags: { epochs: 5 },
  });
  expect(r.settings).toMatchObject({
    epochs: 5,
    lr: 0.02,
    u: 6,
    ial: false,
    batch: 16,
    v: 2,
    momentum: 0.9,
    data: ferv,
  });
  expect(r.sources).toMatchObject({
    epochs: 'flag',
    lr: '--config x.json',
    u: 'env DFER_U',
    ial: 'env DFER_IAL',
    batch: workspace.file,
    data: workspace.file,
    v: 'ferv39k protocol',
    momentum: 'default',
  });
  const o = trainOptionsFor(r);
  expect(o.out).toBe(join(dir, 'experiments', 'ferv39k', 'paper-fold1-noial'));
  expect(o.protocol!.overridden).toEqual([
    { setting: 'u', value: 6, from: 'env DFER_U' },
    { setting: 'epochs', value: 5, from: 'flag' },
    { setting: 'batch', value: 16, from: workspace.file },
  ]);
  expect(() => resolveTrainSettings({ env: { DFER_BATCH: '4.5' }, flags: { data: ferv } })).toThrow(
    'DFER_BATCH=4.5: not an integer',
  );
  expect(() => resolveTrainSettings({})).toThrow(NoDataError);
  writeFileSync(join(dir, 'dfer.json'), JSON.stringify({ version: 1, train: { epoch: 3 } }));
  expect(() =>
    resolveTrainSettings({ workspace: readWorkspace(join(dir, 'dfer.json')), flags: { data: ferv } }),
  ).toThrow(/dfer\.json "train": unknown option\(s\) epoch/);
});

test('dfer train on FERV39k samples U=8 x V=2 without being told; the checkpoint carries it, so a bare copy is evaluated the same way', async () => {
  const out = join(tmp, 'ferv-run');
  const r = await dfer([
    'train',
    '--data',
    ferv,
    '--preset',
    'small',
    '--epochs',
    '1',
    '--batch',
    '4',
    '--workers',
    '0',
    '--out',
    out,
    '--backend',
    TEST_BACKEND,
    '--json',
  ]);
  expect(r.code).toBe(0);
  const start = JSON.parse(r.stdout.split('\n')[0]);
  expect(start.protocol).toMatchObject({
    dataset: 'ferv39k',
    overridden: [
      { setting: 'epochs', value: 1, from: 'flag' },
      { setting: 'batch', value: 4, from: 'flag' },
    ],
  });
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  expect(config.train.sampling).toEqual({ u: 8, v: 2, rule: 'official' });
  expect(config.protocol.name).toBe('FERV39k');
  expect(checkpointSampling(readCheckpointMeta(join(out, 'best')))).toEqual({ u: 8, v: 2, rule: 'official' });

  const bare = join(tmp, 'bare');
  mkdirSync(bare);
  for (const ext of ['json', 'safetensors']) copyFileSync(join(out, `best.${ext}`), join(bare, `model.${ext}`));
  const e = await dfer([
    'eval',
    '-c',
    join(bare, 'model'),
    '--data',
    ferv,
    '--fold',
    '1',
    '--backend',
    TEST_BACKEND,
    '--json',
  ]);
  expect(e.code).toBe(0);
  expect(json<{ sampling: unknown }>(e).sampling).toEqual({ u: 8, v: 2 });
}, 300000);

test('dfer train on MAFW trains an 11-class classifier', async () => {
  const out = join(tmp, 'mafw-run');
  const r = await dfer([
    'train',
    '--data',
    mafw,
    '--fold',
    '2',
    '--preset',
    'small',
    '--epochs',
    '1',
    '--batch',
    '4',
    '--u',
    '4',
    '--val-fraction',
    '0',
    '--workers',
    '0',
    '--out',
    out,
    '--backend',
    TEST_BACKEND,
    '--json',
  ]);
  expect(r.code).toBe(0);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  expect(config.train.model.numClasses).toBe(11);
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  expect(results.metrics.confusion).toHaveLength(11);
}, 300000);
