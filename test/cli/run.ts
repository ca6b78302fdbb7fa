// Runs the built CLI (bin/run.js -> dist/commands) as a user would: a child process, its exit code and both streams.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'run.js');

if (!existsSync(join(ROOT, 'dist', 'commands', 'predict.js'))) {
  throw new Error('dist/commands is missing: run `npm run build` before the CLI tests');
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function dfer(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const { DEBUG: _debug, CI: _ci, ...inherited } = process.env;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
