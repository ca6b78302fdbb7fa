// Training and inference throughput of the GCA+IAL network, per backend and preset: `npm run bench` (see README.md).
//
// The parent process plans the cells (backend x preset x mode x batch) and runs each one in its own child process
// (`node --import tsx bench/throughput.ts --child ...`), so that peak RSS is per cell and a wasm out-of-memory abort
// only loses that cell. Children write one JSON result to a temp file; the parent prints the table (or --json).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const SCRIPT = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SCRIPT), '..');

type Mode = 'infer' | 'train';
type Status = 'ok' | 'oom' | 'error';

interface Cell {
  backend: string;
  preset: string;
  mode: Mode;
  batch: number;
  steps: number; // at most this many measured steps
  warmup: number;
  budget: number; // seconds of measured time after which no new step starts (0 = run all steps)
  retryOf?: number; // the batch that ran out of memory, when this cell is the half-batch retry
}

interface CellResult extends Cell {
  status: Status;
  error?: string;
  measuredSteps: number;
  warmupSeconds: number[];
  stepSeconds: number[];
  medianSeconds: number | null;
  clipsPerSecond: number | null;
  /** clips/s divided by clips/s of the reference backend (wasm when measured) in the same preset/mode/batch. */
  ratio: number | null;
  ratioRef: string | null;
  maxRssMiB: number | null; // process.resourceUsage().maxRSS of the cell's process
  wasmHeapMiB: number | null; // size of the wasm linear memory at the end (it never shrinks: the peak)
  threads: number | null; // wasm backend threads
  /** tf.memory().numTensors after each step (warm-up included); flat after the first step when nothing leaks. */
  tensorsAfterStep: number[];
  tensorsFlat: boolean | null;
  tensorsLeftAfterDispose: number | null;
  lastLoss: number | null;
  wallSeconds: number; // the whole child process, model creation and warm-up included
}

// ---------------------------------------------------------------------------------------------------------------
// Arguments

interface Args {
  backends?: string[];
  presets?: string[];
  modes: Mode[];
  steps?: number;
  warmup: number;
  batch: number;
  budget?: number;
  json: boolean;
  paperBatch40: boolean;
  oomRetry: boolean;
  child: boolean;
  out?: string;
  help: boolean;
}

const USAGE = `usage: npm run bench -- [flags]
  --backends a,b      backends to run (default: every available one; cpu runs only the small preset)
  --presets a,b       presets (default: small,paper)
  --modes a,b         infer,train (default: both)
  --steps N           measured steps per cell (default 5 for small, 3 for paper, capped by --budget)
  --warmup N          unmeasured warm-up steps per cell (default 1)
  --batch N           clips per step (default 8)
  --budget S          no new measured step starts after S seconds of measured time (default 40; 0 = off;
                      ignored when --steps is given, unless --budget is given too)
  --paper-batch40     also train the paper preset at the paper's batch 40 (may run out of wasm memory)
  --no-oom-retry      do not retry a training cell that ran out of memory at half the batch
  --json              print the result array as JSON instead of the table (progress still goes to stderr)`;

