// dfer runs on a terminal: the list as an Ink view to move in. ↑/↓ move, Enter opens a run (its settings, curves as
// sparklines, confusion matrix, recall by class and intensity), space marks a run and d compares two marked runs side
// by side (metrics with differences, per-class recall, the settings that differ), e evaluates and r resumes the run
// under the cursor (the browser closes and the command runs it), q or Esc leaves. The runs are read through the core
// (src/train/runs-index.ts); this file only draws and keeps the cursor.
import { Box, Text, useApp, useInput } from 'ink';
import { useRef, useState } from 'react';
import { differingSettings, runDetail, settingsDiff, type RunDetail, type RunRow } from '../train/runs-index.js';
import { ConfusionMatrix, RecallBars } from './ConfusionMatrix.js';
import { abbreviateClasses, duration, pct2 } from './metrics-text.js';
import { sparkline } from './train-state.js';

export type BrowserAction = { type: 'evaluate' | 'resume'; run: RunRow } | { type: 'quit' };

const pctOrDash = (v: number | null) => (v === null ? '-' : pct2(v));
const STATE_COLOUR: Record<RunRow['state'], string> = {
  running: 'cyan',
  finished: 'green',
  interrupted: 'yellow',
  failed: 'red',
};
export const BROWSER_KEYS = '↑/↓ move · Enter open · space mark · d compare 2 marked · e evaluate · r resume · q quit';

function List({
  rows,
  cursor,
  marked,
  width,
}: {
  rows: readonly RunRow[];
  cursor: number;
  marked: ReadonlySet<string>;
  width: number;
}) {
  const differ = differingSettings(rows).filter((k) => k !== 'preset');
  const nameW = Math.min(Math.max(12, ...rows.map((r) => r.path.length)), Math.max(20, width - 60));
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate-end">
        {'  '}
        {'run'.padEnd(nameW)} {'state'.padEnd(11)} {'epochs'.padStart(7)} {'val UAR'.padStart(8)}{' '}
        {'test UAR'.padStart(9)} {'test WAR'.padStart(9)} {differ.map((k) => k.replace(/^\w+\./, '')).join(' ')}
      </Text>
      {rows.map((r, i) => (
        <Text key={r.path} inverse={i === cursor} wrap="truncate-end">
          {marked.has(r.path) ? '● ' : '  '}
          {r.path.slice(-nameW).padEnd(nameW)} <Text color={STATE_COLOUR[r.state]}>{r.state.padEnd(11)}</Text>{' '}
          {`${r.epochsDone}/${r.epochsPlanned}`.padStart(7)} {pctOrDash(r.bestValUar).padStart(8)}{' '}
          {pctOrDash(r.testUar).padStart(9)} {pctOrDash(r.testWar).padStart(9)}{' '}
          {differ.map((k) => String(r.settings[k] ?? '-')).join(' ')}
        </Text>
      ))}
    </Box>
  );
}

function Detail({ d, width }: { d: RunDetail; width: number }) {
  const r = d.row;
  const spark = Math.max(10, Math.min(60, width - 30));
  return (
    <Box flexDirection="column">
      <Text bold>{r.path}</Text>
      <Text>
        {r.state} · {r.set} fold {r.fold} · seed {r.seed} · {r.preset} · epochs {r.epochsDone}/{r.epochsPlanned} · last
        write {duration(r.ageSeconds)} ago
      </Text>
      <Text dimColor wrap="wrap">
        {Object.entries(r.settings)
          .filter(([k]) => !['data', 'fold', 'seed'].includes(k))
          .map(([k, v]) => `${k}=${v}`)
          .join('  ')}
      </Text>
      <Box marginTop={1} flexDirection="column">
        <Text>
          val UAR <Text color="cyan">{sparkline(d.valUar, spark)}</Text> best {pctOrDash(r.bestValUar)}%
        </Text>
        <Text>
          train loss <Text color="cyan">{sparkline(d.trainLoss, spark)}</Text>
        </Text>
        <Text>
          test UAR <Text bold>{pctOrDash(r.testUar)}%</Text> WAR <Text bold>{pctOrDash(r.testWar)}%</Text>
        </Text>
      </Box>
      {d.confusion && d.testRecall ? (
        <Box columnGap={3} marginTop={1} flexWrap="wrap">
          <ConfusionMatrix confusion={d.confusion} classes={d.classes} />
          <RecallBars recall={d.testRecall} classes={d.classes} />
        </Box>
      ) : null}
      {d.byIntensity ? (
        <Text>
          recall by apex intensity:{' '}
          {d.byIntensity.map((b) => `${b.lo.toFixed(2)}-${b.hi.toFixed(2)} ${pct2(b.recall)}%`).join(' · ')}
        </Text>
      ) : null}
      <Text dimColor>Esc or ← back · e evaluate · r resume</Text>
    </Box>
  );
}

