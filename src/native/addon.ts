// The native CPU engine's compiled half: native/build/Release/dfer_native.node, built from native/ by
// scripts/build-native.mjs during `npm ci` when oneDNN (Debian: libdnnl-dev) is installed, and absent otherwise.
// DFER_NATIVE=0 in the environment disables it even when built; DFER_NATIVE_ADDON=<file.node> loads another build.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Functions of the addon; each kernel file in native/src registers its own (see native/src/common.h). */
export type NativeAddon = Record<string, (...args: unknown[]) => unknown> & {
  info(): { onednn: string; threads: number; sourceHash: string };
};

export interface NativeStatus {
  available: boolean;
  /** oneDNN version and threads when available, otherwise why not (and what to do). */
  detail: string;
}

/** The package root: the nearest folder above this file with a package.json (src/native or dist/src/native). */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

export const ADDON_PATH =
  process.env.DFER_NATIVE_ADDON ?? path.join(packageRoot(), 'native', 'build', 'Release', 'dfer_native.node');
export const ENABLE_HINT = 'apt-get install libdnnl-dev, then npm run build:native';

/** The fingerprint of the sources beside the addon (build/Release/../..), computed by the same script binding.gyp
 * compiled into it (native/source-hash.cjs); null when the sources are not there. */
function nativeSourceHash(): string | null {
  const dir = path.resolve(path.dirname(ADDON_PATH), '..', '..');
  const script = path.join(dir, 'source-hash.cjs');
  if (!existsSync(script) || !existsSync(path.join(dir, 'src'))) return null;
  const { sourceHash } = createRequire(import.meta.url)(script) as { sourceHash: (d: string) => string };
  return sourceHash(dir);
}

let loaded: { addon: NativeAddon | null; status: NativeStatus } | undefined;

function load(): { addon: NativeAddon | null; status: NativeStatus } {
  if (process.env.DFER_NATIVE === '0')
    return { addon: null, status: { available: false, detail: 'disabled by DFER_NATIVE=0' } };
  if (!existsSync(ADDON_PATH))
    return { addon: null, status: { available: false, detail: `not built (${ENABLE_HINT})` } };
  try {
    const addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
    const { onednn, threads, sourceHash } = addon.info();
    const current = nativeSourceHash();
    if (current && current !== sourceHash) {
      return {
        addon: null,
        status: {
          available: false,
          detail: `out of date: native/src changed since it was built (npm run build:native)`,
        },
      };
    }
    return { addon, status: { available: true, detail: `oneDNN ${onednn}, ${threads} threads` } };
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0];
    return { addon: null, status: { available: false, detail: `failed to load: ${msg} (${ENABLE_HINT})` } };
  }
}

/** The loaded addon, or null when it is not built, not loadable or disabled. */
export function nativeAddon(): NativeAddon | null {
  loaded ??= load();
  return loaded.addon;
}

export function nativeStatus(): NativeStatus {
  loaded ??= load();
  return loaded.status;
}