function parseArgs(argv: string[]): Args {
  const a: Args = { modes: ['infer', 'train'], warmup: 1, batch: 8, json: false, paperBatch40: false, oomRetry: true, child: false, help: false };
  const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
  const int = (flag: string, v: string | undefined, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) fail(`${flag} needs an integer >= ${min} (got ${v ?? 'nothing'})`);
    return n;
  };
  const num = (flag: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) fail(`${flag} needs a number >= 0 (got ${v ?? 'nothing'})`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i];
    let value: string | undefined;
    const eq = flag.indexOf('=');
    if (flag.startsWith('--') && eq > 0) [flag, value] = [flag.slice(0, eq), flag.slice(eq + 1)];
    const next = () => value ?? argv[++i];
    switch (flag) {
      case '--backends':
      case '--backend':
        a.backends = list(next() ?? '');
        break;
      case '--presets':
      case '--preset':
        a.presets = list(next() ?? '');
        break;
      case '--modes':
      case '--mode': {
        const m = list(next() ?? '');
        for (const x of m) if (x !== 'infer' && x !== 'train') fail(`--modes: unknown mode "${x}" (infer, train)`);
        a.modes = m as Mode[];
        break;
      }
      case '--steps':
        a.steps = int(flag, next(), 1);
        break;
      case '--warmup':
        a.warmup = int(flag, next(), 0);
        break;
      case '--batch':
        a.batch = int(flag, next(), 1);
        break;
      case '--budget':
        a.budget = num(flag, next());
        break;
      case '--json':
        a.json = true;
        break;
      case '--paper-batch40':
        a.paperBatch40 = true;
        break;
      case '--no-oom-retry':
        a.oomRetry = false;
        break;
      case '--child':
        a.child = true;
        break;
      case '--out':
        a.out = next();
        break;
      case '-h':
      case '--help':
        a.help = true;
        break;
      default:
        fail(`unknown flag ${flag}\n${USAGE}`);
    }
  }
  return a;
}

