// Training and inference throughput of the GCA+IAL network, per backend and preset, next to PyTorch running the same
// network: `npm run bench` (see docs/benchmarks.md).
//
// The parent process plans the cells (backend x preset x mode x batch) and runs each one in its own child process
// (`node --import tsx bench/throughput.ts --child ...`), so that peak RSS is per cell and a wasm out-of-memory abort
// only loses that cell. Children write one JSON result to a temp file. Cells of the `pytorch` backend run
// bench/torch_ref.py (a PyTorch reference of the same network, same FLOPs) instead, which prints one JSON line.
// The parent prints the table, or with --json one JSON line per measurement.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type { ModelConfig } from '../src/config.js';

const SCRIPT = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SCRIPT), '..');
const TORCH_SCRIPT = path.join(ROOT, 'bench', 'torch_ref.py');

/** The backend names of the PyTorch reference (not tfjs backends): on the CPU, and on a CUDA GPU in float32 with TF32
 * off (strict float32, as dfer computes) and on (what PyTorch users get by default in convolutions). */
const PYTORCH = 'pytorch';
const PYTORCH_CUDA = 'pytorch-cuda';
const PYTORCH_CUDA_TF32 = 'pytorch-cuda-tf32';
const TORCH_BACKENDS = new Set([PYTORCH, PYTORCH_CUDA, PYTORCH_CUDA_TF32]);
/** Backends measured on a GPU: their ratio is taken against PyTorch on the same GPU first. */
const GPU_BACKENDS = new Set(['webgpu', PYTORCH_CUDA_TF32]);
/** Debian's python3-torch is installed for the system Python; a pyenv/venv python3 on PATH may lack it. */
const PYTHON_CANDIDATES = ['/usr/bin/python3', 'python3'];
/** Backends that train the paper preset at the paper's batch 40 by default: fast, and not capped by a 4 GB wasm heap. */
const BATCH40_BACKENDS = new Set(['native', 'tensorflow', 'webgpu', PYTORCH, PYTORCH_CUDA, PYTORCH_CUDA_TF32]);
/** OpenBLAS' thread pool fights PyTorch's OpenMP threads (50% slower and noisy): one BLAS thread for the reference.
 * This machine's environment pins OpenBLAS to Haswell kernels (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE), a workaround for
 * old OpenBLAS builds that slows a current one: both are unset for the PyTorch command alone (never for dfer). */
const torchEnv = (): NodeJS.ProcessEnv => {
  const { OPENBLAS_CORETYPE: _core, OPENBLAS_L2_SIZE: _l2, ...env } = process.env;
  return { ...env, OPENBLAS_NUM_THREADS: '1' };
};
const OPENBLAS_PINNED = process.env.OPENBLAS_CORETYPE !== undefined || process.env.OPENBLAS_L2_SIZE !== undefined;

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
  /** --rounds > 1: the ratio of each round against the reference measured in that round (null: either side failed). */
  ratioRounds?: (number | null)[];
  maxRssMiB: number | null; // process.resourceUsage().maxRSS (pytorch: getrusage ru_maxrss) of the cell's process
  wasmHeapMiB: number | null; // size of the wasm linear memory at the end (it never shrinks: the peak)
  /** GPU memory at its peak: webgpu, the backend's buffer pool (it keeps freed buffers, so its size is the peak);
   * pytorch-cuda, torch.cuda.max_memory_allocated(). */
  gpuPeakMiB: number | null;
  /** The GPU a GPU cell ran on (adapter description, or torch.cuda.get_device_name()). */
  gpu?: string;
  threads: number | null; // wasm backend threads, or torch.set_num_threads for pytorch
  /** pytorch cells: torch version, activation layout, BLAS library torch links (and its sgemm GFLOPS). */
  torch?: { version: string; memoryFormat: string | null; blas: string | null; sgemmGflops: number | null };
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
  batchGiven: boolean;
  budget?: number;
  json: boolean;
  /** true: batch 40 for every backend; false: never; undefined: the default plan (native, tensorflow, pytorch). */
  paperBatch40?: boolean;
  python?: string;
  torchThreads?: number;
  oomRetry: boolean;
  /** Times the whole plan runs, interleaved: round 1 runs every cell, then round 2 every cell again, ... */
  rounds: number;
  child: boolean;
  out?: string;
  help: boolean;
}

const USAGE = `usage: npm run bench -- [flags]      (or: npx tsx bench/throughput.ts [flags])
  --backend(s) a,b    backends to run (default: pytorch when \`import torch\` works, and pytorch-cuda and
                      pytorch-cuda-tf32 when it sees a CUDA GPU, then every available tfjs backend: webgpu on a
                      hardware GPU, native, tensorflow, wasm, cpu; cpu runs only the small preset). webgpu on a CPU
                      adapter (lavapipe) runs only when named
  --preset(s) a,b     presets (default: small,paper)
  --mode(s) a,b       infer,train (default: both)
  --batch N           clips per step (default 8; given explicitly, it is the only batch: no batch-40 cell)
  --steps N           measured steps per cell (default 5 for small, 3 for paper, capped by --budget)
  --warmup N          unmeasured warm-up steps per cell (default 1)
  --budget S          no new measured step starts after S seconds of measured time (default 40; 0 = off;
                      ignored when --steps is given, unless --budget is given too)
  --paper-batch40     train the paper preset at the paper's batch 40 on every backend, wasm too (it runs out of
                      memory there); by default only native, tensorflow and pytorch do
  --no-paper-batch40  no batch-40 cell at all
  --python PATH       Python with torch for the pytorch backend (default: /usr/bin/python3, then python3)
  --torch-threads N   torch.set_num_threads for the pytorch backend (default: available cores)
  --no-oom-retry      do not retry a training cell that ran out of memory at half the batch
  --rounds N          run the whole plan N times, round-robin, so the backends compared are measured close together
                      in time (default 1); clips/s from the pooled steps, the ratio is the median of the per-round
                      ratios. On a noisy machine, --rounds 3 for ratios that matter
  --json              one JSON object per line per measurement, then a {"summary": ...} line, instead of the
                      table (progress still goes to stderr)
A single measurement: --backend B --preset P --mode M --batch N [--steps N].`;

