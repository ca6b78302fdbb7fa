// Writing files so that no reader ever sees half of one: a temporary file beside the target, fsync, rename. A write
// that fails (a full disk) removes its temporary file and says which file and how many bytes; temporaries left by a
// killed process are removed by the next writer of the directory (removeStaleTemporaries, called under its lock).
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
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

export class DirectoryInUseError extends DferError {}

/**
 * A folder of files, written whole: into `<dir>.tmp-<pid>` first, then renamed into place. An existing `dir` is
 * replaced only when it is empty or was written this way before (it holds `marker`), so that a mistyped path never
 * deletes someone's folder. Readers see the old folder or the new one, never a mix.
 */
export function writeDirAtomic(
  dir: string,
  files: { name: string; data: Uint8Array | string }[],
  marker: string,
): void {
  if (existsSync(dir) && readdirSync(dir).length && !existsSync(join(dir, marker)))
    throw new DirectoryInUseError(`${dir}: exists and holds other files (no ${marker}); choose a new or empty folder`);
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    mkdirSync(tmp, { recursive: true });
    for (const f of files) writeFileAtomic(join(tmp, f.name), f.data);
    if (existsSync(dir)) renameSync(dir, old);
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (existsSync(old) && !existsSync(dir)) renameSync(old, dir);
    throw err;
  }
  rmSync(old, { recursive: true, force: true });
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
