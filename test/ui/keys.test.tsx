// The training dashboard's keys, driven through the component with ink-testing-library: q stops (through onStop,
// which the CLI wires to its Ctrl-C handler), c switches the confusion matrix between counts and row percentages,
// l widens the loss trend, ? explains the keys; the bottom line says which keys exist. Without keys (piped, --json)
// the dashboard has no keys line.
import { render } from 'ink-testing-library';
import { KEYS_HELP, KEYS_LINE, KeyedDashboard, TrainDashboard } from '../../src/ui/TrainDashboard.js';
import { initialTrainState, reduceTrain, type TrainState } from '../../src/ui/train-state.js';
import { scriptedRun } from './script.js';

/** The state after the scripted run's first epoch with validation (before its test). */
function midRun(): TrainState {
  let s = initialTrainState();
  const events = scriptedRun();
  const upTo = events.findIndex((e) => e.type === 'epoch-end' && e.epoch === 2);
  for (const e of events.slice(0, upTo + 1)) s = reduceTrain(s, e);
  // A longer trend than the narrow sparkline can show: 300 more steps of a falling loss.
  const step = events.find((e) => e.type === 'step')!;
  for (let k = 0; k < 300; k++) {
    const total = 2 - k / 200 + (k % 7) / 20;
    s = reduceTrain(s, { ...step, globalStep: 21 + k, loss: { total, ce: total, ial: 0, aux: 0 } } as typeof step);
  }
  return s;
}

const tick = () => new Promise((r) => setTimeout(r, 30));

test('q stops, c toggles counts and row %, l widens the loss trend, ? explains the keys', async () => {
  const state = midRun();
  const stops: number[] = [];
  const ui = render(<KeyedDashboard state={state} width={100} onStop={() => stops.push(1)} />);
  await tick();
  const counts = ui.lastFrame()!;
  expect(counts).toContain(KEYS_LINE);
  expect(counts).toMatch(/confusion: rows true, columns predicted, counts/);
  expect(counts).not.toMatch(/\d+%\s+·|\b\d{1,3}% +\d{1,3}%/);

  ui.stdin.write('c');
  await tick();
  const percent = ui.lastFrame()!;
  expect(percent).toMatch(/confusion: rows true, columns predicted, row %/);
  expect(percent).toMatch(/\b\d{1,3}%/);
  ui.stdin.write('c');
  await tick();
  expect(ui.lastFrame()).toMatch(/columns predicted, counts/);

  const trendOf = (frame: string) => (frame.match(/[▁▂▃▄▅▆▇█]/g) ?? []).length;
  const narrow = trendOf(ui.lastFrame()!);
  ui.stdin.write('l');
  await tick();
  expect(trendOf(ui.lastFrame()!)).toBeGreaterThan(narrow);

  ui.stdin.write('?');
  await tick();
  expect(ui.lastFrame()).toContain(KEYS_HELP.slice(0, 40));
  expect(stops).toEqual([]);
  ui.stdin.write('q');
  await tick();
  expect(stops).toEqual([1]);
  ui.unmount();
});

test('without keys (not a terminal) no keys line, and counts', async () => {
  const ui = render(<TrainDashboard state={midRun()} width={100} />);
  await tick();
  expect(ui.lastFrame()).not.toContain('keys:');
  expect(ui.lastFrame()).toMatch(/columns predicted, counts/);
  ui.unmount();
});
