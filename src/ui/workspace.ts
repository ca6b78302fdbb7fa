// Views of `dfer init` and `dfer config`, and the line prepare and demo print when they touch the workspace.
import { relative } from 'node:path';
import type { ResolvedTrainSettings } from '../train/options.js';
import type { Workspace, WorkspaceChange } from '../workspace.js';
import type { View } from './output.js';
import { table } from './table.js';
import { sourceText } from './train-text.js';

const here = (p: string) => relative(process.cwd(), p) || '.';

/** One line for a workspace that was created or changed ("" when nothing changed). */
export function workspaceChangeLine(c: WorkspaceChange): string {
  if (c.created) return `created the workspace ${here(c.file)}: ${c.changes.join(', ') || 'empty'}`;
  return c.changes.length ? `updated the workspace ${here(c.file)}: ${c.changes.join(', ')}` : '';
}

export function initView(c: WorkspaceChange, ws: Workspace): View {
  const line = workspaceChangeLine(c) || `the workspace ${here(c.file)} already says that; nothing changed`;
  const next = ws.data
    ? 'next: dfer train (fold 1), dfer train --folds 1-5, dfer eval, dfer ablate --gca --ial; dfer config shows every setting'
    : 'next: dfer init --data <prepared set> (dfer prepare makes one)';
  return { json: { file: c.file, created: c.created, changes: c.changes, workspace: ws.raw }, text: [line, next] };
}

export interface ConfigReport {
  workspace: Workspace | null;
  /** Null when no prepared set is named anywhere. */
  resolved: ResolvedTrainSettings | null;
  /** Where dfer train would write fold k's run. */
  runDir?: string;
  fold?: string;
}

export function configView(r: ConfigReport): View {
  const ws = r.workspace;
  const text = [ws ? `workspace ${here(ws.file)}` : 'no workspace (dfer init makes one: a dfer.json here)'];
  if (!r.resolved) {
    text.push('no prepared set: pass --data, set DFER_DATA, or run dfer init --data <prepared set>');
    return { json: { workspace: ws?.file ?? null, data: null }, text };
  }
  const { settings: resolvedSettings, sources, protocol, dataset, runs, folds } = r.resolved;
  const settings = resolvedSettings as unknown as Record<string, unknown>;
  text.push(
    `data ${String(settings.data)} (${sourceText(sources.data)}): ${protocol.name === 'custom' ? 'custom set' : protocol.name}, folds ${folds.join(', ')}`,
    `protocol ${protocol.name}: ${protocol.basis}`,
    `runs ${runs.path} (${sourceText(runs.from)})${r.runDir ? `; dfer train --fold ${r.fold} writes ${r.runDir}` : ''}`,
    '',
  );
  const keys = Object.keys(settings).filter((k) => k !== 'data' && k !== 'classes' && settings[k] !== undefined);
  text.push(
    ...table(
      ['setting', 'value', 'from'],
      keys.map((k) => [k, JSON.stringify(settings[k]), sourceText(sources[k])]),
    ),
  );
  const json = {
    workspace: ws?.file ?? null,
    data: settings.data,
    dataset,
    protocol: { name: protocol.name, basis: protocol.basis },
    folds,
    runs: runs.path,
    ...(r.runDir ? { runDir: r.runDir } : {}),
    settings: Object.fromEntries(['data', ...keys].map((k) => [k, { value: settings[k], from: sources[k] }])),
  };
  return { json, text };
}
