// The native CPU engine's compiled half: native/build/Release/dfer_native.node, built from native/ by
// scripts/build-native.mjs during `npm ci` when oneDNN (Debian: libdnnl-dev) is installed, and absent otherwise.
// DFER_NATIVE=0 in the environment disables it even when built; DFER_NATIVE_ADDON=<file.node> loads another build.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Functions of the addon; each kernel file in native/src registers its own (see native/src/common.h). */
export type NativeAddon = Record<string, (...args: unknown[]) => unknown> & {
  info(): { onednn: string; threads: number };
};

export interface NativeStatus {
  available: boolean;
  /** oneDNN version and threads when available, otherwise why not (and what to do). */
  detail: string;
}

// src/native/addon.ts and dist/native/addon.js are both two levels below the package root.
export const ADDON_PATH =
  process.env.DFER_NATIVE_ADDON ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../native/build/Release/dfer_native.node');
export const ENABLE_HINT = 'apt-get install libdnnl-dev, then npm run build:native';

let loaded: { addon: NativeAddon | null; status: NativeStatus } | undefined;

function load(): { addon: NativeAddon | null; status: NativeStatus } {
  if (process.env.DFER_NATIVE === '0') return { addon: null, status: { available: false, detail: 'disabled by DFER_NATIVE=0' } };
  if (!existsSync(ADDON_PATH)) return { addon: null, status: { available: false, detail: `not built (${ENABLE_HINT})` } };
  try {
    const addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
    const { onednn, threads } = addon.info();
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
