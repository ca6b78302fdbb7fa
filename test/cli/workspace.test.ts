// The project card's commands typed exactly as written, in a workspace made by `dfer demo`: dfer train,
// dfer eval --fold 3, dfer ablate --gca --ial; and what each says without a workspace.
import { TEST_BACKEND } from '../helpers/backend.js';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, dfer, json, type RunResult } from './run.js';

let root: string;
let ws: string;
// A user's shell: workspaces found from the working directory, the backend chosen as the tests choose it.
const env = { DFER_WORKSPACE: '', DFER_BACKEND: TEST_BACKEND };
const inWs = (args: string[], extra: NodeJS.ProcessEnv = {}, input?: string) =>
  dfer(args, { ...env, ...extra }, { cwd: ws, input });
const ok = (r: RunResult) => {
  if (r.code !== 0) throw new Error(`exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r;
};

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'dfer-ws-'));
  ws = join(root, 'project');
  ok(await dfer(['demo', '--dir', ws, '--clips', '70', '--epochs', '1', '--backend', TEST_BACKEND], env));
}, 600000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

test('dfer train, typed as is, trains (here: finds finished) fold 1 of the workspace set into runs/<set>/<preset>-fold1', async () => {
  const r = ok(await inWs(['train']));
  expect(r.stdout).toMatch(/^run runs\/synth\/small-fold1: finished 1 epochs/m);
  // The protocol line says where the settings came from.
  expect(r.stderr).toMatch(/protocol synthetic: .*$/m);
  const config = JSON.parse(readFileSync(join(ws, 'runs/synth/small-fold1/config.json'), 'utf8'));
  expect(config.train).toMatchObject({ fold: '1', epochs: 1, batchSize: 8, sampling: { u: 8, v: 1 } });
  expect(config.protocol).toMatchObject({ dataset: 'synthetic', name: 'synthetic' });
}, 300000);

test('dfer train --fold 3, then dfer eval --fold 3 evaluates that run on fold 3 and dfer eval aggregates the folds found', async () => {
  ok(await inWs(['train', '--fold', '3', '--json']));
  expect(existsSync(join(ws, 'runs/synth/small-fold3/results.json'))).toBe(true);

  const e = json<{ checkpoint: string; fold: string; split: string }>(
    ok(await inWs(['eval', '--fold', '3', '--json'])),
  );
  expect(e).toMatchObject({ checkpoint: 'runs/synth/small-fold3/best', fold: '3', split: 'test' });

  const all = json<{ folds: { fold: string; run: string }[]; missing: string[]; mean: { uar: number } }>(
    ok(await inWs(['eval', '--json'])),
  );
  expect(all.folds.map((f) => [f.fold, f.run])).toEqual([
    ['1', 'runs/synth/small-fold1'],
    ['3', 'runs/synth/small-fold3'],
  ]);
  expect(all.missing).toEqual(['2', '4', '5']);
  const plain = ok(await inWs(['eval']));
  expect(plain.stdout).toMatch(/folds without a finished run \(not in the mean\): 2, 4, 5/);

  // A fold nobody trained: one line saying what to run.
  const none = await inWs(['eval', '--fold', '2']);
  expect(none.code).toBe(3);
  expect(none.stderr.trim()).toBe(
    'dfer eval: error: no run of fold 2 at runs/synth/small-fold2; train it with: dfer train --fold 2',
  );
}, 600000);

test("eval refuses the fold-1 run on fold 3's test split (it trained on those clips); --allow-overlap records it", async () => {
  const leak = await inWs(['eval', '-c', 'runs/synth/small-fold1', '--fold', '3']);
  expect(leak.code).toBe(3);
  expect(leak.stderr).toMatch(
    /runs\/synth\/small-fold1: trained or selected on \d+ of the 14 clips of fold 3's test split .*evaluate it on its own fold \(1\)/,
  );
  const out = join(root, 'leak');
  ok(await inWs(['eval', '-c', 'runs/synth/small-fold1', '--fold', '3', '--allow-overlap', '--out', out, '--json']));
  expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).overlap).toMatchObject({ of: 14, allowed: true });
}, 300000);

test('runs piped in: dfer eval --runs - reads one path a line (ls -d, and the directory headers of ls dir/*/)', async () => {
  const a = json<{ folds: { run: string }[] }>(
    ok(await inWs(['eval', '--runs', '-', '--json'], {}, 'runs/synth/small-fold1/\nruns/synth/small-fold3/\n')),
  );
  expect(a.folds.map((f) => f.run)).toEqual(['runs/synth/small-fold1/', 'runs/synth/small-fold3/']);
  const lsOutput = 'runs/synth/small-fold1/:\nbest.json\nconfig.json\n\nruns/synth/small-fold3/:\nbest.json\n';
  const b = json<{ folds: { run: string }[] }>(ok(await inWs(['eval', '--runs', '-', '--json'], {}, lsOutput)));
  expect(b.folds.map((f) => f.run)).toEqual(['runs/synth/small-fold1/', 'runs/synth/small-fold3/']);
  const empty = await inWs(['eval', '--runs', '-'], {}, '\n');
  expect(empty.code).toBe(2);
  expect(empty.stderr).toMatch(/--runs -: standard input held no paths/);
}, 300000);

test('dfer ablate --gca --ial runs the 2x2 grid on the workspace set, into runs/<set>/ablate-gca-ial; --fold is --folds', async () => {
  const r = json<{ cells: { setting: string; runs: number }[] }>(
    ok(await inWs(['ablate', '--gca', '--ial', '--fold', '2', '--json'])),
  );
  expect(r.cells.map((c) => [c.setting, c.runs])).toEqual([
    ['no-gca-no-ial', 1],
    ['no-gca-ial', 1],
    ['gca-no-ial', 1],
    ['gca-ial', 1],
  ]);
  expect(existsSync(join(ws, 'runs/synth/ablate-gca-ial/gca-ial/fold2-seed1/results.json'))).toBe(true);
  // Each run trained with the workspace's recipe.
  const config = JSON.parse(
    readFileSync(join(ws, 'runs/synth/ablate-gca-ial/gca-ial/fold2-seed1/config.json'), 'utf8'),
  );
  expect(config.train).toMatchObject({ fold: '2', epochs: 1, batchSize: 8, sampling: { u: 8 } });
}, 600000);

test('dfer config shows each value and where it came from: flags > DFER_* > dfer.json > protocol > defaults', async () => {
  const c = json<{ workspace: string; settings: Record<string, { value: unknown; from: string }>; runDir: string }>(
    ok(await inWs(['config', '--json'], { DFER_LR: '0.02' })),
  );
  expect(c.workspace).toBe(join(ws, 'dfer.json'));
  expect(c.settings.epochs).toEqual({ value: 1, from: join(ws, 'dfer.json') });
  expect(c.settings.lr).toEqual({ value: 0.02, from: 'env DFER_LR' });
  expect(c.settings.momentum).toEqual({ value: 0.9, from: 'default' });
  expect(c.runDir).toBe('runs/synth/small-fold1');
  const bad = await inWs(['config'], { DFER_EPOCHS: 'many' });
  expect(bad.code).toBe(3);
  expect(bad.stderr.trim()).toBe('dfer config: error: DFER_EPOCHS=many: not an integer');
  // A flag beats the environment, which beats the workspace: the run directory and the config record it.
  const t = await inWs(['train', '--fold', '4', '--epochs', '1', '--json'], { DFER_EPOCHS: '7', DFER_SEED: '3' });
  ok(t);
  const config = JSON.parse(readFileSync(join(ws, 'runs/synth/small-fold4-seed3/config.json'), 'utf8'));
  expect(config.train).toMatchObject({ epochs: 1, seed: 3 });
}, 300000);

test('dfer train --folds trains the folds one after the other, then prints the cross-validation summary', async () => {
  const r = ok(await inWs(['train', '--folds', '2,5', '--json']));
  const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  expect(last.folds.map((f: { fold: string; run: string }) => [f.fold, f.run])).toEqual([
    ['2', 'runs/synth/small-fold2'],
    ['5', 'runs/synth/small-fold5'],
  ]);
  expect(typeof last.mean.uar).toBe('number');
  const bad = await inWs(['train', '--folds', '1,7']);
  expect(bad.code).toBe(3);
  expect(bad.stderr.trim()).toBe('dfer train: error: --fold 7: data/synth has folds 1, 2, 3, 4, 5');
}, 600000);

test('a bad value from DFER_* or dfer.json names where it came from; a stale DFER_DATA too', async () => {
  const metric = await inWs(['train', '--fold', '2'], { DFER_SELECT_METRIC: 'acc' });
  expect(metric.code).toBe(3);
  expect(metric.stderr.trim()).toBe(
    'dfer train: error: --select-metric acc: choose one of war, uar (set by env DFER_SELECT_METRIC)',
  );
  const zero = await inWs(['train', '--fold', '2'], { DFER_EPOCHS: '0' });
  expect(zero.stderr.trim()).toBe('dfer train: error: --epochs 0: must be a positive integer (set by env DFER_EPOCHS)');
  const stale = await inWs(['config'], { DFER_DATA: 'data/gone' });
  expect(stale.code).toBe(3);
  expect(stale.stderr.trim()).toMatch(
    /^dfer config: error: data\/gone: not a prepared dataset, no manifest\.json \(run dfer prepare first\) \(named by env DFER_DATA\)$/,
  );
});

test('a moved workspace keeps working: its runs find their data again, and are not retrained', async () => {
  const moved = join(root, 'moved');
  cpSync(ws, moved, { recursive: true });
  const e = json<{ fold: string; data: string }>(
    ok(await dfer(['eval', '--fold', '3', '--json'], env, { cwd: moved })),
  );
  expect(e.data).toBe('data/synth'); // the copy's own data, not the original's
  const t = ok(await dfer(['train', '--fold', '3'], env, { cwd: moved }));
  expect(t.stdout).toMatch(/^run runs\/synth\/small-fold3: finished 1 epochs \(0 in this session\)/m);
}, 300000);

test('more epochs for a finished run: its old test result goes at once, so a stop midway leaves no stale result', async () => {
  ok(await inWs(['train', '--fold', '5', '--epochs', '1', '--val-fraction', '0', '--out', 'runs/extend']));
  expect(existsSync(join(ws, 'runs/extend/results.json'))).toBe(true);
  // Stop at once (Ctrl-C after the first step): the run is resumable and not finished.
  const child = spawn(
    process.execPath,
    [BIN, 'train', '--fold', '5', '--epochs', '2', '--val-fraction', '0', '--out', 'runs/extend', '--json'],
    { cwd: ws, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
    if (out.includes('"type":"step"') && !child.killed) child.kill('SIGINT');
  });
  const code = await new Promise((done) => child.on('close', done));
  expect(code).toBe(130);
  expect(existsSync(join(ws, 'runs/extend/results.json'))).toBe(false);
}, 300000);

describe('without a workspace', () => {
  let empty: string;
  beforeAll(() => {
    empty = join(root, 'elsewhere');
    mkdirSync(empty, { recursive: true });
  });

  test.each([[['train']], [['eval', '--fold', '3']], [['ablate', '--gca', '--ial']]])(
    'dfer %j says in one line what to run, exit 2',
    async (args) => {
      const r = await dfer(args, env, { cwd: empty });
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/no prepared set: pass --(data|checkpoint).*dfer init --data <prepared set>/);
    },
  );

  test('dfer init --data makes one there (training defaults from train flags); a bad value or a non-set is refused', async () => {
    const dir = join(root, 'fresh');
    mkdirSync(dir);
    const r = json<{ created: boolean; workspace: Record<string, unknown> }>(
      ok(
        await dfer(['init', '--data', join(ws, 'data', 'synth'), '--preset', 'small', '--epochs', '2', '--json'], env, {
          cwd: dir,
        }),
      ),
    );
    expect(r.created).toBe(true);
    expect(r.workspace).toEqual({ version: 1, data: join(ws, 'data', 'synth'), train: { preset: 'small', epochs: 2 } });
    // Run again with another value: updated, saying what changed.
    const again = ok(await dfer(['init', '--epochs', '3'], env, { cwd: dir }));
    expect(again.stdout).toMatch(/updated the workspace dfer\.json: train\.epochs: 3 \(was 2\)/);
    const notSet = await dfer(['init', '--data', dir], env, { cwd: dir });
    expect(notSet.code).toBe(3);
    expect(notSet.stderr).toMatch(/not a prepared dataset, no manifest\.json \(run dfer prepare first\)/);
    const badValue = await dfer(['init', '--preset', 'huge'], env, { cwd: dir });
    expect(badValue.code).toBe(3);
    expect(badValue.stderr).toMatch(/--preset huge: choose one of paper, small/);
    expect(JSON.parse(readFileSync(join(dir, 'dfer.json'), 'utf8')).train).toEqual({ preset: 'small', epochs: 3 });
  }, 120000);

  test("dfer demo --dir sub inside a workspace makes sub its own workspace and leaves the parent's alone", async () => {
    const parent = join(root, 'parent');
    mkdirSync(parent);
    ok(
      await dfer(['init', '--data', join(ws, 'data', 'synth'), '--lr', '0.01', '--select-on', 'test'], env, {
        cwd: parent,
      }),
    );
    const before = readFileSync(join(parent, 'dfer.json'), 'utf8');
    ok(
      await dfer(['demo', '--dir', 'sub', '--clips', '35', '--epochs', '1', '--backend', TEST_BACKEND], env, {
        cwd: parent,
      }),
    );
    expect(readFileSync(join(parent, 'dfer.json'), 'utf8')).toBe(before);
    expect(JSON.parse(readFileSync(join(parent, 'sub', 'dfer.json'), 'utf8'))).toMatchObject({
      data: 'data/synth',
      train: { preset: 'small' },
    });
    const config = JSON.parse(readFileSync(join(parent, 'sub', 'runs/synth/small-fold1/config.json'), 'utf8'));
    expect(config.train).toMatchObject({ selectOn: 'val', optimizer: { lr: 0.005 } });
  }, 300000);

  test('a damaged dfer.json is named in one line, exit 3', async () => {
    const dir = join(root, 'damaged');
    mkdirSync(dir);
    writeFileSync(join(dir, 'dfer.json'), '{"version": 1, "data": 3}');
    const r = await dfer(['train'], env, { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stderr.trim()).toBe(
      `dfer train: error: ${join(dir, 'dfer.json')}: "data" must be a path (a non-empty string)`,
    );
  });
});