function parseArgs(argv: string[]): Args {
  const a: Args = {
    modes: ['infer', 'train'],
    warmup: 1,
    batch: 8,
    batchGiven: false,
    json: false,
    oomRetry: true,
    rounds: 1,
    child: false,
    help: false,
  };
  const list = (v: string) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
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
        a.batchGiven = true;
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
      case '--no-paper-batch40':
        a.paperBatch40 = false;
        break;
      case '--python':
        a.python = next();
        if (!a.python) fail('--python needs a path');
        break;
      case '--torch-threads':
        a.torchThreads = int(flag, next(), 1);
        break;
      case '--no-oom-retry':
        a.oomRetry = false;
        break;
      case '--rounds':
        a.rounds = int(flag, next(), 1);
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

const OOM_PATTERN =
  /Aborted\(|out of memory|Array buffer allocation failed|Cannot enlarge memory|could not allocate|bad_alloc|can't allocate memory|MemoryError/i;

/** A result with nothing measured yet. */
function emptyResult(cell: Cell, status: Status = 'ok'): CellResult {
  return {
    ...cell,
    status,
    measuredSteps: 0,
    warmupSeconds: [],
    stepSeconds: [],
    medianSeconds: null,
    clipsPerSecond: null,
    ratio: null,
    ratioRef: null,
    maxRssMiB: null,
    wasmHeapMiB: null,
    gpuPeakMiB: null,
    threads: null,
    tensorsAfterStep: [],
    tensorsFlat: null,
    tensorsLeftAfterDispose: null,
    lastLoss: null,
    wallSeconds: 0,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Child: one cell in this process

async function runChild(cell: Cell, out: string): Promise<void> {
  const t0 = performance.now();
  const progress = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
  const result = emptyResult(cell);
  const { useBackend, tf } = await import('../src/backend.js');
  const wasmHeap = () => {
    // tf.backend() throws when no backend could be set up (e.g. --backend native with a stale build): the error
    // reported must then be useBackend's, not this one.
    let heap: number | undefined;
    try {
      heap = (tf.backend() as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.length;
    } catch {
      return null;
    }
    return heap === undefined ? null : heap / 2 ** 20;
  };
  try {
    const { createConfig } = await import('../src/config.js');
    const { createModel, forward } = await import('../src/model/network.js');
    const { Sgd, OFFICIAL_SGD } = await import('../src/train/optim.js');
    const { trainStep } = await import('../src/train/step.js');
    const backend = await useBackend(cell.backend as 'auto');
    if (backend === 'webgpu') {
      const { webGpuAdapter } = await import('../src/webgpu/device.js');
      const a = webGpuAdapter();
      result.gpu = a ? `${a.description || a.device} (${a.vendor})` : undefined;
    }
    if (backend === 'wasm') {
      const { getThreadsCount } = await import('@tensorflow/tfjs-backend-wasm');
      result.threads = getThreadsCount();
    }
    const tensorsAtStart = tf.memory().numTensors;
    const config = createConfig(cell.preset);
    const model = createModel(config, 0);
    const sgd = new Sgd(OFFICIAL_SGD);
    const S = config.imageSize;
    const clips = tf.randomUniform(
      [cell.batch, config.frames, 3, S, S],
      0,
      1,
      'float32',
      1,
    ) as import('@tensorflow/tfjs-core').Tensor5D;
    const labels = tf.randomUniform(
      [cell.batch],
      0,
      config.numClasses,
      'int32',
      2,
    ) as import('@tensorflow/tfjs-core').Tensor1D;
    // Every step ends with an asynchronous read, as in dfer's loops: on a GPU that read waits for the queued work.
    const step = async () => {
      if (cell.mode === 'train') {
        result.lastLoss = (
          await trainStep(model, sgd, clips, labels, OFFICIAL_SGD.lr, { lambda: 0.1, ial: true })
        ).total;
      } else {
        const logits = tf.tidy(() => forward(model, clips, { training: false }).logits);
        result.lastLoss = (await logits.data())[0];
        logits.dispose();
      }
    };
    const gpuPool = () => (tf.memory() as { numBytesAllocatedInGPU?: number }).numBytesAllocatedInGPU;
    const timed = async () => {
      const s = performance.now();
      await step();
      const secs = (performance.now() - s) / 1000;
      const pool = gpuPool();
      if (pool !== undefined) result.gpuPeakMiB = Math.max(result.gpuPeakMiB ?? 0, pool / 2 ** 20);
      result.tensorsAfterStep.push(tf.memory().numTensors);
      return secs;
    };
    for (let i = 0; i < cell.warmup; i++) {
      const s = await timed();
      result.warmupSeconds.push(s);
      progress(`  warm-up ${i + 1}/${cell.warmup}: ${s.toFixed(2)} s`);
    }
    let measured = 0;
    for (let i = 0; i < cell.steps; i++) {
      if (i > 0 && cell.budget > 0 && measured >= cell.budget) {
        progress(`  budget of ${cell.budget} s reached after ${i} step(s)`);
        break;
      }
      const s = await timed();
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
    const heapFull =
      result.wasmHeapMiB !== null && result.wasmHeapMiB > 3500 && /memory access out of bounds/.test(msg);
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

interface ProcessRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** The last lines of stderr that were not progress: the context of an error. */
  tail: string[];
  seconds: number;
}

/** Run one cell's process. Its stderr lines starting "bench: " are progress (echoed without the prefix). */
function runProcess(command: string, argv: string[], env: NodeJS.ProcessEnv): Promise<ProcessRun> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    let stdout = '';
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
    // The node child reports through its --out file (stdout carries the tfjs "Hi there" banner and the like);
    // torch_ref.py prints its one JSON line here.
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length < 1e6) stdout += chunk;
    });
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    child.on('error', (err) => tail.push(`${command}: ${err.message}`));
    child.on('close', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      if (pending) onLine(pending);
      resolve({ code, signal, stdout, tail, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

/** The result of a cell whose process died before it could report (a fatal abort, heap exhaustion, a signal). */
function diedResult(cell: Cell, run: ProcessRun): CellResult {
  const text = run.tail.join('\n');
  const oom = OOM_PATTERN.test(text) || run.signal === 'SIGKILL';
  const why =
    run.tail.find((l) => /Error|FATAL|Aborted/.test(l)) ??
    `exit code ${run.code}${run.signal ? `, signal ${run.signal}` : ''}`;
  process.stderr.write(
    `  ${oom ? 'out of memory' : 'error'} (child exited: code ${run.code}, signal ${run.signal}): ${why.slice(0, 200)}\n`,
  );
  return { ...emptyResult(cell, oom ? 'oom' : 'error'), error: why.slice(0, 300), wallSeconds: run.seconds };
}

/** A tfjs cell: this script again, with --child, in a fresh node process. */
async function runCellInChild(cell: Cell, dir: string, index: number): Promise<CellResult> {
  const out = path.join(dir, `cell-${index}.json`);
  // Run from source through tsx, or as the bundle bench/gpu/bundle.mjs makes for machines without npm (bench/gpu).
  const argv = [
    ...(SCRIPT.endsWith('.ts') ? ['--import', 'tsx', SCRIPT] : [process.argv[1]]),
    '--child',
    '--out',
    out,
    '--backends',
    cell.backend,
    '--presets',
    cell.preset,
    '--modes',
    cell.mode,
    '--batch',
    String(cell.batch),
    '--steps',
    String(cell.steps),
    '--warmup',
    String(cell.warmup),
    '--budget',
    String(cell.budget),
  ];
  const run = await runProcess(process.execPath, argv, process.env);
  if (existsSync(out)) {
    try {
      return JSON.parse(readFileSync(out, 'utf8')) as CellResult;
    } catch {
      run.tail.push(`unreadable result file ${out}`);
    }
  }
  return diedResult(cell, run);
}

// ---------------------------------------------------------------------------------------------------------------
// The PyTorch reference (bench/torch_ref.py)

interface TorchFound {
  python: string;
  version: string;
  /** torch.cuda.is_available() */
  cuda: boolean;
}

/** The first candidate Python whose `import torch` works (with OPENBLAS_NUM_THREADS=1, as the cells run). */
function findTorch(explicit?: string): { found: TorchFound | null; tried: string[] } {
  const candidates = explicit ? [explicit] : PYTHON_CANDIDATES;
  const tried: string[] = [];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__, torch.cuda.is_available())'], {
      env: torchEnv(),
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (r.status === 0 && r.stdout.trim()) {
      const [version, cuda] = r.stdout.trim().split('\n').pop()!.split(' ');
      return { found: { python, version, cuda: cuda === 'True' }, tried };
    }
    const why = r.error ? r.error.message : (r.stderr ?? '').trim().split('\n').pop() || `exit code ${r.status}`;
    tried.push(`${python}: ${why.slice(0, 120)}`);
  }
  return { found: null, tried };
}

/** A dfer preset as torch_ref.py's PRESETS spells it. */
function torchPreset(c: ModelConfig) {
  const t = (x: ModelConfig['spatialTransformer']) => ({
    depth: x.depth,
    heads: x.heads,
    dim_head: x.dimHead,
    mlp_dim: x.mlpDim,
  });
  return {
    image_size: c.imageSize,
    frames: c.frames,
    stem_width: c.stemWidth,
    widths: c.widths,
    dynamic_depth: c.dynamicDepth,
    reduction: c.reduction,
    aux_weights: c.auxWeights,
    patch_dim: c.patchDim,
    spatial: t(c.spatialTransformer),
    temporal: t(c.temporalTransformer),
    num_classes: c.numClasses,
  };
}

/** Differences between torch_ref.py's mirrored presets and src/config.ts (empty when they match). */
async function torchPresetDrift(torch: TorchFound, presets: string[]): Promise<string[]> {
  const { PRESETS, diffConfigs } = await import('../src/config.js');
  const r = spawnSync(torch.python, [TORCH_SCRIPT, '--print-presets'], {
    env: torchEnv(),
    encoding: 'utf8',
    timeout: 120_000,
  });
  let theirs: Record<string, unknown>;
  try {
    theirs = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    return [`torch_ref.py --print-presets failed: ${(r.stderr ?? r.error?.message ?? '').trim().split('\n').pop()}`];
  }
  return presets.flatMap((p) => {
    const c = PRESETS[p];
    const fixed =
      c.attention === 'gca' && c.aux
        ? []
        : [`${p}: torch_ref.py implements GCA with its aux head only (attention ${c.attention}, aux ${c.aux})`];
    return [...fixed, ...diffConfigs(torchPreset(c), theirs[p]).map((d) => `${p}.${d}`)];
  });
}

/** torch_ref.py's JSON line (snake_case). */
interface TorchLine {
  status?: Status;
  error?: string;
  clips_per_s?: number | null;
  median_s?: number | null;
  steps?: number;
  step_seconds?: number[];
  warmup_seconds?: number[];
  max_rss_mib?: number | null;
  threads?: number;
  last_loss?: number | null;
  torch?: string;
  memory_format?: string;
  blas?: string | null;
  sgemm_gflops?: number | null;
  gpu?: string;
  gpu_peak_mib?: number;
}

/** A pytorch cell: bench/torch_ref.py in the system Python, one BLAS thread. */
async function runTorchCell(cell: Cell, torch: TorchFound, threads: number): Promise<CellResult> {
  const argv = [
    TORCH_SCRIPT,
    '--preset',
    cell.preset,
    '--mode',
    cell.mode,
    '--batch',
    String(cell.batch),
    '--steps',
    String(cell.steps),
    '--warmup',
    String(cell.warmup),
    '--budget',
    String(cell.budget),
    '--threads',
    String(threads),
    ...(cell.backend === PYTORCH
      ? []
      : ['--device', 'cuda', ...(cell.backend === PYTORCH_CUDA_TF32 ? ['--tf32'] : [])]),
  ];
  const run = await runProcess(torch.python, argv, torchEnv());
  const line = run.stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  let j: TorchLine | null = null;
  try {
    j = line ? (JSON.parse(line) as TorchLine) : null;
  } catch {
    run.tail.push(`unreadable JSON from torch_ref.py: ${line?.slice(0, 200)}`);
  }
  if (!j) return diedResult(cell, run);
  if (j.status !== 'ok')
    process.stderr.write(`  ${j.status === 'oom' ? 'out of memory' : 'error'}: ${j.error ?? ''}\n`);
  return {
    ...emptyResult(cell, j.status ?? 'error'),
    error: j.error,
    measuredSteps: j.steps ?? 0,
    warmupSeconds: j.warmup_seconds ?? [],
    stepSeconds: j.step_seconds ?? [],
    medianSeconds: j.median_s ?? null,
    clipsPerSecond: j.clips_per_s ?? null,
    maxRssMiB: j.max_rss_mib ?? null,
    threads: j.threads ?? threads,
    lastLoss: j.last_loss ?? null,
    wallSeconds: run.seconds,
    torch: {
      version: j.torch ?? torch.version,
      memoryFormat: j.memory_format ?? null,
      blas: j.blas ?? null,
      sgemmGflops: j.sgemm_gflops ?? null,
    },
    gpuPeakMiB: j.gpu_peak_mib ?? null,
    ...(j.gpu ? { gpu: j.gpu } : {}),
  };
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
      const line = r
        .map((cellText, c) => (rightAligned.has(c) ? cellText.padStart(widths[c]) : cellText.padEnd(widths[c])))
        .join('  ')
        .trimEnd();
      return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Rounds: the plan runs --rounds times, interleaved, and each measurement becomes one row

/** A measurement's identity across rounds. retryOf is part of it: a half-batch retry is its own row, as with one round. */
const keyOf = (c: Cell) => [c.backend, c.preset, c.mode, c.batch, c.retryOf ?? 0].join(' ');

/** The first ok result of `backend` at r's preset/mode/batch among `results`. */
const okAt = (results: CellResult[], backend: string, r: Cell) =>
  results.find(
    (x) =>
      x.backend === backend && x.preset === r.preset && x.mode === r.mode && x.batch === r.batch && x.status === 'ok',
  );

/** The results of every round, grouped by measurement (in order of first appearance), each with its round (1-based). */
function groupByKey(rounds: CellResult[][]): { round: number; result: CellResult }[][] {
  const groups = new Map<string, { round: number; result: CellResult }[]>();
  rounds.forEach((results, i) => {
    for (const result of results) {
      const key = keyOf(result);
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key)!.push({ round: i + 1, result });
    }
  });
  return [...groups.values()];
}

/**
 * One row from the rounds of one measurement: the steps of its ok rounds pooled (every step is a sample of the same
 * step time; a round's own median would throw the rest away), peak RSS the worst round, the rest from the first ok
 * round. Nothing ok: the first failure.
 */
function aggregate(runs: CellResult[]): CellResult {
  const ok = runs.filter((r) => r.status === 'ok');
  // A single measurement is reported as measured: recomputing torch_ref.py's median here could move the last digit,
  // and --rounds 1 must print what it always printed.
  if (ok.length <= 1) return ok[0] ?? runs[0];
  const first = ok[0];
  const stepSeconds = ok.flatMap((r) => r.stepSeconds);
  const medianSeconds = median(stepSeconds);
  const rss = ok.map((r) => r.maxRssMiB).filter((x): x is number => x !== null);
  // A leak in any round is a leak: the WARNING line then shows that round's tensor counts.
  const leaking = ok.find((r) => r.tensorsFlat === false);
  return {
    ...first,
    measuredSteps: stepSeconds.length,
    warmupSeconds: ok.flatMap((r) => r.warmupSeconds),
    stepSeconds,
    medianSeconds,
    clipsPerSecond: first.batch / medianSeconds,
    maxRssMiB: rss.length ? Math.max(...rss) : null,
    tensorsAfterStep: (leaking ?? first).tensorsAfterStep,
    tensorsFlat: leaking ? false : ok.every((r) => r.tensorsFlat === null) ? null : true,
    wallSeconds: ok.reduce((sum, r) => sum + r.wallSeconds, 0),
  };
}

/** A note for a measurement that failed in some rounds but not all: its figures come from the other rounds. */
function partialFailureNote(group: { round: number; result: CellResult }[], rounds: number): string | null {
  const failed = group.filter((g) => g.result.status !== 'ok');
  const okCount = group.length - failed.length;
  if (!failed.length || !okCount) return null;
  const r = group[0].result;
  const what = failed
    .map((g) => `${g.result.status === 'oom' ? 'out of memory' : 'error'} in round ${g.round}`)
    .join(', ');
  const why = failed[0].result.error ? `: ${failed[0].result.error.slice(0, 100)}` : '';
  return `${r.backend} ${r.preset} ${r.mode} batch ${r.batch}: ${what} of ${rounds}${why}; its figures are from the ${okCount} ok round(s)`;
}

/**
 * Each row's ratio to its reference. Per round: the row's clips/s over the reference's clips/s in the same round, so
 * both sides of a ratio ran seconds apart (runParent orders each round measurement by measurement), under the same
 * neighbours; the ratio is the median of these. The
 * reference is the first of `refs` measured ok at the row's preset/mode/batch in a round where the row was ok too.
 */
function setRatios(rows: CellResult[], rounds: CellResult[][], refs: string[]): void {
  for (const row of rows) {
    if (row.status !== 'ok' || !row.clipsPerSecond) continue;
    const key = keyOf(row);
    for (const ref of refs) {
      const perRound = rounds.map((results) => {
        const mine = results.find((x) => keyOf(x) === key && x.status === 'ok')?.clipsPerSecond;
        const theirs = okAt(results, ref, row)?.clipsPerSecond;
        return mine && theirs ? mine / theirs : null;
      });
      const measured = perRound.filter((x): x is number => x !== null);
      if (!measured.length) continue;
      row.ratio = median(measured);
      row.ratioRef = ref;
      if (rounds.length > 1) row.ratioRounds = perRound;
      break;
    }
  }
}

/** The table's " (lowest-highest)" of the per-round ratios, with more than one. */
function ratioSpread(r: CellResult): string {
  const measured = (r.ratioRounds ?? []).filter((x): x is number => x !== null);
  return measured.length > 1 ? ` (${Math.min(...measured).toFixed(2)}-${Math.max(...measured).toFixed(2)})` : '';
}

async function runParent(args: Args): Promise<void> {
  const started = performance.now();
  const loadAtStart = os.loadavg()[0];
  const { probeBackends } = await import('../src/backend.js');
  const { PRESETS } = await import('../src/config.js');
  // WebGPU on a CPU adapter (lavapipe) runs only when named: it is there to test, not to measure.
  const probes = await probeBackends({ webgpu: args.backends?.includes('webgpu') ? 'always' : 'auto' });
  const tfjsAvailable = [
    ...new Set(
      probes
        .filter((p) => p.available && (p.preferred !== false || args.backends?.includes(p.name)))
        .map((p) => p.name),
    ),
  ];
  const notes: string[] = [];

  // PyTorch: looked for unless the backends were named without it.
  const wantTorch = args.backends === undefined || args.backends.some((b) => TORCH_BACKENDS.has(b));
  const { found: torch, tried } = wantTorch ? findTorch(args.python) : { found: null, tried: [] };
  if (wantTorch && !torch) {
    const named = args.backends?.find((b) => TORCH_BACKENDS.has(b));
    if (named) fail(`backend "${named}": PyTorch not found (${tried.join('; ')})`);
    process.stderr.write('PyTorch not found: dfer figures only\n');
    notes.push(`PyTorch not found: dfer figures only (tried ${tried.join('; ')})`);
  }
  const torchThreads = args.torchThreads ?? os.availableParallelism();
  const torchBackends = !torch ? [] : torch.cuda ? [PYTORCH_CUDA, PYTORCH_CUDA_TF32, PYTORCH] : [PYTORCH];
  const available = [...torchBackends, ...tfjsAvailable];
  const backends = args.backends ?? available;
  for (const b of backends) {
    if (!available.includes(b)) fail(`backend "${b}" is not available here (available: ${available.join(', ')})`);
  }
  const presets = args.presets ?? ['small', 'paper'];
  for (const p of presets) if (!PRESETS[p]) fail(`unknown preset "${p}" (${Object.keys(PRESETS).join(', ')})`);
  // The pure-JS cpu backend is far slower: it runs the paper preset only when both cpu and paper are asked for by name.
  const cpuPaper = args.backends?.includes('cpu') === true && args.presets?.includes('paper') === true;

  // The plan: every backend x preset x mode at --batch, plus paper training at the paper's batch 40 (by default on
  // the backends that have the speed and the memory for it; wasm's 4 GB heap does not).
  const batch40 = (backend: string) =>
    args.batch !== 40 && (args.paperBatch40 ?? (!args.batchGiven && BATCH40_BACKENDS.has(backend)));
  const cells: Cell[] = [];
  for (const backend of backends) {
    for (const preset of presets) {
      if (backend === 'cpu' && preset !== 'small' && !cpuPaper) {
        notes.push(
          `cpu x ${preset} skipped: the pure-JS cpu backend is far slower than wasm (ask for it with --backends cpu --presets ${preset})`,
        );
        continue;
      }
      const steps = args.steps ?? (preset === 'small' ? 5 : 3);
      const budget = args.budget ?? (args.steps !== undefined ? 0 : 40);
      for (const mode of args.modes) {
        const batches = [args.batch];
        if (mode === 'train' && preset === 'paper' && batch40(backend)) batches.push(40);
        for (const batch of batches) cells.push({ backend, preset, mode, batch, steps, warmup: args.warmup, budget });
      }
    }
  }
  if (cells.length === 0) fail('nothing to run');
  if (torch && backends.some((b) => TORCH_BACKENDS.has(b))) {
    const drift = await torchPresetDrift(torch, presets);
    if (drift.length)
      fail(
        `bench/torch_ref.py's PRESETS no longer match src/config.ts (update the Python mirror):\n  ${drift.join('\n  ')}`,
      );
  }
  const skipped40 = backends.filter((b) => !batch40(b) && b !== 'cpu');
  if (
    args.paperBatch40 === undefined &&
    !args.batchGiven &&
    skipped40.length &&
    presets.includes('paper') &&
    args.modes.includes('train')
  ) {
    notes.push(
      `paper-preset training at the paper's batch 40 is opt-in on ${skipped40.join(', ')} (--paper-batch40): wasm runs out of its 4 GB heap`,
    );
  }

  // Rounds: the whole plan again and again rather than each cell N times in a row. Within a round the cells run
  // measurement by measurement (every backend's small infer, then every backend's small train, ...), so the cells a
  // ratio compares run seconds apart, not a whole plan apart: on this VM the same cell drifts 20-40% over minutes.
  // The table keeps the plan's order (backend by backend).
  const measurement = (c: Cell) => `${c.preset}\0${c.mode}\0${c.batch}`;
  const measurements = [...new Set(cells.map(measurement))];
  const runOrder = [...cells].sort(
    (a, b) => measurements.indexOf(measurement(a)) - measurements.indexOf(measurement(b)),
  );
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dfer-bench-'));
  const rounds: CellResult[][] = [];
  try {
    let runs = 0; // numbers the result files across rounds: a child that dies must not leave us an earlier round's file
    for (let round = 1; round <= args.rounds; round++) {
      const results: CellResult[] = [];
      const queue = [...runOrder];
      const roundTag = args.rounds > 1 ? `[round ${round}/${args.rounds}] ` : '';
      let n = 0;
      while (queue.length) {
        const cell = queue.shift()!;
        n++;
        const label = `${cell.backend} ${cell.preset} ${cell.mode} batch ${cell.batch}${cell.retryOf ? ` (retry: batch ${cell.retryOf} ran out of memory)` : ''}`;
        process.stderr.write(`${roundTag}[${n}/${n + queue.length}] ${label}\n`);
        const r = TORCH_BACKENDS.has(cell.backend)
          ? await runTorchCell(cell, torch!, torchThreads)
          : await runCellInChild(cell, dir, ++runs);
        if (cell.retryOf) r.retryOf = cell.retryOf;
        results.push(r);
        if (r.status === 'ok') {
          process.stderr.write(
            `  -> ${fmt(r.medianSeconds, 2)} s/step, ${fmt(r.clipsPerSecond, 2)} clips/s, peak RSS ${fmt(r.maxRssMiB, 0)} MiB (${r.wallSeconds.toFixed(0)} s)\n`,
          );
        }
        // A training cell that ran out of memory at the default batch is retried once at half the batch, so the table
        // still has a training figure for that preset (batch 40 is not retried: it is an explicit what-if). The retry
        // belongs to this round, next to the cells it is compared with.
        if (
          r.status === 'oom' &&
          args.oomRetry &&
          cell.mode === 'train' &&
          !cell.retryOf &&
          cell.batch === args.batch &&
          cell.batch > 1
        ) {
          queue.unshift({ ...cell, batch: Math.floor(cell.batch / 2), retryOf: cell.batch });
        }
      }
      rounds.push(results);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const planIndex = (r: CellResult) =>
    cells.findIndex(
      (c) =>
        c.backend === r.backend && c.preset === r.preset && c.mode === r.mode && c.batch === (r.retryOf ?? r.batch),
    );
  const groups = groupByKey(rounds).sort((a, b) => planIndex(a[0].result) - planIndex(b[0].result)); // stable: a retry follows its cell
  const results = groups.map((g) => aggregate(g.map((x) => x.result)));
  for (const g of groups) {
    const note = partialFailureNote(g, args.rounds);
    if (note) notes.push(note);
  }

  // Ratios: clips/s against PyTorch in the same preset/mode/batch when it was measured; otherwise against wasm (or
  // the first backend). A row whose preferred reference has no figure at its preset/mode/batch falls back down the list.
  // A GPU row (webgpu) is compared with PyTorch on the GPU in strict float32 first; a CPU row with PyTorch on the CPU.
  const refs = [...new Set([PYTORCH, PYTORCH_CUDA, 'wasm', backends[0]].filter((b) => backends.includes(b)))];
  const gpuRefs = [...new Set([PYTORCH_CUDA, ...refs])].filter((b) => backends.includes(b));
  const refBackend = refs[0];
  setRatios(
    results.filter((r) => !GPU_BACKENDS.has(r.backend)),
    rounds,
    refs,
  );
  setRatios(
    results.filter((r) => GPU_BACKENDS.has(r.backend)),
    rounds,
    gpuRefs,
  );
  const torchInfo = results.find((r) => r.torch)?.torch;
  if (torchInfo?.blas && /reference|netlib/i.test(torchInfo.blas)) {
    notes.push(
      `this PyTorch links the reference (netlib) BLAS${torchInfo.sgemmGflops ? ` (sgemm ${torchInfo.sgemmGflops.toFixed(1)} GFLOPS)` : ''}, not OpenBLAS or MKL: ` +
        'its Linear layers and matmuls (the transformers) are slow, which flatters the ratios against it; ' +
        "with Debian's libopenblas0-pthread installed, libblas.so.3 points to OpenBLAS instead.",
    );
  }
  const machine = { ...machineInfo(), loadAverage1mAtStart: loadAtStart, loadAverage1mAtEnd: os.loadavg()[0] };
  const runtimeSeconds = (performance.now() - started) / 1000;

  if (args.json) {
    const lines = results.map((r) =>
      JSON.stringify({
        preset: r.preset,
        mode: r.mode,
        batch: r.batch,
        backend: r.backend,
        status: r.status,
        clips_per_s: r.clipsPerSecond,
        median_s: r.medianSeconds,
        ratio: r.ratio,
        ratio_ref: r.ratioRef,
        ...(args.rounds > 1 ? { ratio_rounds: r.ratioRounds ?? null, rounds: args.rounds } : {}),
        max_rss_mib: r.maxRssMiB,
        steps: r.measuredSteps,
        step_seconds: r.stepSeconds,
        warmup_seconds: r.warmupSeconds,
        threads: r.threads,
        wasm_heap_mib: r.wasmHeapMiB,
        gpu_peak_mib: r.gpuPeakMiB,
        ...(r.gpu ? { gpu: r.gpu } : {}),
        tensors_flat: r.tensorsFlat,
        tensors_after_step: r.tensorsAfterStep,
        tensors_left_after_dispose: r.tensorsLeftAfterDispose,
        last_loss: r.lastLoss,
        wall_s: r.wallSeconds,
        ...(r.retryOf ? { retry_of: r.retryOf } : {}),
        ...(r.error ? { error: r.error } : {}),
        ...(r.torch
          ? {
              torch: r.torch.version,
              memory_format: r.torch.memoryFormat,
              blas: r.torch.blas,
              sgemm_gflops: r.torch.sgemmGflops,
            }
          : {}),
      }),
    );
    const summary = {
      reference: refBackend,
      ...(args.rounds > 1 ? { rounds: args.rounds } : {}),
      runtime_s: runtimeSeconds,
      pytorch: torch
        ? { python: torch.python, torch: torch.version, threads: torchThreads, openblas_num_threads: 1 }
        : null,
      notes,
      machine: {
        cpu_model: machine.cpuModel,
        cores: machine.cores,
        available_parallelism: machine.availableParallelism,
        memory_gib: machine.memoryGiB,
        platform: machine.platform,
        node: machine.node,
        tfjs: machine.tfjs,
        tfjs_core: machine.tfjsCore,
        tfjs_backend_wasm: machine.tfjsBackendWasm,
        load_average_1m_at_start: machine.loadAverage1mAtStart,
        load_average_1m_at_end: machine.loadAverage1mAtEnd,
      },
    };
    lines.push(JSON.stringify({ summary }));
    process.stdout.write(`${lines.join('\n')}\n`);
  } else {
    const wasmThreads = results.find((r) => r.backend === 'wasm' && r.threads !== null)?.threads;
    const lines: string[] = [];
    lines.push(
      'dfer throughput: clips of 16 frames, random input; median seconds per step after warm-up; clips/s = batch / median',
    );
    lines.push(
      `machine: ${machine.cpuModel}, ${machine.cores} cores (${machine.availableParallelism} available), ${machine.memoryGiB.toFixed(1)} GiB RAM, ${machine.platform}`,
    );
    lines.push(
      `node ${machine.node}, @tensorflow/tfjs ${machine.tfjs} (core ${machine.tfjsCore}, wasm ${machine.tfjsBackendWasm}), backends: ${tfjsAvailable.join(', ')}` +
        (wasmThreads !== undefined ? `; wasm threads: ${wasmThreads}` : ''),
    );
    if (torch && backends.includes(PYTORCH)) {
      lines.push(
        `pytorch: bench/torch_ref.py (the same network, same FLOPs) on torch ${torchInfo?.version ?? torch.version} (${torch.python}), ${torchThreads} threads, ` +
          `OPENBLAS_NUM_THREADS=1${OPENBLAS_PINNED ? ' (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for PyTorch alone)' : ''}${torchInfo?.memoryFormat ? `, ${torchInfo.memoryFormat}` : ''}${torchInfo?.blas ? `, BLAS: ${torchInfo.blas}` : ''}`,
      );
    }
    const busy = Math.max(machine.loadAverage1mAtStart, machine.loadAverage1mAtEnd);
    lines.push(
      `load average (1 min): ${machine.loadAverage1mAtStart.toFixed(2)} at start, ${machine.loadAverage1mAtEnd.toFixed(2)} at end` +
        (busy > 0.5
          ? ' (includes this benchmark; anything else running competes for the cores and lowers the figures)'
          : ''),
    );
    lines.push('');
    const header = [
      'backend',
      'preset',
      'mode',
      'batch',
      'steps',
      's/step',
      'min..max',
      'clips/s',
      `vs ${refBackend}`,
      'peak RSS',
      'wasm heap',
      'peak GPU',
      'tensors',
    ];
    const rows: string[][] = [header];
    for (const r of results) {
      const name = [r.backend, r.preset, r.mode, String(r.batch)];
      if (r.status !== 'ok') {
        const what = r.status === 'oom' ? 'out of memory' : `error: ${(r.error ?? '').slice(0, 60)}`;
        rows.push([
          ...name,
          '-',
          what,
          '',
          '-',
          '-',
          r.maxRssMiB ? `${fmt(r.maxRssMiB, 0)} MiB` : '-',
          r.wasmHeapMiB ? `${fmt(r.wasmHeapMiB, 0)} MiB` : '-',
          '-',
          '',
        ]);
        continue;
      }
      const tensors = r.tensorsFlat === null ? 'n/a' : r.tensorsFlat ? `flat ${r.tensorsAfterStep[0]}` : 'GROWING';
      const ratio =
        r.ratio === null
          ? '-'
          : `${r.ratio.toFixed(2)}x${ratioSpread(r)}${r.ratioRef !== refBackend ? ` (vs ${r.ratioRef})` : ''}`;
      rows.push([
        ...name,
        String(r.measuredSteps),
        fmt(r.medianSeconds, 2),
        `${fmt(Math.min(...r.stepSeconds), 2)}..${fmt(Math.max(...r.stepSeconds), 2)}`,
        fmt(r.clipsPerSecond, 2),
        ratio,
        `${fmt(r.maxRssMiB, 0)} MiB`,
        r.wasmHeapMiB === null ? '-' : `${fmt(r.wasmHeapMiB, 0)} MiB`,
        r.gpuPeakMiB === null ? '-' : `${fmt(r.gpuPeakMiB, 0)} MiB`,
        tensors,
      ]);
    }
    lines.push(table(rows, new Set([3, 4, 5, 7, 8, 9, 10, 11])));
    const gpus = [...new Set(results.map((r) => r.gpu).filter(Boolean))];
    if (gpus.length) lines.push(`GPU: ${gpus.join('; ')}`);
    lines.push('');
    if (refBackend === PYTORCH || refBackend === PYTORCH_CUDA) {
      lines.push(
        `vs ${refBackend}: dfer clips/s divided by PyTorch's clips/s at the same preset, mode and batch, measured in this run (>1: dfer is faster).`,
      );
    }
    if (backends.includes(PYTORCH_CUDA)) {
      lines.push(
        `${PYTORCH_CUDA}: float32 with TF32 off (strict float32, like dfer); ${PYTORCH_CUDA_TF32}: TF32 allowed in matmuls and convolutions. GPU rows are compared with ${PYTORCH_CUDA}.`,
      );
    }
    if (args.rounds > 1) {
      lines.push(
        `--rounds ${args.rounds}: each cell measured ${args.rounds} times, interleaved; clips/s from the pooled steps, the ratio is the median ` +
          'of the per-round ratios (each against the reference measured in the same round), their lowest-highest in brackets.',
      );
    }
    for (const r of results.filter((x) => x.retryOf)) {
      lines.push(
        `note: ${r.backend} ${r.preset} train at batch ${r.retryOf} ran out of memory; batch ${r.batch} is the retry at half the batch.`,
      );
    }
    for (const r of results.filter((x) => x.status === 'oom')) {
      const heap =
        r.wasmHeapMiB !== null && r.wasmHeapMiB > 3500
          ? `wasm heap at ${r.wasmHeapMiB.toFixed(0)} of the 4096 MiB a 32-bit wasm memory can hold; `
          : '';
      lines.push(
        `note: ${r.backend} ${r.preset} ${r.mode} batch ${r.batch} ran out of memory (${heap}${(r.error ?? '').slice(0, 100)})`,
      );
    }
    if (backends.includes('cpu')) {
      const cpuVsWasm = results
        .filter((r) => r.backend === 'cpu' && r.clipsPerSecond)
        .map(
          (r) =>
            okAt(results, 'wasm', r)?.clipsPerSecond && r.clipsPerSecond! / okAt(results, 'wasm', r)!.clipsPerSecond!,
        )
        .filter((x): x is number => typeof x === 'number' && x > 0);
      const measured = cpuVsWasm.length
        ? `measured here: ${[...new Set([1 / Math.max(...cpuVsWasm), 1 / Math.min(...cpuVsWasm)].map((x) => x.toFixed(0)))].join('-')}x slower; `
        : '';
      lines.push(
        `note: the pure-JS cpu backend is far slower than wasm (${measured}roughly 10-100x, worst for training); by default it runs the small preset only.`,
      );
    }
    for (const note of notes) lines.push(`note: ${note}`);
    if (!backends.includes('tensorflow') && !tfjsAvailable.includes('tensorflow')) {
      lines.push('note: native TensorFlow (@tensorflow/tfjs-node) is not installed, so it is not measured.');
    }
    for (const r of results.filter((x) => x.tensorsFlat === false)) {
      lines.push(
        `WARNING: ${r.backend} ${r.preset} ${r.mode} batch ${r.batch}: tf.memory().numTensors grows between steps (${r.tensorsAfterStep.join(', ')}): a leak`,
      );
    }
    const leftover = results.filter((x) => x.tensorsLeftAfterDispose !== null && x.tensorsLeftAfterDispose !== 0);
    if (leftover.length) {
      const byPreset = [...new Set(leftover.map((r) => `${r.preset} ${r.tensorsLeftAfterDispose}`))].join(', ');
      lines.push(
        `WARNING: tensors still alive after disposing the model, optimizer and inputs in ${leftover.length} of ${results.length} cells ` +
          `(${byPreset}): not a per-step leak, but memory a long-lived process does not get back.`,
      );
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
