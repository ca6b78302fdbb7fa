// One writer per directory: a run directory being trained, a prepared set being written. Two processes writing the
// same directory mix their files silently (two `dfer train --out x` interleave metrics.jsonl and evaluate each other's
// weights), so the writer holds a lock and a second one is refused at once, naming the holder.
//
// The lock is proper-lockfile's (a maintained, well-known scheme that works on network filesystems): an atomic
// mkdir of `<dir>/.dfer.lock`, whose mtime the holder refreshes every few seconds. Beside it `.dfer.lock.json` names
// the holder (pid, host, start time, command). A lock is stale, and taken over, when
//  - its holder is on this host and its pid is gone (no waiting: the lock is aged so that the library takes it
//    over), or
//  - it is held from another host (a shared filesystem, where the pid means nothing here) and its mtime has not been
//    refreshed for STALE_MS.
// A holder that finds its lock taken over (suspended for longer than STALE_MS) stops before writing again.
import { existsSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { removeStaleTemporaries, writeFileAtomic } from './atomic.js';
import { DferError, EXIT } from './errors.js';

export const LOCK_DIR = '.dfer.lock';
export const LOCK_OWNER = '.dfer.lock.json';
/** A lock from another host whose heartbeat is older than this is stale. Generous: a long synchronous step (a big
 * batch on wasm) delays the heartbeat. */
export const STALE_MS = 5 * 60_000;
const HEARTBEAT_MS = 10_000;

export interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
}

/** Another process holds the directory (exit code 5). */
export class LockBusyError extends DferError {
  override readonly exitCode = EXIT.busy;
  constructor(
    readonly dir: string,
    readonly owner: LockOwner | null,
  ) {
    const who = owner
      ? `pid ${owner.pid} on ${owner.host}, since ${owner.startedAt}${owner.command ? `: ${owner.command}` : ''}`
      : 'a process whose details are not recorded';
    super(`${dir} is in use by another dfer process (${who}); wait for it to finish, or use another directory`);
  }
}

export interface DirLock {
  dir: string;
  /** Throws LockBusyError when another process took the lock over (this one was suspended past STALE_MS). */
  assertHeld(): void;
  release(): void;
}

function readOwner(dir: string): LockOwner | null {
  try {
    return JSON.parse(readFileSync(join(dir, LOCK_OWNER), 'utf8')) as LockOwner;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * The live holder of `dir`'s lock, or null: on this host a holder whose process is alive; from another host (a shared
 * filesystem) one whose heartbeat is fresher than STALE_MS. Read-only: for listing runs, not for taking them.
 */
export function lockHolder(dir: string, now = Date.now()): LockOwner | null {
  const lockPath = join(dir, LOCK_DIR);
  if (!existsSync(lockPath)) return null;
  const owner = readOwner(dir);
  if (owner && owner.host === hostname()) return alive(owner.pid) ? owner : null;
  try {
    return now - statSync(lockPath).mtimeMs < STALE_MS
      ? (owner ?? { pid: 0, host: '?', startedAt: '', command: '' })
      : null;
  } catch {
    return null;
  }
}

/** Lock `dir` (which must exist) for this process, or throw LockBusyError naming the holder. */
export async function lockDirectory(dir: string, command = process.argv.slice(2).join(' ')): Promise<DirLock> {
  const lockPath = join(dir, LOCK_DIR);
  const opts = { lockfilePath: lockPath, realpath: false };
  const owner = readOwner(dir);
  if (owner && owner.host === hostname() && existsSync(lockPath)) {
    // Same host: the pid decides. A live holder (not us) is refused at once. A dead one's lock is made to look stale
    // (its mtime set to the epoch) so that proper-lockfile's own takeover removes it; the owner is read again just
    // before, which narrows the window in which two newcomers race for the same dead lock.
    if (owner.pid !== process.pid && alive(owner.pid)) throw new LockBusyError(dir, owner);
    const again = readOwner(dir);
    if (again && again.pid === owner.pid && again.startedAt === owner.startedAt) {
      try {
        utimesSync(lockPath, 0, 0);
      } catch {
        /* gone meanwhile: nothing to age */
      }
    }
  }
  let compromised: Error | null = null;
  try {
    await lockfile.lock(dir, {
      ...opts,
      stale: STALE_MS,
      update: HEARTBEAT_MS,
      retries: 0,
      onCompromised: (err) => {
        compromised = err;
      },
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') throw new LockBusyError(dir, readOwner(dir));
    throw err;
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    // A lock taken over by another process is theirs now: touch nothing.
    if (compromised) return;
    rmSync(join(dir, LOCK_OWNER), { force: true });
    try {
      lockfile.unlockSync(dir, opts); // synchronous: release also runs on the way out of an exiting process
    } catch {
      /* already gone */
    }
  };
  try {
    removeStaleTemporaries(dir); // the directory is ours now: any temporary file is a killed writer's
    const me: LockOwner = {
      pid: process.pid,
      host: hostname(),
      startedAt: new Date().toISOString(),
      command: `dfer ${command}`.trim(),
    };
    writeFileAtomic(join(dir, LOCK_OWNER), JSON.stringify(me, null, 2) + '\n');
  } catch (err) {
    release();
    throw err;
  }
  return {
    dir,
    assertHeld() {
      if (compromised) throw new LockBusyError(dir, readOwner(dir));
    },
    release,
  };
}
