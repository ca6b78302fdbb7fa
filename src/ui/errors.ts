// Which errors are the user's input (exit 3, one line, no stack) and which are dfer's bugs (exit 1).
import { DferError, EXIT } from '../errors.js';

/** System errors about a path the user gave (an --out under a file, a read-only directory): bad input too. */
const PATH_ERRNOS = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'EROFS', 'EEXIST']);

export interface DescribedError {
  code: number;
  message: string;
  /** The stack, for unexpected errors when debugging is on. */
  detail?: string;
}

/** DEBUG=dfer (or a list containing dfer, or *) shows stacks of unexpected errors. */
export function debugEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.DEBUG ?? '').split(/[\s,]+/).some((d) => d === '*' || d === 'dfer' || d === 'dfer*' || d === 'dfer:*');
}

export function describeError(err: unknown, env: NodeJS.ProcessEnv = process.env): DescribedError {
  const e = err instanceof Error ? err : new Error(String(err));
  // The core's errors carry their exit code (bad input, busy, disk full, nothing named to work on: src/errors.ts).
  if (e instanceof DferError) return { code: e.exitCode, message: e.message };
  if ((e as NodeJS.ErrnoException).code === 'ENOSPC') {
    return {
      code: EXIT.diskFull,
      message: `${e.message}: no space left on the device; free some space and run the same command again`,
    };
  }
  const sys = e as NodeJS.ErrnoException;
  if (sys.path && sys.code && PATH_ERRNOS.has(sys.code)) return { code: EXIT.badInput, message: e.message };
  const message = e.message || e.name;
  if (debugEnabled(env)) return { code: EXIT.unexpected, message, detail: e.stack };
  return { code: EXIT.unexpected, message: `${message} (unexpected; DEBUG=dfer shows the stack)` };
}
