// dfer runs' browser driven with keystrokes (ink-testing-library): moving, opening a run, marking and comparing two,
// and the actions it hands back (evaluate, resume, quit). The runs are written as the trainer leaves them.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { indexRuns } from '../../src/train/runs-index.js';
import { type BrowserAction, RunsBrowser } from '../../src/ui/runs-browser.js';
import { metricsOf } from './script.js';

const CLASSES = ['happiness', 'sadness'];

function writeRun(dir: string, o: { ial: boolean; hits?: [number, number]; epochs?: number }) {
  mkdirSync(dir, { recursive: true });
  const model = { imageSize: 64, stemWidth: 32, dynamicDepth: 3, patchDim: 128, attention: 'gca', classes: CLASSES };
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      train: { data: '/d/synth', fold: '1', seed: 1, epochs: 2, model, loss: { ial: o.ial, lambda: 0.1 } },
      data: '/d/synth',
    }),
  );
  const lines = [1, 2].slice(0, o.epochs ?? 2).map((e) =>
    JSON.stringify({
      type: 'epoch',
      epoch: e,
      globalStep: e * 10,
      trainLoss: { total: 2 / e },
      val: { uar: 0.3 + e / 10 },
    }),
  );
  writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
  writeFileSync(join(dir, 'last.json'), '{}');
  writeFileSync(join(dir, 'last.safetensors'), '');
  if (o.hits) {
    const metrics = metricsOf([
      [o.hits[0], 10 - o.hits[0]],
      [10 - o.hits[1], o.hits[1]],
    ]);
    writeFileSync(
      join(dir, 'results.json'),
      JSON.stringify({ split: 'test', fold: '1', selectedOn: 'val', bestEpoch: 2, metrics }),
    );
  }
}

const tick = () => new Promise((r) => setTimeout(r, 100));
const DOWN = '\u001B[B';
const ENTER = '\r';
const ESC = '\u001B';

test('move, open, mark two and compare them, then resume the interrupted one', async () => {
  const root = mkdtempSync(join(tmpdir(), 'dfer-browser-'));
  writeRun(join(root, 'a'), { ial: false, hits: [5, 6] });
  writeRun(join(root, 'b'), { ial: true, hits: [7, 8] });
  writeRun(join(root, 'c'), { ial: true, epochs: 1 });
  const rows = indexRuns([root]);
  const actions: BrowserAction[] = [];
  const ui = render(<RunsBrowser rows={rows} width={120} onAction={(a) => actions.push(a)} />);
  await tick();
  expect(ui.lastFrame()).toMatch(/a +finished +2\/2 +50\.00 +55\.00 +55\.00 false/);
  expect(ui.lastFrame()).toMatch(/c +interrupted +1\/2/);

  ui.stdin.write(ENTER); // open a
  await tick();
  expect(ui.lastFrame()).toMatch(/test UAR 55\.00% WAR 55\.00%/);
  expect(ui.lastFrame()).toMatch(/loss\.ial=false/);
  ui.stdin.write(ESC);
  await tick();

  ui.stdin.write(' '); // mark a
  await tick();
  ui.stdin.write(DOWN);
  await tick();
  ui.stdin.write(' '); // mark b
  await tick();
  ui.stdin.write('d');
  await tick();
  const compare = ui.lastFrame()!;
  expect(compare).toMatch(/test UAR +55\.00 +75\.00 +\+20\.00/);
  expect(compare).toMatch(/loss\.ial: false → true/);
  ui.stdin.write(ESC);
  await tick();

  ui.stdin.write(DOWN); // c, interrupted
  await tick();
  ui.stdin.write('r');
  await tick();
  expect(actions).toEqual([{ type: 'resume', run: rows[2] }]);
  ui.unmount();
});

test('d without two marked runs, r on a finished run: a note, no action; q quits', async () => {
  const root = mkdtempSync(join(tmpdir(), 'dfer-browser-'));
  writeRun(join(root, 'a'), { ial: false, hits: [5, 6] });
  const actions: BrowserAction[] = [];
  const ui = render(<RunsBrowser rows={indexRuns([root])} width={120} onAction={(a) => actions.push(a)} />);
  await tick();
  ui.stdin.write('d');
  await tick();
  expect(ui.lastFrame()).toContain('mark two runs with space to compare them (0 marked)');
  ui.stdin.write('r');
  await tick();
  expect(ui.lastFrame()).toContain('only an interrupted run resumes (this one is finished)');
  ui.stdin.write('q');
  await tick();
  expect(actions).toEqual([{ type: 'quit' }]);
  ui.unmount();
});
