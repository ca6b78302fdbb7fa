// Writing files so that no reader ever sees half of one: a temporary file beside the target, fsync, rename.
import { closeSync, fsyncSync, openSync, renameSync, writeFileSync } from 'node:fs';

export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeFileSync(fd, data); // loops until every byte is written
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
