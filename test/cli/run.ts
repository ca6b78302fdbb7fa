// Runs the built CLI (bin/run.js -> dist/commands) as a user would: a child process, its exit code and both streams.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'run.js');

if (!existsSync(join(ROOT, 'dist', 'commands', 'predict.js'))) {
  throw new Error('dist/commands is missing: run `npm run build` before the CLI tests');
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Working directory (default: the repository root). */
  cwd?: string;
  /** Written to the command's standard input (default: none, stdin ignored). */
  input?: string;
}

/**
 * Runs `dfer <args>`. Workspaces are off (DFER_WORKSPACE=none) unless a test's env sets DFER_WORKSPACE (to '' to
 * search from cwd as a user's shell does), so that a dfer.json a developer made in the repository changes no test.
 */
export function dfer(args: string[], env: NodeJS.ProcessEnv = {}, opts: RunOptions = {}): Promise<RunResult> {
  const { DEBUG: _debug, CI: _ci, ...inherited } = process.env;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...inherited, DFER_WORKSPACE: 'none', ...env },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** Parses stdout as the one JSON document --json promises (fails the test with both streams otherwise). */
export function json<T = Record<string, unknown>>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}

/** The lines of a stream, without the empty last one. */
export const lines = (s: string) => s.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);

export function tmpDir(): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'dfer-cli-'));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}