function Compare({ a, b }: { a: RunDetail; b: RunDetail }) {
  const classes = abbreviateClasses(a.classes.length ? a.classes : b.classes);
  const diff = (x: number | null, y: number | null) =>
    x === null || y === null ? '' : `${y - x >= 0 ? '+' : ''}${(100 * (y - x)).toFixed(2)}`;
  const metric = (label: string, x: number | null, y: number | null) => (
    <Text key={label}>
      {label.padEnd(12)} {pctOrDash(x).padStart(8)} {pctOrDash(y).padStart(8)} {diff(x, y).padStart(8)}
    </Text>
  );
  const changed = settingsDiff(a.row, b.row);
  return (
    <Box flexDirection="column">
      <Text bold>A {a.row.path}</Text>
      <Text bold>B {b.row.path}</Text>
      <Box marginTop={1} flexDirection="column">
        <Text dimColor>
          {''.padEnd(12)} {'A'.padStart(8)} {'B'.padStart(8)} {'B - A'.padStart(8)}
        </Text>
        {metric('val UAR', a.row.bestValUar, b.row.bestValUar)}
        {metric('test UAR', a.row.testUar, b.row.testUar)}
        {metric('test WAR', a.row.testWar, b.row.testWar)}
        {classes.map((c, i) => metric(`recall ${c}`, a.testRecall?.[i] ?? null, b.testRecall?.[i] ?? null))}
      </Box>
      <Box marginTop={1} flexDirection="column">
        <Text dimColor>settings that differ{changed.length ? '' : ': none'}</Text>
        {changed.map((c) => (
          <Text key={c.key}>
            {c.key}: {String(c.a ?? '-')} → {String(c.b ?? '-')}
          </Text>
        ))}
      </Box>
      <Text dimColor>Esc or ← back</Text>
    </Box>
  );
}

export function RunsBrowser({
  rows,
  width,
  onAction,
}: {
  rows: readonly RunRow[];
  width: number;
  onAction: (a: BrowserAction) => void;
}) {
  const { exit } = useApp();
  // Keys can come faster than renders: the handler reads the cursor and the marks from refs, always current, and the
  // state only draws them.
  const [cursor, setCursorState] = useState(0);
  const [marked, setMarkedState] = useState<ReadonlySet<string>>(new Set());
  const cursorRef = useRef(0);
  const markedRef = useRef<ReadonlySet<string>>(new Set());
  const setCursor = (f: (c: number) => number) => {
    cursorRef.current = f(cursorRef.current);
    setCursorState(cursorRef.current);
  };
  const setMarked = (m: ReadonlySet<string>) => {
    markedRef.current = m;
    setMarkedState(m);
  };
  type View = { kind: 'list' } | { kind: 'detail'; d: RunDetail } | { kind: 'compare'; a: RunDetail; b: RunDetail };
  const [view, setViewState] = useState<View>({ kind: 'list' });
  const viewRef = useRef<View>({ kind: 'list' });
  const setView = (v: View) => {
    viewRef.current = v;
    setViewState(v);
  };
  const [note, setNote] = useState('');
  const leave = (a: BrowserAction) => {
    onAction(a);
    exit();
  };
  useInput((input, key) => {
    const current = rows[cursorRef.current];
    const marked = markedRef.current;
    const view = viewRef.current;
    if (input === 'q' || (key.ctrl && input === 'c')) return leave({ type: 'quit' });
    if (view.kind !== 'list') {
      if (key.escape || key.leftArrow || key.backspace) setView({ kind: 'list' });
      else if (view.kind === 'detail' && (input === 'e' || input === 'r'))
        leave({ type: input === 'e' ? 'evaluate' : 'resume', run: view.d.row });
      return;
    }
    if (key.escape) return leave({ type: 'quit' });
    if (!current) return;
    if (key.upArrow || input === 'k') setCursor((c) => Math.max(0, c - 1));
    else if (key.downArrow || input === 'j') setCursor((c) => Math.min(rows.length - 1, c + 1));
    else if (key.return) setView({ kind: 'detail', d: runDetail(current) });
    else if (input === ' ') {
      const next = new Set(marked);
      if (next.has(current.path)) next.delete(current.path);
      else next.add(current.path);
      setMarked(next);
    } else if (input === 'd') {
      const two = rows.filter((r) => marked.has(r.path));
      if (two.length === 2) setView({ kind: 'compare', a: runDetail(two[0]), b: runDetail(two[1]) });
      else setNote(`mark two runs with space to compare them (${two.length} marked)`);
    } else if (input === 'e') {
      if (current.state === 'finished' || current.state === 'interrupted') leave({ type: 'evaluate', run: current });
      else setNote(`${current.path}: nothing to evaluate yet (${current.state})`);
    } else if (input === 'r') {
      if (current.state === 'interrupted') leave({ type: 'resume', run: current });
      else setNote(`${current.path}: only an interrupted run resumes (this one is ${current.state})`);
    }
  });
  if (view.kind === 'detail') return <Detail d={view.d} width={width} />;
  if (view.kind === 'compare') return <Compare a={view.a} b={view.b} />;
  return (
    <Box flexDirection="column">
      <List rows={rows} cursor={cursor} marked={marked} width={width} />
      <Text dimColor>{note || BROWSER_KEYS}</Text>
    </Box>
  );
}

/** Shows the browser on the terminal until the user leaves it; resolves with what they chose. */
export async function browseRuns(rows: readonly RunRow[]): Promise<BrowserAction> {
  const { render } = await import('ink');
  let action: BrowserAction = { type: 'quit' };
  const width = Math.max(60, process.stdout.columns ?? 100);
  const ink = render(<RunsBrowser rows={rows} width={width} onAction={(a) => (action = a)} />, { exitOnCtrlC: false });
  await ink.waitUntilExit();
  return action;
}
