// Writing files so that no reader ever sees half of one: a temporary file beside the target, fsync, rename. A write
// that fails (a full disk) removes its temporary file and says which file and how many bytes; temporaries left by a
// killed process are removed by the next writer of the directory (removeStaleTemporaries, called under its lock).
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DferError, EXIT } from './errors.js';

const TMP = /\.tmp-(\d+)$/;

/** No space left for a file (exit code 6): names the file, the bytes it needed and what was free. */
export class DiskFullError extends DferError {
  override readonly exitCode = EXIT.diskFull;
  constructor(
    readonly file: string,
    readonly bytes: number,
    readonly free: number | null,
  ) {
    const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    super(
      `no space left to write ${file} (${mb(bytes)}${free !== null ? `; ${mb(free)} free on its filesystem` : ''}); free some space and run the same command again`,
    );
  }
}

function freeBytes(dir: string): number | null {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeFileSync(fd, data); // loops until every byte is written
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT')
      throw new DiskFullError(
        file,
        typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength,
        freeBytes(dirname(file)),
      );
    throw err;
  }
}

/** Remove `*.tmp-<pid>` files of other processes in `dir` (not recursive): leftovers of a writer that was killed.
 * Call it only while holding the directory's lock. Returns the names removed. */
export function removeStaleTemporaries(dir: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = TMP.exec(name);
    if (m && Number(m[1]) !== process.pid) {
      rmSync(join(dir, name), { force: true });
      removed.push(name);
    }
  }
  return removed;
}