function fail(msg: string): never {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(2);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const OOM_PATTERN = /Aborted\(|out of memory|Array buffer allocation failed|Cannot enlarge memory|could not allocate|bad_alloc/i;

// ---------------------------------------------------------------------------------------------------------------
// Child: one cell in this process

async function runChild(cell: Cell, out: string): Promise<void> {
  const t0 = performance.now();
  const progress = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
  const result: CellResult = {
    ...cell,
    status: 'ok',
    measuredSteps: 0,
    warmupSeconds: [],
    stepSeconds: [],
    medianSeconds: null,
    clipsPerSecond: null,
    ratio: null,
    ratioRef: null,
    maxRssMiB: null,
    wasmHeapMiB: null,
    threads: null,
    tensorsAfterStep: [],
    tensorsFlat: null,
    tensorsLeftAfterDispose: null,
    lastLoss: null,
    wallSeconds: 0,
  };
  const { useBackend, tf } = await import('../src/backend.js');
  const wasmHeap = () => {
    const heap = (tf.backend() as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.length;
    return heap === undefined ? null : heap / 2 ** 20;
  };
  try {
    const { createConfig } = await import('../src/config.js');
    const { createModel, forward } = await import('../src/model/network.js');
    const { Sgd, OFFICIAL_SGD } = await import('../src/train/optim.js');
    const { trainStep } = await import('../src/train/step.js');
    const backend = await useBackend(cell.backend as 'auto');
    if (backend === 'wasm') {
      const { getThreadsCount } = await import('@tensorflow/tfjs-backend-wasm');
      result.threads = getThreadsCount();
    }
    const tensorsAtStart = tf.memory().numTensors;
    const config = createConfig(cell.preset);
    const model = createModel(config, 0);
    const sgd = new Sgd(OFFICIAL_SGD);
    const S = config.imageSize;
    const clips = tf.randomUniform([cell.batch, config.frames, 3, S, S], 0, 1, 'float32', 1) as import('@tensorflow/tfjs-core').Tensor5D;
    const labels = tf.randomUniform([cell.batch], 0, config.numClasses, 'int32', 2) as import('@tensorflow/tfjs-core').Tensor1D;
    const step = () => {
      if (cell.mode === 'train') {
        result.lastLoss = trainStep(model, sgd, clips, labels, OFFICIAL_SGD.lr, { lambda: 0.1, ial: true }).total;
      } else {
        const logits = tf.tidy(() => forward(model, clips, { training: false }).logits.dataSync());
        result.lastLoss = logits[0];
      }
    };
    const timed = () => {
      const s = performance.now();
      step();
      const secs = (performance.now() - s) / 1000;
      result.tensorsAfterStep.push(tf.memory().numTensors);
      return secs;
    };
    for (let i = 0; i < cell.warmup; i++) {
      const s = timed();
      result.warmupSeconds.push(s);
      progress(`  warm-up ${i + 1}/${cell.warmup}: ${s.toFixed(2)} s`);
    }
    let measured = 0;
    for (let i = 0; i < cell.steps; i++) {
      if (i > 0 && cell.budget > 0 && measured >= cell.budget) {
        progress(`  budget of ${cell.budget} s reached after ${i} step(s)`);
        break;
      }
      const s = timed();
      measured += s;
      result.stepSeconds.push(s);
      progress(`  step ${i + 1}/${cell.steps}: ${s.toFixed(2)} s`);
    }
    result.measuredSteps = result.stepSeconds.length;
    result.medianSeconds = median(result.stepSeconds);
    result.clipsPerSecond = cell.batch / result.medianSeconds;
    // Flat: every step after the first leaves the same number of tensors (the first one may add SGD momentum buffers).
    const after = result.tensorsAfterStep;
    result.tensorsFlat = after.length < 2 ? null : after.slice(1).every((n) => n === after[0]);
    result.wasmHeapMiB = wasmHeap();
    tf.dispose([clips, labels]);
    model.params.dispose();
    sgd.dispose();
    result.tensorsLeftAfterDispose = tf.memory().numTensors - tensorsAtStart;
  } catch (err) {
    const msg = (err as Error)?.message ?? String(err);
    result.wasmHeapMiB = wasmHeap();
    // A full wasm heap shows up either as an abort from malloc or, for some kernels, as an out-of-bounds access.
    const heapFull = result.wasmHeapMiB !== null && result.wasmHeapMiB > 3500 && /memory access out of bounds/.test(msg);
    result.status = OOM_PATTERN.test(msg) || heapFull ? 'oom' : 'error';
    result.error = msg.split('\n')[0].slice(0, 300);
    progress(`  ${result.status === 'oom' ? 'out of memory' : 'error'}: ${result.error}`);
  }
  result.maxRssMiB = process.resourceUsage().maxRSS / 1024;
  result.wallSeconds = (performance.now() - t0) / 1000;
  writeFileSync(out, JSON.stringify(result));
}

// ---------------------------------------------------------------------------------------------------------------
// Parent: plan, spawn, collect, print

function runCellInChild(cell: Cell, dir: string, index: number): Promise<CellResult> {
  const out = path.join(dir, `cell-${index}.json`);
  const argv = [
    '--import', 'tsx', SCRIPT, '--child', '--out', out,
    '--backends', cell.backend, '--presets', cell.preset, '--modes', cell.mode,
    '--batch', String(cell.batch), '--steps', String(cell.steps), '--warmup', String(cell.warmup), '--budget', String(cell.budget),
  ];
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    let pending = '';
    const onLine = (line: string) => {
      if (line.startsWith('bench: ')) process.stderr.write(`${line.slice(7)}\n`);
      else if (line.trim() && !/^=+$/.test(line.trim())) {
        tail.push(line.slice(0, 300));
        if (tail.length > 30) tail.shift();
      }
    };
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(onLine);
    });
    child.stdout.resume(); // the tfjs "Hi there" banner and anything else printed to stdout is not ours
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    child.on('close', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      if (pending) onLine(pending);
      if (existsSync(out)) {
        try {
          resolve(JSON.parse(readFileSync(out, 'utf8')) as CellResult);
          return;
        } catch {
          tail.push(`unreadable result file ${out}`);
        }
      }
      // The child died before it could report (a fatal abort, V8 heap exhaustion, a signal).
      const text = tail.join('\n');
      const oom = OOM_PATTERN.test(text) || signal === 'SIGKILL';
      const why = tail.find((l) => /Error|FATAL|Aborted/.test(l)) ?? `exit code ${code}${signal ? `, signal ${signal}` : ''}`;
      process.stderr.write(`  ${oom ? 'out of memory' : 'error'} (child exited: code ${code}, signal ${signal}): ${why.slice(0, 200)}\n`);
      resolve({
        ...cell,
        status: oom ? 'oom' : 'error',
        error: why.slice(0, 300),
        measuredSteps: 0,
        warmupSeconds: [],
        stepSeconds: [],
        medianSeconds: null,
        clipsPerSecond: null,
        ratio: null,
        ratioRef: null,
        maxRssMiB: null,
        wasmHeapMiB: null,
        threads: null,
        tensorsAfterStep: [],
        tensorsFlat: null,
        tensorsLeftAfterDispose: null,
        lastLoss: null,
        wallSeconds: (performance.now() - t0) / 1000,
      });
    });
  });
}

