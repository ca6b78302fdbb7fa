// The workspace: a dfer.json found in the current directory or its parents (as npm finds package.json). It records
// what a researcher would otherwise type every time: the default prepared set, where runs go, and training defaults.
//   { "version": 1, "data": "data/dfew", "runs": "runs", "train": { "preset": "paper", "batch": 32 } }
// Paths in it are relative to the folder holding it, so a workspace can be moved or shared as a whole.
// DFER_WORKSPACE names a dfer.json (or its folder) instead of searching; DFER_WORKSPACE=none turns workspaces off.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { DferError } from './errors.js';

export const WORKSPACE_FILE = 'dfer.json';

export interface WorkspaceFile {
  version: 1;
  /** The default prepared set (dfer prepare's --out). */
  data?: string;
  /** Where runs go: <runs>/<set>/<preset>-fold<k> (default "runs"). */
  runs?: string;
  /** Training defaults, named as dfer train's flags in camelCase (as a --config file). */
  train?: Record<string, unknown>;
}

export interface Workspace {
  /** Absolute path of dfer.json. */
  file: string;
  /** The folder holding it; the workspace's paths are relative to it. */
  root: string;
  /** The default prepared set, absolute; undefined when the workspace names none. */
  data?: string;
  /** The runs folder, absolute. */
  runs: string;
  train: Record<string, unknown>;
  raw: WorkspaceFile;
}

/** dfer.json cannot be read or holds something else: bad input (exit 3), naming the file and the field. */
export class WorkspaceError extends DferError {}

const isFile = (p: string) => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

/** The workspace in effect for `cwd`: DFER_WORKSPACE, else the nearest dfer.json in cwd or a parent; null if none. */
export function findWorkspace(cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): Workspace | null {
  const named = env.DFER_WORKSPACE;
  if (workspacesOff(env)) return null;
  if (named) {
    const file = isFile(named) ? resolve(named) : join(resolve(named), WORKSPACE_FILE);
    if (!isFile(file))
      throw new WorkspaceError(
        `DFER_WORKSPACE=${named}: no ${WORKSPACE_FILE} there (create one with dfer init, or unset DFER_WORKSPACE)`,
      );
    return readWorkspace(file);
  }
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const file = join(dir, WORKSPACE_FILE);
    if (isFile(file)) return readWorkspace(file);
    if (dirname(dir) === dir) return null;
  }
}

export function readWorkspace(file: string): Workspace {
  let raw: WorkspaceFile;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new WorkspaceError(
      `${file}: not valid JSON (${(err as Error).message}); fix it, or remove it and run dfer init`,
    );
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new WorkspaceError(`${file}: expected a JSON object like {"version": 1, "data": "data/dfew"}`);
  if (raw.version !== 1)
    throw new WorkspaceError(`${file}: "version" is ${JSON.stringify(raw.version)}; this dfer reads version 1`);
  for (const key of ['data', 'runs'] as const) {
    if (raw[key] !== undefined && (typeof raw[key] !== 'string' || !raw[key]))
      throw new WorkspaceError(`${file}: "${key}" must be a path (a non-empty string)`);
  }
  if (raw.train !== undefined && (typeof raw.train !== 'object' || raw.train === null || Array.isArray(raw.train))) {
    throw new WorkspaceError(`${file}: "train" must be an object of train options (names as the flags, camelCase)`);
  }
  const unknown = Object.keys(raw).filter((k) => !['version', 'data', 'runs', 'train', '$schema'].includes(k));
  if (unknown.length)
    throw new WorkspaceError(
      `${file}: unknown field(s) ${unknown.join(', ')} (a workspace has version, data, runs and train)`,
    );
  const root = dirname(resolve(file));
  return {
    file: resolve(file),
    root,
    ...(raw.data ? { data: resolve(root, raw.data) } : {}),
    runs: resolve(root, raw.runs ?? 'runs'),
    train: raw.train ?? {},
    raw,
  };
}

/** `path` relative to `root` when it lies below it (as the workspace stores and shows paths), else absolute. */
export function pathBelow(root: string, path: string): string {
  const rel = relative(root, resolve(path));
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : resolve(path);
}

export interface WorkspaceUpdate {
  data?: string;
  runs?: string;
  /** Train defaults to set (undefined values are left as they are). */
  train?: Record<string, unknown>;
}

export interface WorkspaceChange {
  file: string;
  created: boolean;
  /** What changed, one entry per field: "data: data/synth (was data/dfew)". Empty when nothing did. */
  changes: string[];
}

/**
 * Creates the workspace at `root` (when `ws` is null) or updates `ws`, atomically; paths are given relative to the
 * current directory and stored relative to the workspace.
 */
export function writeWorkspace(ws: Workspace | null, root: string, update: WorkspaceUpdate): WorkspaceChange {
  const file = ws?.file ?? join(resolve(root), WORKSPACE_FILE);
  // A dfer.json that was not in effect (DFER_WORKSPACE pointed elsewhere) is still updated, never overwritten.
  ws ??= isFile(file) ? readWorkspace(file) : null;
  const base = ws?.root ?? resolve(root);
  const next: WorkspaceFile = ws ? { ...ws.raw, train: { ...(ws.raw.train ?? {}) } } : { version: 1, train: {} };
  const changes: string[] = [];
  for (const key of ['data', 'runs'] as const) {
    const value = update[key];
    if (value === undefined) continue;
    const s = pathBelow(base, value);
    if (next[key] !== s) changes.push(`${key}: ${s}${next[key] ? ` (was ${next[key]})` : ''}`);
    next[key] = s;
  }
  for (const [key, value] of Object.entries(update.train ?? {})) {
    if (value === undefined) continue;
    if (JSON.stringify(next.train![key]) !== JSON.stringify(value))
      changes.push(
        `train.${key}: ${JSON.stringify(value)}${next.train![key] !== undefined ? ` (was ${JSON.stringify(next.train![key])})` : ''}`,
      );
    next.train![key] = value;
  }
  if (!Object.keys(next.train!).length) delete next.train;
  const created = !ws && !existsSync(file);
  if (created || changes.length) writeFileAtomic(file, JSON.stringify(next, null, 2) + '\n');
  return { file, created, changes };
}

/**
 * After dfer prepare or dfer demo: make `data` the default set of the workspace in effect, or of a new dfer.json in
 * `cwd` when there is none. Null when workspaces are turned off (DFER_WORKSPACE=none).
 */
export function adoptPreparedSet(
  data: string,
  update: Omit<WorkspaceUpdate, 'data'> = {},
  cwd = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): WorkspaceChange | null {
  if (workspacesOff(env)) return null;
  return writeWorkspace(findWorkspace(cwd, env), cwd, { ...update, data });
}

/** DFER_WORKSPACE=none (or 0): no workspace is read or written. */
export function workspacesOff(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.DFER_WORKSPACE === 'none' || env.DFER_WORKSPACE === '0';
}