function machineInfo() {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1].trim();
  } catch {
    /* not Linux */
  }
  const require = createRequire(path.join(ROOT, 'package.json'));
  const version = (pkg: string) => {
    try {
      return (require(`${pkg}/package.json`) as { version: string }).version;
    } catch {
      return 'not installed';
    }
  };
  return {
    cpuModel,
    cores: os.cpus().length,
    availableParallelism: os.availableParallelism(),
    memoryGiB: os.totalmem() / 2 ** 30,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    tfjs: version('@tensorflow/tfjs'),
    tfjsCore: version('@tensorflow/tfjs-core'),
    tfjsBackendWasm: version('@tensorflow/tfjs-backend-wasm'),
  };
}

const fmt = (n: number | null | undefined, digits: number) => (n === null || n === undefined ? '-' : n.toFixed(digits));

function table(rows: string[][], rightAligned: Set<number>): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r, i) => {
      const line = r.map((cellText, c) => (rightAligned.has(c) ? cellText.padStart(widths[c]) : cellText.padEnd(widths[c]))).join('  ').trimEnd();
      return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

async function runParent(args: Args): Promise<void> {
  const started = performance.now();
  const loadAtStart = os.loadavg()[0];
  const { probeBackends } = await import('../src/backend.js');
  const { PRESETS } = await import('../src/config.js');
  const probes = await probeBackends();
  const available = [...new Set(probes.filter((p) => p.available).map((p) => p.name))];
  const backends = args.backends ?? available;
  for (const b of backends) {
    if (!available.includes(b)) fail(`backend "${b}" is not available here (available: ${available.join(', ')})`);
  }
  const presets = args.presets ?? ['small', 'paper'];
  for (const p of presets) if (!PRESETS[p]) fail(`unknown preset "${p}" (${Object.keys(PRESETS).join(', ')})`);
  // The pure-JS cpu backend is far slower: it runs the paper preset only when both cpu and paper are asked for by name.
  const cpuPaper = args.backends?.includes('cpu') === true && args.presets?.includes('paper') === true;
  const notes: string[] = [];

  const cells: Cell[] = [];
  for (const backend of backends) {
    for (const preset of presets) {
      if (backend === 'cpu' && preset !== 'small' && !cpuPaper) {
        notes.push(`cpu x ${preset} skipped: the pure-JS cpu backend is far slower than wasm (ask for it with --backends cpu --presets ${preset})`);
        continue;
      }
      const steps = args.steps ?? (preset === 'small' ? 5 : 3);
      const budget = args.budget ?? (args.steps !== undefined ? 0 : 40);
      for (const mode of args.modes) {
        const batches = [args.batch];
        if (mode === 'train' && preset === 'paper' && args.paperBatch40 && args.batch !== 40) batches.push(40);
        for (const batch of batches) cells.push({ backend, preset, mode, batch, steps, warmup: args.warmup, budget });
      }
    }
  }
  if (cells.length === 0) fail('nothing to run');

  const dir = mkdtempSync(path.join(os.tmpdir(), 'dfer-bench-'));
  const results: CellResult[] = [];
  try {
    const queue = [...cells];
    let n = 0;
    while (queue.length) {
      const cell = queue.shift()!;
      n++;
      const label = `${cell.backend} ${cell.preset} ${cell.mode} batch ${cell.batch}${cell.retryOf ? ` (retry: batch ${cell.retryOf} ran out of memory)` : ''}`;
      process.stderr.write(`[${n}/${n + queue.length}] ${label}\n`);
      const r = await runCellInChild(cell, dir, n);
      if (cell.retryOf) r.retryOf = cell.retryOf;
      results.push(r);
      if (r.status === 'ok') {
        process.stderr.write(`  -> ${fmt(r.medianSeconds, 2)} s/step, ${fmt(r.clipsPerSecond, 2)} clips/s, peak RSS ${fmt(r.maxRssMiB, 0)} MiB (${r.wallSeconds.toFixed(0)} s)\n`);
      }
      // A training cell that ran out of memory at the default batch is retried once at half the batch, so the table
      // still has a training figure for that preset (batch 40 is not retried: it is an explicit what-if).
      if (r.status === 'oom' && args.oomRetry && cell.mode === 'train' && !cell.retryOf && cell.batch === args.batch && cell.batch > 1) {
        queue.unshift({ ...cell, batch: Math.floor(cell.batch / 2), retryOf: cell.batch });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // Ratios: clips/s against wasm in the same preset/mode/batch (or the first backend when wasm was not measured).
  const refBackend = backends.includes('wasm') ? 'wasm' : backends[0];
  for (const r of results) {
    const ref = results.find((x) => x.backend === refBackend && x.preset === r.preset && x.mode === r.mode && x.batch === r.batch && x.status === 'ok');
    if (r.status === 'ok' && ref?.clipsPerSecond && r.clipsPerSecond) {
      r.ratio = r.clipsPerSecond / ref.clipsPerSecond;
      r.ratioRef = refBackend;
    }
  }
  const machine = { ...machineInfo(), loadAverage1mAtStart: loadAtStart, loadAverage1mAtEnd: os.loadavg()[0] };
  const runtimeSeconds = (performance.now() - started) / 1000;

  if (args.json) {
    process.stdout.write(`${JSON.stringify({ machine, runtimeSeconds, notes, results }, null, 2)}\n`);
  } else {
    const threads = results.find((r) => r.threads !== null)?.threads;
    const lines: string[] = [];
    lines.push('dfer throughput: clips of 16 frames, random input; median seconds per step after warm-up; clips/s = batch / median');
    lines.push(`machine: ${machine.cpuModel}, ${machine.cores} cores (${machine.availableParallelism} available), ${machine.memoryGiB.toFixed(1)} GiB RAM, ${machine.platform}`);
    lines.push(
      `node ${machine.node}, @tensorflow/tfjs ${machine.tfjs} (core ${machine.tfjsCore}, wasm ${machine.tfjsBackendWasm}), backends: ${available.join(', ')}` +
        (threads !== undefined ? `; wasm threads: ${threads}` : ''),
    );
    const busy = Math.max(machine.loadAverage1mAtStart, machine.loadAverage1mAtEnd);
    lines.push(
      `load average (1 min): ${machine.loadAverage1mAtStart.toFixed(2)} at start, ${machine.loadAverage1mAtEnd.toFixed(2)} at end` +
        (busy > 0.5 ? ' (includes this benchmark; anything else running competes for the cores and lowers the figures)' : ''),
    );
    lines.push('');
    const header = ['backend', 'preset', 'mode', 'batch', 'steps', 's/step', 'min..max', 'clips/s', `vs ${refBackend}`, 'peak RSS', 'wasm heap', 'tensors'];
    const rows: string[][] = [header];
    for (const r of results) {
      const name = [r.backend, r.preset, r.mode, String(r.batch)];
      if (r.status !== 'ok') {
        const what = r.status === 'oom' ? 'out of memory' : `error: ${(r.error ?? '').slice(0, 60)}`;
        rows.push([...name, '-', what, '', '-', '-', r.maxRssMiB ? `${fmt(r.maxRssMiB, 0)} MiB` : '-', r.wasmHeapMiB ? `${fmt(r.wasmHeapMiB, 0)} MiB` : '-', '']);
        continue;
      }
      const tensors = r.tensorsFlat === null ? 'n/a' : r.tensorsFlat ? `flat ${r.tensorsAfterStep[0]}` : 'GROWING';
      rows.push([
        ...name,
        String(r.measuredSteps),
        fmt(r.medianSeconds, 2),
        `${fmt(Math.min(...r.stepSeconds), 2)}..${fmt(Math.max(...r.stepSeconds), 2)}`,
        fmt(r.clipsPerSecond, 2),
        r.ratio === null ? '-' : `${r.ratio.toFixed(2)}x`,
        `${fmt(r.maxRssMiB, 0)} MiB`,
        r.wasmHeapMiB === null ? '-' : `${fmt(r.wasmHeapMiB, 0)} MiB`,
        tensors,
      ]);
    }
    lines.push(table(rows, new Set([3, 4, 5, 7, 8, 9, 10])));
    lines.push('');
    for (const r of results.filter((x) => x.retryOf)) {
      lines.push(`note: ${r.backend} ${r.preset} train at batch ${r.retryOf} ran out of memory; batch ${r.batch} is the retry at half the batch.`);
    }
    for (const r of results.filter((x) => x.status === 'oom')) {
      const heap = r.wasmHeapMiB !== null && r.wasmHeapMiB > 3500 ? `wasm heap at ${r.wasmHeapMiB.toFixed(0)} of the 4096 MiB a 32-bit wasm memory can hold; ` : '';
      lines.push(`note: ${r.backend} ${r.preset} ${r.mode} batch ${r.batch} ran out of memory (${heap}${(r.error ?? '').slice(0, 100)})`);
    }
    const cpuRatios = results.filter((r) => r.backend === 'cpu' && r.ratio !== null && refBackend !== 'cpu').map((r) => r.ratio!);
    if (backends.includes('cpu')) {
      const measured = cpuRatios.length
        ? `measured here: ${[...new Set([1 / Math.max(...cpuRatios), 1 / Math.min(...cpuRatios)].map((x) => x.toFixed(0)))].join('-')}x slower; `
        : '';
      lines.push(`note: the pure-JS cpu backend is far slower than wasm (${measured}roughly 10-100x, worst for training); by default it runs the small preset only.`);
    }
    for (const note of notes) lines.push(`note: ${note}`);
    if (!backends.includes('tensorflow') && !available.includes('tensorflow')) {
      lines.push('note: native TensorFlow (@tensorflow/tfjs-node) is not installed, so it is not measured.');
    }
    for (const r of results.filter((x) => x.tensorsFlat === false)) {
      lines.push(`WARNING: ${r.backend} ${r.preset} ${r.mode} batch ${r.batch}: tf.memory().numTensors grows between steps (${r.tensorsAfterStep.join(', ')}): a leak`);
    }
    const leftover = results.filter((x) => x.tensorsLeftAfterDispose !== null && x.tensorsLeftAfterDispose !== 0);
    if (leftover.length) {
      const byPreset = [...new Set(leftover.map((r) => `${r.preset} ${r.tensorsLeftAfterDispose}`))].join(', ');
      lines.push(
        `WARNING: tensors still alive after disposing the model, optimizer and inputs in ${leftover.length} of ${results.length} cells ` +
          `(${byPreset}): not a per-step leak, but memory a long-lived process does not get back.`,
      );
    }
    if (!args.paperBatch40 && args.batch !== 40 && presets.includes('paper') && args.modes.includes('train')) {
      lines.push("note: paper-preset training at the paper's batch 40 is opt-in: --paper-batch40.");
    }
    lines.push(`total runtime: ${(runtimeSeconds / 60).toFixed(1)} min (${runtimeSeconds.toFixed(0)} s)`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}

// ---------------------------------------------------------------------------------------------------------------

const args = parseArgs(process.argv.slice(2));
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
} else if (args.child) {
  if (!args.out || args.backends?.length !== 1 || args.presets?.length !== 1 || args.modes.length !== 1) {
    fail('--child needs --out and exactly one backend, preset and mode');
  }
  await runChild(
    {
      backend: args.backends[0],
      preset: args.presets[0],
      mode: args.modes[0],
      batch: args.batch,
      steps: args.steps ?? 1,
      warmup: args.warmup,
      budget: args.budget ?? 0,
    },
    args.out,
  );
  process.exit(0);
} else {
  await runParent(args);
}
